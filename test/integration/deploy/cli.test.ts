// publish / attach / detach / status against moto server's real Lambda API, through a proxy that
// adds what moto does not model (conflicts, access denied, slow updates).
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import {
  GetLayerVersionCommand,
  GetLayerVersionPolicyCommand,
  type LambdaClient,
  ListLayerVersionsCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { attach } from '../../../src/cli/commands/attach.js';
import { detach } from '../../../src/cli/commands/detach.js';
import { publish } from '../../../src/cli/commands/publish.js';
import { status } from '../../../src/cli/commands/status.js';
import type { CommandDeps } from '../../../src/cli/lambda/cli.js';
import { loadConfig } from '../../../src/extension/settings/index.js';
import { type MotoServer, startMotoServer } from '../../helpers/moto.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { virtualClock } from '../../unit/cli/virtual-clock.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import {
  configuration,
  createFunction,
  createRole,
  lambdaClient,
  publishOtherLayer,
  standInLayerZip,
} from './lambda-fixture.js';

const execFileP = promisify(execFile);
/** Every attach names a collector: without one it is refused (tested on its own below). */
const ENDPOINT = ['--endpoint', 'https://collector.example.com:4318'];
const UPDATE = /^\/2015-03-31\/functions\/[^/]+\/configuration$/;

type Command = (argv: string[], deps: CommandDeps) => Promise<number>;

/** Runs a command as the CLI does, with its output captured and a virtual clock. */
async function cli(command: Command, args: string[], clock = virtualClock()) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await command(args, { io: { out: (l) => out.push(l), err: (l) => err.push(l) }, clock });
  return { code, out, err };
}

/** Answers the next `times` configuration updates with a 409 ResourceConflictException. */
function injectConflicts(times: number): void {
  proxy.inject({
    method: 'PUT',
    path: UPDATE,
    times,
    error: {
      status: 409,
      type: 'ResourceConflictException',
      message: 'An update is in progress for resource',
    },
  });
}

/** Whether a configuration update has been sent since the last proxy.reset(). */
const updated = () => proxy.count('PUT', UPDATE) > 0;

/** Passes every configuration read through `rewrite`; it sees moto's answer as JSON. */
function rewriteReads(rewrite: (body: Record<string, unknown>) => Record<string, unknown>): void {
  proxy.inject({ method: 'GET', path: UPDATE, times: 1000, rewrite });
}

let moto: MotoServer;
let proxy: FaultProxy;
let client: LambdaClient;
let zip: string;
let relayV1: string;
let relayV2: string;
let otherLayers: string[];

beforeAll(async () => {
  moto = await startMotoServer();
  proxy = await startFaultProxy(moto.endpoint);
  // The commands build their SDK client from the environment, as they do for users.
  Object.assign(process.env, moto.env, { AWS_ENDPOINT_URL: proxy.endpoint });
  client = lambdaClient(moto.endpoint, moto.region);
  await createRole(moto.endpoint, moto.region);
  zip = standInLayerZip();
  await cli(publish, ['--zip', zip]);
  await cli(publish, ['--zip', zip]);
  const versions = await client.send(new ListLayerVersionsCommand({ LayerName: 'lambda-otel-relay' }));
  const arns = (versions.LayerVersions ?? []).map((v) => v.LayerVersionArn!).sort();
  expect(arns).toHaveLength(2);
  [relayV1, relayV2] = arns as [string, string];
  otherLayers = [];
  for (const name of ['deps-a', 'deps-b', 'deps-c', 'deps-d', 'deps-e']) {
    otherLayers.push(await publishOtherLayer(client, name));
  }
});

afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});

beforeEach(() => proxy.reset());

printLogsOnFailure('moto', () => moto);

