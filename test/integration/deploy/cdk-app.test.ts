// The example CDK app, run the way `cdk synth` runs it (cdk.json: tsx app.ts) into a temporary
// cloud assembly; the synthesized template and the bundled function are checked.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { onlyResource, type Resource } from './template.js';

const execFileP = promisify(execFile);

let outdir: string;
let resources: Record<string, Resource>;
let cdkJson: { app: string };

beforeAll(async () => {
  // The layer comes from dist/layer, built by the test global setup (npm run build:layer).
  outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
  cdkJson = JSON.parse(readFileSync('infra/cdk.json', 'utf8'));
  expect(cdkJson.app).toBe('npx tsx app.ts');
  await execFileP(join(process.cwd(), 'node_modules/.bin/tsx'), ['app.ts'], {
    cwd: 'infra',
    timeout: 120_000,
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({
        otlpEndpoint: 'https://collector.internal:4318',
        flush: 'end',
      }),
    },
  });
  const template = JSON.parse(readFileSync(join(outdir, 'OtelRelayExample.template.json'), 'utf8'));
  resources = template.Resources;
}, 180_000);

const only = (type: string) => onlyResource(resources, type);

describe('the example CDK app', () => {
  it('deploys the function on Node.js 22 arm64 with the relay layer and settings from context', () => {
    const [layerId] = only('AWS::Lambda::LayerVersion');
    const [, fn] = only('AWS::Lambda::Function');
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Layers: [{ Ref: layerId }],
      Environment: {
        Variables: expect.objectContaining({
          OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.internal:4318',
          OTEL_RELAY_FLUSH: 'end',
          OTEL_RELAY_FALLBACK_S3_URI: expect.objectContaining({ 'Fn::Join': expect.any(Array) }),
        }),
      },
    });
  });

  it('publishes the layer from dist/layer with the launcher executable', () => {
    const [, layer] = only('AWS::Lambda::LayerVersion');
    const key = (layer.Properties.Content as { S3Key: string }).S3Key;
    const assetDir = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    expect(statSync(join(assetDir, 'extensions/otel-relay')).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(assetDir, 'otel-relay/extension.js'), 'utf8')).toBe(
      readFileSync('dist/layer/otel-relay/extension.js', 'utf8'),
    );
  });

  it('bundles the handler with the relay middleware in it', () => {
    const [, fn] = only('AWS::Lambda::Function');
    // The code's S3 key is the asset hash; the cloud assembly keeps the staged asset beside it.
    const key = (fn.Properties.Code as { S3Key: string }).S3Key;
    const assetDir = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    const bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
    // The middleware's "invocation done" signal to the extension, and the handler's own span.
    expect(bundle).toContain('/relay/v1/invocations/');
    expect(bundle).toContain('load order');
  });

  it('grants the function s3:PutObject on the fallback prefix and nothing more on S3', () => {
    const [bucketId] = only('AWS::S3::Bucket');
    const s3 = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap(
        (r) =>
          (r.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
      )
      .filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(s3).toEqual([
      expect.objectContaining({
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/otel-relay/*']] },
      }),
    ]);
  });
});
