// The deployment defects a production synth found: grants on imported secrets and keys, addTo twice,
// and source maps in the layer asset. Each is asserted on the synthesized template.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { OtelRelay } from '../../../infra/index.js';

let layerPath: string;
beforeAll(() => {
  layerPath = join(mkdtempSync(join(tmpdir(), 'relay-layer-')), 'layer');
  mkdirSync(join(layerPath, 'extensions'), { recursive: true });
  mkdirSync(join(layerPath, 'otel-relay'), { recursive: true });
  writeFileSync(join(layerPath, 'extensions/otel-relay'), '#!/bin/sh\n');
  chmodSync(join(layerPath, 'extensions/otel-relay'), 0o755);
  writeFileSync(join(layerPath, 'otel-relay/extension.js'), '//# sourceMappingURL=extension.js.map\n');
  writeFileSync(join(layerPath, 'otel-relay/extension.js.map'), '{"version":3}');
});

const ENV = { account: '123456789012', region: 'eu-west-1' };

function fn(stack: Stack, id = 'Fn'): LambdaFunction {
  return new LambdaFunction(stack, id, {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => 1;'),
  });
}

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

function statements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

describe('OtelRelay grants on imported resources', () => {
  it('grants a secret imported by name on its full-ARN pattern (name-??????)', () => {
    // Prepare
    const stack = new Stack(new App(), 'ByName', { env: ENV });
    const headersSecret = Secret.fromSecretNameV2(stack, 'Headers', 'otlp-headers');

    // Act
    new OtelRelay(stack, 'Relay', { layerPath, headersSecret, fallback: false }).addTo(fn(stack));

    // Assess: a partial ARN alone matches no real secret, so GetSecretValue would be denied.
    const template = Template.fromStack(stack);
    const secretGrants = statements(template).filter((s) =>
      JSON.stringify(s.Action).includes('secretsmanager:'),
    );
    expect(secretGrants).toHaveLength(1);
    expect(secretGrants[0]!.Action).toBe('secretsmanager:GetSecretValue');
    expect(JSON.stringify(secretGrants[0]!.Resource)).toMatch(/:secret:otlp-headers-\?\?\?\?\?\?"/);
  });

  it('grants kms:Decrypt on the key of an imported secret, through Secrets Manager only', () => {
    // Prepare
    const stack = new Stack(new App(), 'SecretKey', { env: ENV });
    const headersSecret = Secret.fromSecretNameV2(stack, 'Headers', 'otlp-headers');
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const headersSecretKey = Key.fromKeyArn(stack, 'HeadersKey', keyArn);

    // Act
    new OtelRelay(stack, 'Relay', { layerPath, headersSecret, headersSecretKey, fallback: false }).addTo(
      fn(stack),
    );

    // Assess
    const kms = statements(Template.fromStack(stack)).filter((s) =>
      JSON.stringify(s.Action).includes('kms:'),
    );
    expect(kms).toEqual([
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Resource: keyArn,
        Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
      }),
    ]);
  });

  it('writes an imported KMS-encrypted bucket with its key, granted through S3 only', () => {
    // Prepare
    const stack = new Stack(new App(), 'BucketKey', { env: ENV });
    const bucket = Bucket.fromBucketName(stack, 'Spill', 'team-spill');
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/99999999-2222-3333-4444-555555555555';
    const kmsKey = Key.fromKeyArn(stack, 'SpillKey', keyArn);

    // Act
    new OtelRelay(stack, 'Relay', { layerPath, fallback: { bucket, kmsKey } }).addTo(fn(stack));

    // Assess
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { OTEL_RELAY_FALLBACK_S3_KMS_KEY_ID: keyArn } },
    });
    const kms = statements(template).filter((s) => JSON.stringify(s.Action).includes('kms:'));
    expect(kms).toEqual([
      expect.objectContaining({
        Action: 'kms:GenerateDataKey',
        Resource: keyArn,
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
      }),
    ]);
  });
});

describe('OtelRelay.addTo twice', () => {
  it('adds the layer and each grant once, and applies the later flush override', () => {
    // Prepare
    const stack = new Stack(new App(), 'Twice', { env: ENV });
    const relay = new OtelRelay(stack, 'Relay', { layerPath, endpoint: 'https://c.example:4318' });
    const f = fn(stack);

    // Act
    relay.addTo(f);
    relay.addTo(f, { flush: 'end' });

    // Assess
    const template = Template.fromStack(stack);
    const [only] = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Layers: unknown[]; Environment: { Variables: Record<string, unknown> } };
    }[];
    expect(only!.Properties.Layers).toHaveLength(1);
    expect(only!.Properties.Environment.Variables.OTEL_RELAY_FLUSH).toBe('end');
    expect(statements(template).filter((s) => s.Action === 's3:PutObject')).toHaveLength(1);
  });

  it('refuses a second relay on the same function', () => {
    // Prepare
    const stack = new Stack(new App(), 'TwoRelays', { env: ENV });
    const f = fn(stack);
    new OtelRelay(stack, 'A', { layerPath, fallback: false }).addTo(f);

    // Act
    const second = () => new OtelRelay(stack, 'B', { layerPath, fallback: false }).addTo(f);

    // Assess
    expect(second).toThrow(/already has the relay from TwoRelays\/A; a second one would run two extensions/);
  });
});

describe('OtelRelayLayer asset', () => {
  it('leaves source maps out of the staged layer asset', () => {
    // Prepare
    const outdir = mkdtempSync(join(tmpdir(), 'cdk-asset-'));
    const app = new App({ outdir });
    const stack = new Stack(app, 'Asset', { env: ENV });

    // Act
    new OtelRelay(stack, 'Relay', { layerPath, fallback: false }).addTo(fn(stack));
    app.synth();

    // Assess
    const staged = readdirSync(outdir).filter((d) => d.startsWith('asset.'));
    const layerAsset = staged.find((d) => existsSync(join(outdir, d, 'otel-relay/extension.js')));
    expect(layerAsset).toBeDefined();
    expect(readdirSync(join(outdir, layerAsset!, 'otel-relay'))).toEqual(['extension.js']);
  });
});