describe('publish', () => {
  it('publishes the zip with Node 20/22/24 and both architectures and prints only the ARN', async () => {
    // Prepare

    // Act
    const { code, out, err } = await cli(publish, [
      '--zip',
      zip,
      '--layer-name',
      'relay-publish-test',
      '--description',
      'test',
    ]);

    // Assess
    expect(code).toBe(0);
    expect(out).toEqual(['arn:aws:lambda:us-east-1:123456789012:layer:relay-publish-test:1']);
    expect(err.join('\n')).toMatch(/as relay-publish-test version 1 in us-east-1/);
    const layer = await client.send(
      new GetLayerVersionCommand({ LayerName: 'relay-publish-test', VersionNumber: 1 }),
    );
    expect(layer.CompatibleRuntimes).toEqual(['nodejs20.x', 'nodejs22.x', 'nodejs24.x']);
    expect(layer.CompatibleArchitectures).toEqual(['x86_64', 'arm64']);
    expect(layer.Content?.CodeSize).toBeGreaterThan(100);
  });

  it('grants an account and an organization use of the new version', async () => {
    // Prepare

    // Act
    const { code, out } = await cli(publish, [
      '--zip',
      zip,
      '--layer-name',
      'relay-shared',
      '--grant-account',
      '210987654321',
      '--grant-organization',
      'o-abcdef1234',
    ]);

    // Assess
    expect(code).toBe(0);
    expect(out[0]).toMatch(/:layer:relay-shared:1$/);
    const policy = await client.send(
      new GetLayerVersionPolicyCommand({ LayerName: 'relay-shared', VersionNumber: 1 }),
    );
    const statements = JSON.parse(policy.Policy ?? '{}').Statement as { Sid: string; Principal: unknown }[];
    expect(statements.map((s) => s.Sid).sort()).toEqual(['account-210987654321', 'org-o-abcdef1234']);
  });

  it('makes the new version usable by every account with --public', async () => {
    // Act
    const { code } = await cli(publish, ['--zip', zip, '--layer-name', 'relay-public', '--public']);

    // Assess
    expect(code).toBe(0);
    const policy = await client.send(
      new GetLayerVersionPolicyCommand({ LayerName: 'relay-public', VersionNumber: 1 }),
    );
    const [statement] = JSON.parse(policy.Policy ?? '{}').Statement as {
      Sid: string;
      Principal: unknown;
      Action: string;
    }[];
    expect(statement).toMatchObject({ Sid: 'public', Principal: '*', Action: 'lambda:GetLayerVersion' });
  });

  it('publishes the same zip to several regions in one run, one ARN per line', async () => {
    // Act
    const { code, out } = await cli(publish, [
      '--zip',
      zip,
      '--layer-name',
      'relay-multi-region',
      '--region',
      'eu-west-1,ap-southeast-2',
      '--region',
      'us-east-1',
    ]);

    // Assess
    expect(code).toBe(0);
    expect(out).toEqual([
      'arn:aws:lambda:eu-west-1:123456789012:layer:relay-multi-region:1',
      'arn:aws:lambda:ap-southeast-2:123456789012:layer:relay-multi-region:1',
      'arn:aws:lambda:us-east-1:123456789012:layer:relay-multi-region:1',
    ]);
    const sydney = lambdaClient(moto.endpoint, 'ap-southeast-2');
    const layer = await sydney.send(
      new GetLayerVersionCommand({ LayerName: 'relay-multi-region', VersionNumber: 1 }),
    );
    expect(layer.Content?.CodeSize).toBe(statSync(zip).size);
  });

  it('says how to build the zip when it does not exist', async () => {
    await expect(cli(publish, ['--zip', '/nonexistent/layer.zip'])).rejects.toThrow(/npm run build:layer/);
  });
});

