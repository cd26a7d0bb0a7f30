// serverless.yml packaged by the real framework (osls 4, v3 configuration). Packaging a layer makes
// the framework ask CloudFormation whether the stack already has it, so that one call goes to moto.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MotoServer, startMotoServer } from '../../helpers/moto.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { PRIVATE_ENCRYPTED_BUCKET } from '../../unit/infra/fallback-bucket.js';
import { ensureServerlessFramework } from './osls.js';
import { onlyResource, type Resource } from './template.js';

const execFileP = promisify(execFile);

let moto: MotoServer;
let outdir: string;
let resources: Record<string, Resource>;
let packageLog: string;

beforeAll(async () => {
  const [serverless, started] = await Promise.all([ensureServerlessFramework(), startMotoServer()]);
  moto = started;
  outdir = mkdtempSync(join(tmpdir(), 'sls-package-'));
  const res = await execFileP(
    serverless,
    [
      'package',
      '--package',
      outdir,
      '--param',
      'otlpEndpoint=https://collector.internal:4318',
      '--region',
      'eu-west-1',
    ],
    {
      timeout: 120_000,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: mkdtempSync(join(tmpdir(), 'sls-home-')),
        ...moto.env,
        SLS_TELEMETRY_DISABLED: '1',
      },
    },
  );
  packageLog = res.stdout + res.stderr;
  resources = JSON.parse(
    readFileSync(join(outdir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ).Resources;
}, 300_000);

afterAll(async () => {
  await moto?.stop();
});

printLogsOnFailure('moto', () => moto);

const only = (type: string) => onlyResource(resources, type);

describe('serverless package', () => {
  it('packages the relay layer from dist/layer.zip for Node.js 20/22/24 on both architectures', () => {
    const [, layer] = only('AWS::Lambda::LayerVersion');
    expect(layer.Properties).toMatchObject({
      LayerName: 'lambda-otel-relay-dev',
      CompatibleRuntimes: ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'],
      CompatibleArchitectures: ['x86_64', 'arm64'],
      Content: { S3Key: expect.stringMatching(/\/layer\.zip$/) },
    });
    expect(packageLog).toMatch(/bundled the example handler/);
  });

  it('keeps earlier layer versions when a new one is deployed (retain)', () => {
    const [, layer] = only('AWS::Lambda::LayerVersion');
    expect(layer.DeletionPolicy).toBe('Retain');
  });

  it('attaches the layer to the example function with the relay environment', () => {
    const [layerId] = only('AWS::Lambda::LayerVersion');
    const [, fn] = only('AWS::Lambda::Function');
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'dist/serverless/orders-api/handler.handler',
      Layers: [{ Ref: layerId }],
      Environment: {
        Variables: {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.internal:4318',
          OTEL_RELAY_FLUSH: 'adaptive',
          OTEL_RELAY_FALLBACK_S3_URI: {
            'Fn::Join': ['', ['s3://', { Ref: 'OtelRelayFallbackBucket' }, '/otel-relay/']],
          },
        },
      },
    });
  });

  it('creates an encrypted, private, expiring, TLS-only fallback bucket that is retained', () => {
    expect(resources.OtelRelayFallbackBucket).toMatchObject({
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      Properties: {
        ...PRIVATE_ENCRYPTED_BUCKET,
        LifecycleConfiguration: {
          Rules: [expect.objectContaining({ Prefix: 'otel-relay/', ExpirationInDays: 14 })],
        },
      },
    });
    expect(JSON.stringify(resources.OtelRelayFallbackBucketPolicy)).toContain(
      '"aws:SecureTransport":"false"',
    );
  });

  it('grants s3:PutObject on the fallback prefix and nothing else on S3', () => {
    const [, role] = only('AWS::IAM::Role');
    const policies = role.Properties.Policies as {
      PolicyDocument: { Statement: { Action: string[]; Resource: unknown }[] };
    }[];
    const s3 = policies
      .flatMap((p) => p.PolicyDocument.Statement)
      .filter((s) => s.Action.some((a) => a.startsWith('s3:')));
    expect(s3).toEqual([
      expect.objectContaining({
        Action: ['s3:PutObject'],
        Resource: {
          'Fn::Join': ['', [{ 'Fn::GetAtt': ['OtelRelayFallbackBucket', 'Arn'] }, '/otel-relay/*']],
        },
      }),
    ]);
  });

  it('ships a bundled handler that runs and hands its invocation to the relay on loopback', async () => {
    // Prepare: a loopback stand-in for the extension's receiver records what the handler sends.
    const seen: string[] = [];
    const server: Server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => {
        res.writeHead(req.url?.endsWith('/done') ? 204 : 200, { 'content-type': 'application/json' });
        res.end(req.url?.endsWith('/done') ? undefined : '{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const script = `
      const { handler } = await import(${JSON.stringify(join(process.cwd(), 'dist/serverless/orders-api/handler.mjs'))});
      const context = { awsRequestId: 'req-1', functionName: 'orders', functionVersion: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:orders', memoryLimitInMB: '256',
        getRemainingTimeInMillis: () => 9000 };
      const result = await handler({ pathParameters: { id: '42' } }, context);
      console.log(JSON.stringify(result));
    `;

    // Act
    const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 30_000,
      env: {
        PATH: process.env.PATH ?? '',
        OTEL_RELAY_HTTP_PORT: String(port),
        AWS_LAMBDA_FUNCTION_NAME: 'orders',
        AWS_REGION: 'eu-west-1',
      },
    }).finally(() => new Promise<void>((r) => server.close(() => r())));

    // Assess
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({
      statusCode: 200,
      body: '{"id":"42"}',
    });
    expect(seen).toContain('POST /relay/v1/invocations/req-1/done');
  });
});
