import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Code, Function as LambdaFunction, LayerVersion, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  defaultLayerPath,
  type FlushStrategy,
  OtelRelay,
  OtelRelayLayer,
  type OtelRelayProps,
} from '../../../infra/index.js';
import { parseFlushStrategy, parseOtlpHeaders } from '../../../src/extension/settings/index.js';
import { PRIVATE_ENCRYPTED_BUCKET } from './fallback-bucket.js';

/** A directory of the real layer's shape; the real dist/layer exists only once the extension builds. */
let layerPath: string;
beforeAll(() => {
  layerPath = join(mkdtempSync(join(tmpdir(), 'relay-layer-')), 'layer');
  mkdirSync(join(layerPath, 'extensions'), { recursive: true });
  mkdirSync(join(layerPath, 'otel-relay'), { recursive: true });
  writeFileSync(join(layerPath, 'extensions/otel-relay'), '#!/bin/sh\n');
  chmodSync(join(layerPath, 'extensions/otel-relay'), 0o755);
  writeFileSync(join(layerPath, 'otel-relay/extension.js'), '');
});

/** A Node.js function with inline code, in `stack`. */
function nodeFunction(
  stack: Stack,
  id = 'Fn',
  runtime = Runtime.NODEJS_22_X,
  environment?: Record<string, string>,
): LambdaFunction {
  return new LambdaFunction(stack, id, {
    runtime,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => 1;'),
    environment,
  });
}

function synth(props: Omit<OtelRelayProps, 'layerPath'> = {}, fnCount = 1) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const relay = new OtelRelay(stack, 'Relay', { layerPath, ...props });
  for (let i = 0; i < fnCount; i++) {
    const fn = nodeFunction(stack, `Fn${i}`, Runtime.NODEJS_22_X, { TABLE: 'orders' });
    relay.addTo(fn);
  }
  return { stack, relay, template: Template.fromStack(stack) };
}

/** Every IAM statement in the template, flattened. */
function statements(template: Template): { Action: string | string[]; Resource: unknown; Effect: string }[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: never[] } } }).Properties.PolicyDocument.Statement,
  );
}

const actions = (s: { Action: string | string[] }) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('OtelRelayLayer', () => {
  it('publishes the layer for Node.js 20, 22 and 24 on x86_64 and arm64, retained on removal', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    template.hasResource('AWS::Lambda::LayerVersion', {
      Properties: {
        CompatibleRuntimes: ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'],
        CompatibleArchitectures: ['x86_64', 'arm64'],
        LicenseInfo: 'Apache-2.0',
        LayerName: 'lambda-otel-relay',
      },
      DeletionPolicy: 'Retain',
    });
  });

  it('is built from dist/layer by default and says how to build it when missing', () => {
    expect(defaultLayerPath()).toBe(resolve(__dirname, '../../../dist/layer'));
    const stack = new Stack(new App(), 'Missing');
    expect(() => new OtelRelayLayer(stack, 'L', { path: join(layerPath, 'nope') })).toThrow(
      /has no extensions\/otel-relay; build the layer first with `npm run build:layer`/,
    );
  });
});