describe('attach', () => {
  it('adds the newest relay version after the existing layers and merges the environment', async () => {
    // Prepare
    await createFunction(client, 'orders-api', {
      Layers: [otherLayers[0]!],
      Environment: { Variables: { TABLE: 'orders', OTEL_RELAY_FLUSH: 'end' } },
    });

    // Act
    const { code, out } = await cli(attach, [
      'orders-api',
      '--endpoint',
      'https://collector.example.com:4318',
      '--flush',
      'adaptive',
      '--headers',
      'x-api-key=s3cr3t',
    ]);

    // Assess
    expect(code).toBe(0);
    const cfg = await configuration(client, 'orders-api');
    expect(cfg.Layers?.map((l) => l.Arn)).toEqual([otherLayers[0], relayV2]);
    expect(cfg.Environment?.Variables).toEqual({
      TABLE: 'orders',
      OTEL_RELAY_FLUSH: 'adaptive',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example.com:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s3cr3t',
      OTEL_RELAY_ATTACH_PREVIOUS: '{"OTEL_RELAY_FLUSH":"end"}',
    });
    expect(out[0]).toBe('orders-api: updated');
    expect(out).toContain(`  + layer ${relayV2}`);
    expect(out).toContain('  ~ env OTEL_RELAY_FLUSH=end -> adaptive');
    expect(out.join('\n')).not.toContain('s3cr3t');
  });

  it('changes nothing and sends no update when run a second time', async () => {
    // Prepare
    await createFunction(client, 'idempotent-fn');
    const args = ['idempotent-fn', '--layer', relayV1, '--flush', 'end', ...ENDPOINT];
    await cli(attach, args);
    const before = await configuration(client, 'idempotent-fn');
    proxy.reset();

    // Act
    const { code, out } = await cli(attach, args);

    // Assess
    expect(code).toBe(0);
    expect(out).toEqual(['idempotent-fn: unchanged', 'summary: 0 updated, 1 unchanged, 0 failed']);
    expect(proxy.count('PUT', UPDATE)).toBe(0);
    const after = await configuration(client, 'idempotent-fn');
    expect(after.RevisionId).toBe(before.RevisionId);
    expect(after.Layers).toEqual(before.Layers);
  });

  it('sets a flush strategy in seconds as written, which the extension reads as milliseconds', async () => {
    // Prepare
    await createFunction(client, 'seconds-fn');

    // Act
    const { code } = await cli(attach, [
      'seconds-fn',
      '--layer',
      relayV1,
      '--flush',
      'periodic:5s',
      ...ENDPOINT,
    ]);

    // Assess
    expect(code).toBe(0);
    const env = (await configuration(client, 'seconds-fn')).Environment?.Variables ?? {};
    expect(env.OTEL_RELAY_FLUSH).toBe('periodic:5s');
    const { config, problems } = loadConfig(env);
    expect(problems).toEqual([]);
    expect(config.flush).toEqual({ kind: 'periodic', intervalMs: 5000 });
  });

  it('upgrades an older relay version in place, keeping the other layers in their order', async () => {
    // Prepare
    await createFunction(client, 'upgrade-fn', { Layers: [otherLayers[0]!, relayV1, otherLayers[1]!] });

    // Act
    const { code, out } = await cli(attach, ['upgrade-fn', '--layer', relayV2, ...ENDPOINT]);

    // Assess
    expect(code).toBe(0);
    const cfg = await configuration(client, 'upgrade-fn');
    expect(cfg.Layers?.map((l) => l.Arn)).toEqual([otherLayers[0], relayV2, otherLayers[1]]);
    expect(out).toContain(`  ~ layer ${relayV1} -> ${relayV2}`);
  });

  it('takes a function by ARN and lists a function named twice once', async () => {
    // Prepare
    const arn = await createFunction(client, 'by-arn-fn');

    // Act
    const { code, out } = await cli(attach, [
      arn,
      '--function',
      'by-arn-fn',
      '--layer',
      relayV2,
      ...ENDPOINT,
    ]);

    // Assess
    expect(code).toBe(0);
    expect(out.filter((l) => !l.startsWith(' '))).toEqual([
      'by-arn-fn: updated',
      'summary: 1 updated, 0 unchanged, 0 failed',
    ]);
    expect(proxy.count('PUT', UPDATE)).toBe(1);
  });

  it('prints the diff and changes nothing with --dry-run', async () => {
    // Prepare
    await createFunction(client, 'dry-fn', {
      Environment: { Variables: { KEEP: '1', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c.example:4318' } },
    });

    // Act
    const { code, out } = await cli(attach, [
      'dry-fn',
      '--layer',
      relayV2,
      '--fallback-s3-uri',
      's3://spill-bucket/relay/',
      '--dry-run',
    ]);

    // Assess
    expect(code).toBe(0);
    expect(out).toEqual([
      'dry-fn: would change (dry run)',
      `  + layer ${relayV2}`,
      '  + env OTEL_RELAY_FALLBACK_S3_URI=s3://spill-bucket/relay/',
      'summary: 0 updated, 1 would change, 0 unchanged, 0 failed',
    ]);
    expect(proxy.count('PUT', UPDATE)).toBe(0);
    const cfg = await configuration(client, 'dry-fn');
    expect(cfg.Layers ?? []).toEqual([]);
    expect(cfg.Environment?.Variables).toEqual({
      KEEP: '1',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c.example:4318',
    });
  });

  it('selects functions by prefix, by tag, and by both together', async () => {
    // Prepare
    await createFunction(client, 'billing-a');
    await createFunction(client, 'billing-b', { Tags: { team: 'payments' } });
    await createFunction(client, 'ledger-a', { Tags: { team: 'payments' } });
    await createFunction(client, 'ledger-b', { Tags: { team: 'search' } });
    const run = async (args: string[]) => {
      const { code, out } = await cli(attach, [...args, '--layer', relayV2, '--dry-run', ...ENDPOINT]);
      return {
        code,
        selected: out
          .filter((l) => !l.startsWith(' ') && !l.startsWith('summary:'))
          .map((l) => l.split(':')[0])
          .sort(),
      };
    };

    // Act
    const byPrefix = await run(['--prefix', 'billing-']);
    const byTag = await run(['--tag', 'team=payments']);
    const byBoth = await run(['--prefix', 'ledger-', '--tag', 'team=payments']);
    const byNone = await run(['--prefix', 'ledger-', '--tag', 'team=nobody']);

    // Assess
    expect(byPrefix).toEqual({ code: 0, selected: ['billing-a', 'billing-b'] });
    expect(byTag).toEqual({ code: 0, selected: ['billing-b', 'ledger-a'] });
    expect(byBoth).toEqual({ code: 0, selected: ['ledger-a'] });
    expect(byNone).toEqual({ code: 1, selected: [] });
  });

  it("refuses past Lambda's 5-layer limit and leaves the function as it was", async () => {
    // Prepare
    await createFunction(client, 'full-fn', { Layers: otherLayers });

    // Act
    const { code, err } = await cli(attach, ['full-fn', '--layer', relayV2, ...ENDPOINT]);

    // Assess
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/already has 5 layers.*Lambda allows 5\. Nothing was changed/);
    expect(proxy.count('PUT', UPDATE)).toBe(0);
    expect((await configuration(client, 'full-fn')).Layers?.length).toBe(5);
  });

  it('refuses a container-image function with a clear reason', async () => {
    // Prepare
    await createFunction(client, 'image-fn', {
      PackageType: 'Image',
      Runtime: undefined,
      Handler: undefined,
      Code: { ImageUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest' },
    });

    // Act
    const { code, err } = await cli(attach, ['image-fn', '--layer', relayV2]);

    // Assess
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(
      /image-fn is a container-image function \(PackageType Image\).*does not support layers/,
    );
    expect(proxy.count('PUT', UPDATE)).toBe(0);
  });

  it('reports a missing function and still attaches to the others', async () => {
    // Prepare
    await createFunction(client, 'present-fn');

    // Act
    const { code, out, err } = await cli(attach, [
      'no-such-fn',
      'present-fn',
      '--layer',
      relayV2,
      ...ENDPOINT,
    ]);

    // Assess
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/no-such-fn was not found in us-east-1 .*check the name and --region/);
    expect(out[0]).toBe('present-fn: updated');
  });

  it('names the right region when a function ARN is in another one', async () => {
    // Prepare

    // Act
    const { code, err } = await cli(attach, [
      'arn:aws:lambda:eu-west-1:123456789012:function:elsewhere',
      '--layer',
      relayV2,
    ]);

    // Assess
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/is in eu-west-1 but this run uses us-east-1; pass --region eu-west-1/);
  });

  it('refuses versions and aliases, which cannot take a layer', async () => {
    // Prepare
    await createFunction(client, 'versioned-fn');

    // Act
    const { code, err } = await cli(attach, [
      'versioned-fn:live',
      'arn:aws:lambda:us-east-1:123456789012:function:versioned-fn:3',
    ]);

    // Assess
    expect(code).toBe(1);
    expect(err).toHaveLength(2);
    expect(err[0]).toMatch(/versioned-fn:live names version or alias live, which cannot change/);
    expect(err[1]).toMatch(/names version or alias 3/);
    expect(proxy.count('PUT', UPDATE)).toBe(0);
  });

  it('explains access denied and changes nothing', async () => {
    // Prepare
    await createFunction(client, 'denied-fn');
    proxy.inject({
      method: 'PUT',
      path: UPDATE,
      times: 1,
      error: {
        status: 403,
        type: 'AccessDeniedException',
        message: 'not authorized to perform lambda:UpdateFunctionConfiguration',
      },
    });

    // Act
    const { code, err } = await cli(attach, ['denied-fn', '--layer', relayV2, ...ENDPOINT]);

    // Assess
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(
      /access denied: UpdateFunctionConfiguration on denied-fn in us-east-1; the credentials in use need lambda:UpdateFunctionConfiguration/,
    );
    expect((await configuration(client, 'denied-fn')).Layers ?? []).toEqual([]);
  });

  it('retries on ResourceConflictException from a concurrent update, re-reading the function', async () => {
    // Prepare
    await createFunction(client, 'busy-fn');
    injectConflicts(2);
    const clock = virtualClock();

    // Act
    const { code, out } = await cli(attach, ['busy-fn', '--layer', relayV2, ...ENDPOINT], clock);

    // Assess
    expect(code).toBe(0);
    expect(out[0]).toBe('busy-fn: updated');
    expect(proxy.count('PUT', UPDATE)).toBe(3);
    expect(clock.slept.slice(0, 2)).toEqual([500, 1000]);
    expect((await configuration(client, 'busy-fn')).Layers?.map((l) => l.Arn)).toEqual([relayV2]);
  });

  it('gives up with a clear message when conflicts do not stop', async () => {
    // Prepare
    await createFunction(client, 'always-busy-fn');
    injectConflicts(100);

    // Act
    const { code, err } = await cli(attach, ['always-busy-fn', '--layer', relayV2, ...ENDPOINT]);

    // Assess
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(
      /kept changing under us \(ResourceConflictException 6 times\); nothing was changed/,
    );
    expect(proxy.count('PUT', UPDATE)).toBe(6);
  });

  it('waits until LastUpdateStatus leaves InProgress before reporting success', async () => {
    // Prepare
    await createFunction(client, 'slow-fn');
    const clock = virtualClock();
    let inProgressReads = 0;
    // Reads before the update are left alone; the first three after it are still updating.
    rewriteReads((body) =>
      updated() && inProgressReads++ < 3 ? { ...body, LastUpdateStatus: 'InProgress' } : body,
    );

    // Act
    const { code, out } = await cli(attach, ['slow-fn', '--layer', relayV2, ...ENDPOINT], clock);

    // Assess
    expect(code).toBe(0);
    expect(out[0]).toBe('slow-fn: updated');
    // selection read, pre-update read, three InProgress reads, the final Successful one
    expect(proxy.count('GET', UPDATE)).toBe(6);
    expect(clock.slept).toEqual([250, 500, 1000]);
  });

  it('waits for an update already in progress, even one that then fails, before writing its own', async () => {
    // Prepare: someone else's update is being applied when attach starts, and it ends Failed.
    await createFunction(client, 'others-update-fn');
    let before = 0;
    rewriteReads((body) => {
      if (updated()) return body;
      before++;
      // The selection read, attach's first read and its first poll say InProgress; then Failed.
      if (before <= 3) return { ...body, LastUpdateStatus: 'InProgress' };
      return { ...body, LastUpdateStatus: 'Failed', LastUpdateStatusReason: 'someone else' };
    });
    const clock = virtualClock();

    // Act
    const { code, out } = await cli(attach, ['others-update-fn', '--layer', relayV2, ...ENDPOINT], clock);

    // Assess
    expect(code).toBe(0);
    expect(out[0]).toBe('others-update-fn: updated');
    expect(clock.slept).toEqual([250]);
    expect((await configuration(client, 'others-update-fn')).Layers?.map((l) => l.Arn)).toEqual([relayV2]);
  });

  it('reports the reason when Lambda says the update failed', async () => {
    // Prepare
    await createFunction(client, 'failing-fn');
    rewriteReads((body) =>
      updated()
        ? { ...body, LastUpdateStatus: 'Failed', LastUpdateStatusReason: 'KMS key is disabled' }
        : body,
    );

    // Act
    const { code, err } = await cli(attach, ['failing-fn', '--layer', relayV2, ...ENDPOINT]);

    // Assess
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/update of failing-fn failed: KMS key is disabled/);
  });

  it('stops waiting at the deadline and says the change may still apply', async () => {
    // Prepare
    await createFunction(client, 'stuck-fn');
    rewriteReads((body) => (updated() ? { ...body, LastUpdateStatus: 'InProgress' } : body));

    // Act
    const { code, err } = await cli(attach, ['stuck-fn', '--layer', relayV2, '--timeout', '10', ...ENDPOINT]);

    // Assess
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(
      /stuck-fn was still updating after 10 s; the change was submitted and may still apply/,
    );
  });
});

