// The npm package as a user gets it: `npm pack`, installed into a scratch app that has no checkout
// of this repository, then the CDK constructs (ESM and CommonJS apps, and the shipped types), the
// Serverless Framework plugin (osls package) and the CLI (npx, publish from the installed package).
// Offline: the tarball's one dependency comes from the npm cache; the app's own aws-cdk-lib, constructs and type packages
// are linked from this repository's node_modules, as an app would have them installed.
import { execFile } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { GetLayerVersionCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MotoServer, startMotoServer } from '../../helpers/moto.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { lambdaClient } from './lambda-fixture.js';
import { ensureServerlessFramework } from './osls.js';
import { onlyResource, type Resource } from './template.js';

const execFileP = promisify(execFile);
const repo = process.cwd();

/** What an app using the package installs itself (linked here, so the test runs offline). */
const APP_PACKAGES = ['aws-cdk-lib', 'constructs', '@types/node', '@opentelemetry/api', '@middy/core'];

let tarball: string;
let packed: string[];
let app: string;
let installed: string;
let moto: MotoServer;

async function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  try {
    return await execFileP(cmd, args, { cwd, env, timeout: 240_000, maxBuffer: 32 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, {
      cause: err,
    });
  }
}

beforeAll(async () => {
  const [, started] = await Promise.all([ensureServerlessFramework(), startMotoServer()]);
  moto = started;
  // dist/ is built by the test global setup (npm run build:layer).
  const packDir = mkdtempSync(join(tmpdir(), 'relay-pack-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', packDir], repo);
  const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(packDir, info!.filename);
  packed = info!.files.map((f) => f.path);

  app = mkdtempSync(join(tmpdir(), 'relay-scratch-app-'));
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'scratch-app', version: '1.0.0', private: true, type: 'module' }),
  );
  await run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--legacy-peer-deps', tarball],
    app,
  );
  installed = join(app, 'node_modules/lambda-otel-relay');
  for (const name of APP_PACKAGES) {
    mkdirSync(join(app, 'node_modules', name, '..'), { recursive: true });
    symlinkSync(join(repo, 'node_modules', name), join(app, 'node_modules', name));
  }
}, 600_000);

afterAll(async () => {
  await moto?.stop();
});

printLogsOnFailure('moto', () => moto);

describe('the packed tarball', () => {
  it('holds the built layer (zip and tree), every entry point with its types, and no source map', () => {
    expect(packed).toEqual(
      expect.arrayContaining([
        'dist/layer.zip',
        'dist/layer/extensions/otel-relay',
        'dist/layer/otel-relay/extension.js',
        'dist/cli.mjs',
        'dist/cdk/index.mjs',
        'dist/cdk/index.cjs',
        'dist/cdk/types/infra/index.d.ts',
        'dist/cdk/types-cjs/infra/index.d.ts',
        'dist/serverless/plugin.cjs',
        'dist/serverless/plugin.d.cts',
        'dist/replayer/index.mjs',
        'dist/middleware/index.mjs',
        'dist/middleware/esm/index.d.ts',
      ]),
    );
    expect(packed.filter((f) => f.endsWith('.map'))).toEqual([]);
    const cli = readFileSync(join(installed, 'dist/cli.mjs'), 'utf8');
    expect(cli).not.toContain('sourceMappingURL=data:');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    // Everything the CLI uses is bundled but the AWS SDK client it loads for the deployment commands.
    expect(Object.keys(manifest.dependencies)).toEqual(['@aws-sdk/client-lambda']);
    expect(manifest.peerDependenciesMeta['aws-cdk-lib']).toEqual({ optional: true });
  });
});