describe('OtelRelay.addTo', () => {
  it('adds the layer and the relay environment and keeps the function’s own variables', () => {
    const { template } = synth({ endpoint: 'https://otlp.example.com:4318', flush: 'periodic:5000' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Layers: [{ Ref: Match.stringLikeRegexp('^RelayLayer') }],
      Environment: {
        Variables: {
          TABLE: 'orders',
          OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com:4318',
          OTEL_RELAY_FLUSH: 'periodic:5000',
          OTEL_RELAY_FALLBACK_S3_URI: {
            'Fn::Join': [
              '',
              ['s3://', { Ref: Match.stringLikeRegexp('^RelayFallbackBucket') }, '/otel-relay/'],
            ],
          },
        },
      },
    });
  });

  it('grants s3:PutObject on the fallback prefix only, and nothing else on S3', () => {
    const { template } = synth();
    const s3 = statements(template).filter((s) => actions(s).some((a) => a.startsWith('s3:')));
    expect(s3).toHaveLength(1);
    expect(s3[0]).toMatchObject({
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: {
        'Fn::Join': [
          '',
          [{ 'Fn::GetAtt': [expect.stringMatching(/^RelayFallbackBucket/), 'Arn'] }, '/otel-relay/*'],
        ],
      },
    });
    expect(
      statements(template)
        .flatMap(actions)
        .filter((a) => a.startsWith('secretsmanager:')),
    ).toEqual([]);
  });

  it('creates an encrypted, private, expiring, TLS-only fallback bucket that outlives the stack', () => {
    const { template } = synth({ fallback: { expiration: Duration.days(7) } });
    template.resourceCountIs('AWS::S3::Bucket', 1);
    template.hasResource('AWS::S3::Bucket', {
      Properties: {
        ...PRIVATE_ENCRYPTED_BUCKET,
        LifecycleConfiguration: {
          Rules: [Match.objectLike({ ExpirationInDays: 7, Prefix: 'otel-relay/', Status: 'Enabled' })],
        },
      },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('uses a given bucket and prefix without creating one', () => {
    const app = new App();
    const stack = new Stack(app, 'Given');
    const bucket = Bucket.fromBucketName(stack, 'Existing', 'team-telemetry-spill');
    const relay = new OtelRelay(stack, 'Relay', { layerPath, fallback: { bucket, prefix: 'relay/orders' } });
    relay.addTo(nodeFunction(stack, 'Fn', Runtime.NODEJS_20_X));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { OTEL_RELAY_FALLBACK_S3_URI: 's3://team-telemetry-spill/relay/orders/' } },
    });
    const s3 = statements(template).filter((s) => actions(s).some((a) => a.startsWith('s3:')));
    expect(s3).toEqual([
      expect.objectContaining({
        Action: 's3:PutObject',
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::team-telemetry-spill/relay/orders/*']],
        },
      }),
    ]);
  });

  it('writes with the bucket’s KMS key and may only generate data keys with it', () => {
    const stack = new Stack(new App(), 'Kms', { env: { account: '123456789012', region: 'eu-west-1' } });
    const encryptionKey = new Key(stack, 'SpillKey');
    const bucket = new Bucket(stack, 'Spill', { encryption: BucketEncryption.KMS, encryptionKey });
    const relay = new OtelRelay(stack, 'Relay', { layerPath, fallback: { bucket } });
    relay.addTo(nodeFunction(stack));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          OTEL_RELAY_FALLBACK_S3_KMS_KEY_ID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SpillKey'), 'Arn'] },
        }),
      },
    });
    // Only through S3, and on the role (the key policy delegates to IAM), so imported keys work alike.
    const kms = statements(template).filter((s) => actions(s).some((a) => a.startsWith('kms:')));
    expect(kms).toEqual([
      expect.objectContaining({
        Action: 'kms:GenerateDataKey',
        Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
      }),
    ]);
  });

  it('reads headers from a secret with GetSecretValue on that secret only', () => {
    const app = new App();
    const stack = new Stack(app, 'Secret');
    const headersSecret = Secret.fromSecretCompleteArn(
      stack,
      'Headers',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:otlp-headers-AbCdEf',
    );
    const relay = new OtelRelay(stack, 'Relay', { layerPath, headersSecret, fallback: false });
    relay.addTo(nodeFunction(stack, 'Fn', Runtime.NODEJS_24_X));
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          OTEL_RELAY_HEADERS_SECRET_ARN:
            'arn:aws:secretsmanager:eu-west-1:123456789012:secret:otlp-headers-AbCdEf',
        },
      },
    });
    const env = Object.values(template.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    expect(Object.keys(env.Properties.Environment.Variables)).not.toContain('OTEL_EXPORTER_OTLP_HEADERS');
    expect(statements(template)).toEqual([
      expect.objectContaining({
        Action: 'secretsmanager:GetSecretValue',
        Resource: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:otlp-headers-AbCdEf',
      }),
    ]);
  });

  it('adds no bucket, grant or variable for the fallback when it is off', () => {
    const { template } = synth({ fallback: false });
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(statements(template)).toEqual([]);
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    expect(fn.Properties.Environment.Variables).toEqual({ TABLE: 'orders' });
  });

  it('shares one layer and one bucket between functions, with one grant each', () => {
    const { template } = synth({}, 3);
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    template.resourceCountIs('AWS::S3::Bucket', 1);
    expect(statements(template).filter((s) => actions(s).includes('s3:PutObject'))).toHaveLength(3);
  });

  it('uses a published layer version instead of building one, with a per-function flush override', () => {
    const stack = new Stack(new App(), 'Published');
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:layer:lambda-otel-relay:9';
    const relay = new OtelRelay(stack, 'Relay', {
      layer: LayerVersion.fromLayerVersionArn(stack, 'Published', arn),
      flush: 'adaptive',
      fallback: false,
    });
    relay.addTo(nodeFunction(stack), { flush: 'end' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::LayerVersion', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Layers: [arn],
      Environment: { Variables: { OTEL_RELAY_FLUSH: 'end' } },
    });
  });

  it('warns that inline headers are readable in the function configuration', () => {
    const { stack } = synth({ headers: 'x-api-key=abc' });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('prefer headersSecret'));
  });

  it('refuses non-Node.js runtimes, both kinds of headers, and unknown flush strategies', () => {
    const stack = new Stack(new App(), 'Bad');
    const relay = new OtelRelay(stack, 'Relay', { layerPath, fallback: false });
    const py = new LambdaFunction(stack, 'Py', {
      runtime: Runtime.PYTHON_3_12,
      handler: 'index.handler',
      code: Code.fromInline('def handler(e, c): return 1'),
    });
    expect(() => relay.addTo(py)).toThrow(/runs python3.12, which has no Node.js/);
    const headersSecret = Secret.fromSecretNameV2(stack, 'S', 'h');
    expect(() => new OtelRelay(stack, 'Both', { layerPath, headers: 'a=b', headersSecret })).toThrow(
      /either headers or headersSecret/,
    );
    expect(() => new OtelRelay(stack, 'Flush', { layerPath, flush: 'sometimes' as never })).toThrow(
      /not adaptive, end, continuous or periodic:<ms>/,
    );
  });

  // Values on both sides of the extension's rule: the construct must agree with the extension on each.
  const FLUSH_CANDIDATES = [
    'adaptive',
    'end',
    'continuous',
    'periodic:5000',
    'periodic:5s',
    'periodic:250ms',
    'periodic:1',
    'periodic:0',
    'periodic:0s',
    'periodic:5m',
    'periodic:',
    'periodic:-5',
    'sometimes',
    '',
  ];

  it.each(FLUSH_CANDIDATES)('accepts flush "%s" exactly when the extension does', (flush) => {
    const stack = new Stack(new App(), 'Flush');
    const accepted = parseFlushStrategy(flush) !== undefined;
    const make = () =>
      new OtelRelay(stack, 'Relay', { layerPath, fallback: false, flush: flush as FlushStrategy });
    if (accepted) expect(make).not.toThrow();
    else expect(make).toThrow(/not adaptive, end, continuous or periodic:<ms>/);
    const relay = new OtelRelay(stack, 'Default', { layerPath, fallback: false });
    const fn = nodeFunction(stack);
    const addTo = () => relay.addTo(fn, { flush: flush as FlushStrategy });
    if (accepted) expect(addTo).not.toThrow();
    else expect(addTo).toThrow(/not adaptive, end, continuous or periodic:<ms>/);
  });

  it('sets a periodic strategy in seconds as written, which the extension reads as ms', () => {
    const { template } = synth({ flush: 'periodic:5s' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ OTEL_RELAY_FLUSH: 'periodic:5s' }) },
    });
    expect(parseFlushStrategy('periodic:5s')).toEqual({ kind: 'periodic', intervalMs: 5000 });
  });

  it.each(['x-api-key=abc,x-team=ops', 'a=b,,', 'supersecretvalue', 'a=b,novalue', 'k=%zz'])(
    'accepts headers %j exactly when the extension uses every entry',
    (headers) => {
      const make = () => new OtelRelay(new Stack(new App(), 'Headers'), 'Relay', { layerPath, headers });
      if (parseOtlpHeaders(headers).problems.length === 0) expect(make).not.toThrow();
      else expect(make).toThrow(/OtelRelay: headers has an entry/);
    },
  );

  it('names a bad header entry without its value', () => {
    const make = () =>
      new OtelRelay(new Stack(new App(), 'Secretive'), 'Relay', { layerPath, headers: 'supersecretvalue' });
    expect(make).toThrow(/without "key=value"/);
    expect(make).not.toThrow(/supersecretvalue/);
  });
});