describe('detach', () => {
  it('removes the relay layer and its variables, keeps the rest, and is a no-op the second time', async () => {
    // Prepare
    await createFunction(client, 'detach-fn', {
      Layers: [otherLayers[0]!, relayV1, otherLayers[1]!],
      Environment: {
        Variables: { TABLE: 't', OTEL_RELAY_FLUSH: 'end', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318' },
      },
    });

    // Act
    const first = await cli(detach, ['detach-fn']);
    const second = await cli(detach, ['detach-fn']);

    // Assess
    expect([first.code, second.code]).toEqual([0, 0]);
    const cfg = await configuration(client, 'detach-fn');
    expect(cfg.Layers?.map((l) => l.Arn)).toEqual([otherLayers[0], otherLayers[1]]);
    expect(cfg.Environment?.Variables).toEqual({ TABLE: 't' });
    expect(first.out[0]).toBe('detach-fn: updated');
    expect(second.out).toEqual([
      'detach-fn: skipped, does not carry the relay layer (lambda-otel-relay); left alone',
      'summary: 0 updated, 0 unchanged, 1 skipped, 0 failed',
    ]);
  });

  it('keeps the variables with --keep-env', async () => {
    // Prepare
    await createFunction(client, 'keep-env-fn', {
      Layers: [relayV2],
      Environment: { Variables: { OTEL_RELAY_FLUSH: 'end' } },
    });

    // Act
    const { code } = await cli(detach, ['keep-env-fn', '--keep-env']);

    // Assess
    expect(code).toBe(0);
    const cfg = await configuration(client, 'keep-env-fn');
    expect(cfg.Layers ?? []).toEqual([]);
    expect(cfg.Environment?.Variables).toEqual({ OTEL_RELAY_FLUSH: 'end' });
  });
});

describe('status', () => {
  it('shows the relay version and settings per function, never header values', async () => {
    // Prepare
    await createFunction(client, 'status-on', {
      Layers: [relayV1],
      Environment: {
        Variables: {
          OTEL_RELAY_FLUSH: 'periodic:5000',
          OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c.example:4318',
          OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=topsecret',
        },
      },
    });
    await createFunction(client, 'status-off');

    // Act
    const { code, out } = await cli(status, ['--prefix', 'status-']);

    // Assess
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^FUNCTION\s+RUNTIME\s+RELAY\s+FLUSH\s+ENDPOINT\s+FALLBACK\s+HEADERS\s+UPDATE$/);
    expect(out[1]).toMatch(/^status-off\s+nodejs20\.x\s+-\s+-\s+-\s+-\s+-\s+Successful$/);
    expect(out[2]).toMatch(
      /^status-on\s+nodejs20\.x\s+v1\s+periodic:5000\s+https:\/\/c\.example:4318\s+-\s+inline\s+Successful$/,
    );
    expect(out.join('\n')).not.toContain('topsecret');
  });

  it('prints JSON with --json and filters with --attached', async () => {
    // Prepare
    await createFunction(client, 'json-on', { Layers: [relayV2] });
    await createFunction(client, 'json-off');

    // Act
    const { code, out } = await cli(status, ['--prefix', 'json-', '--attached', '--json']);

    // Assess
    expect(code).toBe(0);
    const doc = JSON.parse(out.join('\n'));
    expect(doc.region).toBe('us-east-1');
    expect(doc.functions).toEqual([
      expect.objectContaining({ function: 'json-on', layer: relayV2, layerVersion: 2, flush: null }),
    ]);
  });
});