describe('lambda-otel-relay/cdk from the installed package', () => {
  const appSource = (importLine: string) => `${importLine}
const app = new App({ outdir: process.argv[2] });
const stack = new Stack(app, 'Scratch', { env: { account: '123456789012', region: 'eu-west-1' } });
const relay = new OtelRelay(stack, 'Relay', {
  endpoint: 'https://collector.example.com:4318',
  headersSecret: Secret.fromSecretNameV2(stack, 'Headers', 'otlp-headers'),
});
const fn = new LambdaFunction(stack, 'Fn', {
  runtime: Runtime.NODEJS_22_X,
  handler: 'index.handler',
  code: Code.fromInline('exports.handler = async () => 1;'),
});
relay.addTo(fn);
relay.addTo(fn);
app.synth();
`;

  async function synth(file: string, source: string) {
    writeFileSync(join(app, file), source);
    const outdir = mkdtempSync(join(tmpdir(), 'scratch-cdk-out-'));
    // The app's working directory has no dist/: the asset must come from the package.
    await run(process.execPath, [file, outdir], app);
    const template = JSON.parse(readFileSync(join(outdir, 'Scratch.template.json'), 'utf8'));
    return { outdir, resources: template.Resources as Record<string, Resource> };
  }

  it('synthesizes an ESM app with the layer asset taken from the package, without source maps', async () => {
    // Act
    const { outdir, resources } = await synth(
      'app.mjs',
      appSource(`import { App, Stack } from 'aws-cdk-lib';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { OtelRelay } from 'lambda-otel-relay/cdk';`),
    );

    // Assess
    const [, layer] = onlyResource(resources, 'AWS::Lambda::LayerVersion');
    const key = (layer.Properties.Content as { S3Key: string }).S3Key;
    const asset = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
    expect(readFileSync(join(asset, 'otel-relay/extension.js'))).toEqual(
      readFileSync(join(installed, 'dist/layer/otel-relay/extension.js')),
    );
    expect(readdirSync(join(asset, 'otel-relay')).filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(statSync(join(asset, 'extensions/otel-relay')).mode & 0o111).not.toBe(0);
    const [, fn] = onlyResource(resources, 'AWS::Lambda::Function');
    expect(fn.Properties.Layers).toHaveLength(1);
    const policies = JSON.stringify(Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy'));
    expect(policies).toMatch(/:secret:otlp-headers-\?\?\?\?\?\?/);
  });

  it('synthesizes a CommonJS app the same way', async () => {
    // Act
    const { resources } = await synth(
      'app.cjs',
      appSource(`const { App, Stack } = require('aws-cdk-lib');
const { Code, Function: LambdaFunction, Runtime } = require('aws-cdk-lib/aws-lambda');
const { Secret } = require('aws-cdk-lib/aws-secretsmanager');
const { OtelRelay } = require('lambda-otel-relay/cdk');`),
    );

    // Assess
    onlyResource(resources, 'AWS::Lambda::LayerVersion');
    const [, fn] = onlyResource(resources, 'AWS::Lambda::Function');
    expect(fn.Properties.Environment).toEqual({
      Variables: expect.objectContaining({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example.com:4318',
      }),
    });
  });

  it('ships types for each entry point, for ESM and CommonJS consumers', async () => {
    // Prepare: a consumer's TypeScript that uses each entry point, checked as ESM and as CommonJS.
    const use = `
import { OtelRelay, type OtelRelayProps } from 'lambda-otel-relay/cdk';
import { otelRelay } from 'lambda-otel-relay/middleware';
import OtelRelayServerlessPlugin = require('lambda-otel-relay/serverless');
const props: OtelRelayProps = { endpoint: 'https://c:4318', flush: 'periodic:5s' };
export const used = [OtelRelay, props, otelRelay, OtelRelayServerlessPlugin];
`;
    writeFileSync(
      join(app, 'check.mts'),
      use.replace(
        /import OtelRelayServerlessPlugin = .*\n/,
        'import { createRequire } from "node:module";\nconst OtelRelayServerlessPlugin = createRequire(import.meta.url)("lambda-otel-relay/serverless");\n',
      ),
    );
    writeFileSync(join(app, 'check.cts'), use);
    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    const flags = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--types', 'node'];

    // Act / Assess: tsc exits 0, or the run throws with its diagnostics.
    await run(process.execPath, [tsc, ...flags, 'check.mts', 'check.cts'], app);
  });
});

describe('lambda-otel-relay/serverless with osls package', () => {
  it('adds the retained layer from the package, its environment and the grants it needs', async () => {
    // Prepare
    writeFileSync(join(app, 'handler.mjs'), 'export const handler = async () => ({ ok: true });\n');
    writeFileSync(
      join(app, 'serverless.yml'),
      `service: scratch-relay
plugins:
  - lambda-otel-relay/serverless
custom:
  otelRelay:
    endpoint: https://collector.example.com:4318
    flush: end
    headersSecretArn: otlp-headers
    fallbackS3Uri: s3://team-spill/otel-relay/
provider:
  name: aws
  runtime: nodejs22.x
  region: eu-west-1
package:
  patterns: ['!**', 'handler.mjs']
functions:
  api:
    handler: handler.handler
  legacy:
    handler: handler.handler
    runtime: python3.12
`,
    );
    const serverless = await ensureServerlessFramework();
    const outdir = mkdtempSync(join(tmpdir(), 'scratch-sls-'));

    // Act
    await run(serverless, ['package', '--package', outdir], app, {
      PATH: process.env.PATH ?? '',
      HOME: mkdtempSync(join(tmpdir(), 'sls-home-')),
      ...moto.env,
      SLS_TELEMETRY_DISABLED: '1',
    });

    // Assess
    const resources = JSON.parse(
      readFileSync(join(outdir, 'cloudformation-template-update-stack.json'), 'utf8'),
    ).Resources as Record<string, Resource>;
    const [layerId, layer] = onlyResource(resources, 'AWS::Lambda::LayerVersion');
    expect(layer.DeletionPolicy).toBe('Retain');
    expect(layer.Properties.Content).toEqual({
      S3Bucket: expect.anything(),
      S3Key: expect.stringMatching(/\/layer\.zip$/),
    });
    const fns = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    const api = fns.find((f) => f.Properties.Runtime === 'nodejs22.x')!;
    const legacy = fns.find((f) => f.Properties.Runtime === 'python3.12')!;
    expect(api.Properties.Layers).toEqual([{ Ref: layerId }]);
    expect(api.Properties.Environment).toEqual({
      Variables: {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example.com:4318',
        OTEL_RELAY_FLUSH: 'end',
        OTEL_RELAY_HEADERS_SECRET_ARN: 'otlp-headers',
        OTEL_RELAY_FALLBACK_S3_URI: 's3://team-spill/otel-relay/',
      },
    });
    expect(legacy.Properties.Layers).toBeUndefined();
    const role = JSON.stringify(onlyResource(resources, 'AWS::IAM::Role')[1]);
    expect(role).toContain('arn:aws:secretsmanager:*:*:secret:otlp-headers-??????');
    expect(role).toContain('arn:aws:s3:::team-spill/otel-relay/*');
  });

  it('refuses a service without custom.otelRelay.endpoint, with the fix', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'scratch-sls-noendpoint-'));
    symlinkSync(join(app, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(
      join(dir, 'serverless.yml'),
      'service: no-endpoint\nplugins: [lambda-otel-relay/serverless]\nprovider: { name: aws, runtime: nodejs22.x }\nfunctions:\n  api: { handler: h.handler }\n',
    );
    const serverless = await ensureServerlessFramework();

    // Act
    const failed = await execFileP(serverless, ['package'], {
      cwd: dir,
      timeout: 120_000,
      env: { PATH: process.env.PATH ?? '', HOME: dir, ...moto.env, SLS_TELEMETRY_DISABLED: '1' },
    }).then(
      () => undefined,
      (e: { stdout: string; stderr: string }) => e.stdout + e.stderr,
    );

    // Assess
    expect(failed).toMatch(/custom\.otelRelay\.endpoint is not set.*https:\/\/otlp\.example\.com:4318/s);
  });
});

describe('the CLI from the installed package', () => {
  it('runs through npx and publishes the layer zip the package ships, from any directory', async () => {
    // Prepare
    const env = { ...process.env, ...moto.env };
    const elsewhere = mkdtempSync(join(tmpdir(), 'scratch-cwd-'));

    // Act
    const help = await run('npx', ['--offline', '--no-install', 'lambda-otel-relay', '--help'], app, env);
    const published = await run(
      process.execPath,
      [
        resolve(app, 'node_modules/.bin/lambda-otel-relay'),
        'publish',
        '--layer-name',
        'from-npm',
        '--region',
        'us-east-1',
      ],
      elsewhere,
      env,
    );

    // Assess
    expect(help.stdout).toMatch(/usage: lambda-otel-relay <command>/);
    expect(published.stdout.trim()).toBe('arn:aws:lambda:us-east-1:123456789012:layer:from-npm:1');
    const layer = await lambdaClient(moto.endpoint, 'us-east-1').send(
      new GetLayerVersionCommand({ LayerName: 'from-npm', VersionNumber: 1 }),
    );
    expect(layer.Content?.CodeSize).toBe(statSync(join(installed, 'dist/layer.zip')).size);
  });
});