describe('the built CLI', () => {
  const cli = 'dist/cli.mjs';

  it('uses AWS_ENDPOINT_URL and --region like the SDK does, with exit codes 0, 1 and 2', async () => {
    // Prepare
    expect(existsSync(cli), 'dist/cli.mjs is built by the test global setup').toBe(true);
    await createFunction(client, 'process-fn');
    const env = { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...moto.env };
    delete (env as Record<string, string>).AWS_REGION;
    delete (env as Record<string, string>).AWS_DEFAULT_REGION;
    const runCli = (args: string[]) =>
      execFileP(process.execPath, [cli, ...args], { env, timeout: 30_000 }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );

    // Act
    const published = await runCli([
      'publish',
      '--layer-name',
      'relay-from-process',
      '--region',
      'us-east-1',
    ]);
    const ok = await runCli([
      'attach',
      'process-fn',
      '--layer',
      relayV2,
      '--region',
      'us-east-1',
      ...ENDPOINT,
    ]);
    const missing = await runCli([
      'attach',
      'process-fn-missing',
      '--layer',
      relayV2,
      '--region',
      'us-east-1',
    ]);
    const noRegion = await runCli(['status']);
    const badFlag = await runCli(['attach', 'process-fn', '--flush', 'sometimes', '--region', 'us-east-1']);

    // Assess: publish took the real dist/layer.zip by default.
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout.trim()).toBe('arn:aws:lambda:us-east-1:123456789012:layer:relay-from-process:1');
    const layer = await client.send(
      new GetLayerVersionCommand({ LayerName: 'relay-from-process', VersionNumber: 1 }),
    );
    expect(layer.Content?.CodeSize).toBe(statSync('dist/layer.zip').size);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('process-fn: updated');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/process-fn-missing was not found in us-east-1/);
    expect(noRegion.code).toBe(2);
    expect(noRegion.stderr).toMatch(/no AWS region: pass --region or set AWS_REGION/);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--flush sometimes is not a flush strategy/);
  });
});

describe('deployment defects found by a fleet run', () => {
  it('detach leaves a function without the relay alone and restores what attach replaced', async () => {
    // Prepare: one ADOT-instrumented function that never had the relay, one that had an endpoint
    // before the relay was attached.
    const adotEnv = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'k=v',
    };
    await createFunction(client, 'fleet-adot', {
      Layers: [otherLayers[2]!],
      Environment: { Variables: adotEnv },
    });
    await createFunction(client, 'fleet-had-endpoint', {
      Environment: { Variables: { TABLE: 't', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://old.example:4318' } },
    });
    expect((await cli(attach, ['fleet-had-endpoint', '--layer', relayV2, ...ENDPOINT])).code).toBe(0);
    const adotBefore = await configuration(client, 'fleet-adot');
    proxy.reset();

    // Act
    const { code, out } = await cli(detach, ['--prefix', 'fleet-']);

    // Assess
    expect(code).toBe(0);
    expect(out).toContain(
      'fleet-adot: skipped, does not carry the relay layer (lambda-otel-relay); left alone',
    );
    expect(out).toContain('summary: 1 updated, 0 unchanged, 1 skipped, 0 failed');
    expect(proxy.count('PUT', /\/functions\/fleet-adot\//)).toBe(0);
    expect((await configuration(client, 'fleet-adot')).RevisionId).toBe(adotBefore.RevisionId);
    expect((await configuration(client, 'fleet-had-endpoint')).Environment?.Variables).toEqual({
      TABLE: 't',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://old.example:4318',
    });
  });

  it('attach refuses a function with no endpoint and one on nodejs18.x, with the fix, and changes neither', async () => {
    // Prepare
    await createFunction(client, 'refuse-no-endpoint');
    await createFunction(client, 'refuse-node18', { Runtime: 'nodejs18.x' });

    // Act
    const { code, err } = await cli(attach, ['refuse-no-endpoint', 'refuse-node18', '--layer', relayV2]);

    // Assess
    expect(code).toBe(1);
    const text = err.join('\n');
    expect(text).toMatch(/refuse-no-endpoint would have no endpoint to export to .*pass --endpoint/);
    expect(text).toMatch(
      /refuse-node18 runs nodejs18\.x, older than the Node\.js 20 .*--runtime nodejs22\.x/,
    );
    expect(proxy.count('PUT', UPDATE)).toBe(0);
  });

  it('streams one line per function as it completes, at most --concurrency at once, then a summary', async () => {
    // Prepare
    const names = Array.from({ length: 24 }, (_, i) => `bulk-${String(i).padStart(2, '0')}`);
    for (const name of names) await createFunction(client, name);
    proxy.reset();
    const putsWhenLinePrinted: number[] = [];
    const out: string[] = [];
    const io = {
      out: (l: string) => {
        if (/^bulk-\d+: updated$/.test(l)) putsWhenLinePrinted.push(proxy.count('PUT', UPDATE));
        out.push(l);
      },
      err: (l: string) => out.push(l),
    };

    // Act
    const code = await attach(['--prefix', 'bulk-', '--layer', relayV2, '--concurrency', '4', ...ENDPOINT], {
      io,
      clock: virtualClock(),
    });

    // Assess: the first line came after at most 4 updates were sent, long before the 24th.
    expect(code).toBe(0);
    expect(putsWhenLinePrinted).toHaveLength(24);
    expect(putsWhenLinePrinted[0]).toBeGreaterThanOrEqual(1);
    expect(putsWhenLinePrinted[0]).toBeLessThanOrEqual(4);
    expect(proxy.count('PUT', UPDATE)).toBe(24);
    expect(out.at(-1)).toBe('summary: 24 updated, 0 unchanged, 0 failed');
  });

  it('says what was done and what was left when interrupted, and starts nothing after', async () => {
    // Prepare
    const names = Array.from({ length: 8 }, (_, i) => `intr-${i}`);
    for (const name of names) await createFunction(client, name);
    proxy.reset();
    const interrupt = new AbortController();
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      out: (l: string) => {
        out.push(l);
        // Ctrl-C right after the third function is reported.
        if (out.filter((x) => x.endsWith(': updated')).length === 3) interrupt.abort();
      },
      err: (l: string) => err.push(l),
    };

    // Act
    const code = await attach(['--prefix', 'intr-', '--layer', relayV2, '--concurrency', '1', ...ENDPOINT], {
      io,
      clock: virtualClock(),
      interrupt: interrupt.signal,
    });

    // Assess
    expect(code).toBe(1);
    expect(proxy.count('PUT', UPDATE)).toBe(3);
    expect(err.at(-1)).toMatch(
      /^interrupted: 3 updated, 0 unchanged, 0 failed; 5 not started and left as they were \(intr-\d, intr-\d, intr-\d, intr-\d, intr-\d\)$/,
    );
    let untouched = 0;
    for (const name of names)
      if (((await configuration(client, name)).Layers ?? []).length === 0) untouched++;
    expect(untouched).toBe(5);
  });

  it('prints one JSON line per function and a JSON summary with --json', async () => {
    // Prepare
    await createFunction(client, 'jsonl-a');
    await createFunction(client, 'jsonl-b', { Runtime: 'python3.12', Handler: 'index.handler' });

    // Act
    const { code, out } = await cli(attach, [
      '--prefix',
      'jsonl-',
      '--layer',
      relayV2,
      '--json',
      ...ENDPOINT,
    ]);

    // Assess
    expect(code).toBe(1);
    const lines = out.map((l) => JSON.parse(l));
    expect(lines).toContainEqual({
      function: 'jsonl-a',
      result: 'changed',
      changes: [`+ layer ${relayV2}`, '+ env OTEL_EXPORTER_OTLP_ENDPOINT=https://collector.example.com:4318'],
    });
    expect(lines).toContainEqual(
      expect.objectContaining({
        function: 'jsonl-b',
        result: 'failed',
        error: expect.stringMatching(/python3\.12/),
      }),
    );
    expect(lines.at(-1)).toEqual({
      summary: {
        updated: 1,
        wouldChange: 0,
        unchanged: 0,
        skipped: 0,
        failed: 1,
        notStarted: 0,
        interrupted: false,
        notStartedFunctions: [],
      },
    });
  });

  it('prints the IAM statement the roles need for a headers secret named without its suffix and a fallback', async () => {
    // Prepare
    await createFunction(client, 'iam-fn');

    // Act
    const { code, err } = await cli(attach, [
      'iam-fn',
      '--layer',
      relayV2,
      '--headers-secret-arn',
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:otlp-headers',
      '--fallback-s3-uri',
      's3://spill-bucket/relay/',
      ...ENDPOINT,
    ]);

    // Assess
    expect(code).toBe(0);
    const text = err.join('\n');
    const policy = JSON.parse(text.slice(text.indexOf('{')));
    expect(policy.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:otlp-headers-??????',
      },
      { Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::spill-bucket/relay/*' },
    ]);
  });

  it('redacts credentials in endpoint URLs in the diff and in status, table and JSON', async () => {
    // Prepare
    await createFunction(client, 'redact-fn');
    const secretUrl = 'https://tenant:hunter2@otlp.example.com:4318/?api_key=abc123';

    // Act
    const attached = await cli(attach, ['redact-fn', '--layer', relayV2, '--endpoint', secretUrl]);
    const table = await cli(status, ['redact-fn']);
    const json = await cli(status, ['redact-fn', '--json']);

    // Assess
    expect(attached.code).toBe(0);
    const everything = [...attached.out, ...attached.err, ...table.out, ...json.out].join('\n');
    expect(everything).not.toMatch(/hunter2|abc123|tenant/);
    expect(attached.out).toContain('  + env OTEL_EXPORTER_OTLP_ENDPOINT=https://***@otlp.example.com:4318/');
    expect(JSON.parse(json.out.join('\n')).functions[0].endpoint).toBe('https://***@otlp.example.com:4318/');
    // The function itself has the real value: only what is printed is redacted.
    expect(
      (await configuration(client, 'redact-fn')).Environment?.Variables?.OTEL_EXPORTER_OTLP_ENDPOINT,
    ).toBe(secretUrl);
  });
});
