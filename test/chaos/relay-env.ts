// One Lambda environment in the local emulator running the built layer (dist/layer) and the
// extension's fixture function (real OTel JS SDK exporters), wired to a collector URL and an S3
// endpoint chosen by the scenario.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listSpoolDir } from '../../src/extension/fallback/index.js';
import { LambdaEnvironment } from '../../src/local/index.js';
import { freePort } from '../helpers/ports.js';
import type { S3Peer } from '../helpers/s3.js';

const root = resolve(import.meta.dirname, '../..');

export interface RelayEnv {
  env: LambdaEnvironment;
  tmpDir: string;
  spoolDir: string;
  flushTimeoutMs: number;
  /** Names of the batch files in the spool now. */
  spoolFiles(): Promise<string[]>;
}

export async function startRelayEnv(opts: {
  collectorUrl: string;
  s3?: { peer: S3Peer; endpoint: string; uri: string };
  flush?: string;
  flushTimeoutMs?: number;
  timeoutMs?: number;
  extra?: Record<string, string>;
  /** A function directory instead of the extension's fixture function. */
  codeDir?: string;
}): Promise<RelayEnv> {
  const tmpDir = mkdtempSync(join(tmpdir(), 'chaos-tmp-'));
  const flushTimeoutMs = opts.flushTimeoutMs ?? 600;
  const vars: Record<string, string> = {
    OTEL_RELAY_HTTP_PORT: String(await freePort()),
    OTEL_RELAY_GRPC_PORT: 'off',
    OTEL_RELAY_SELF_TELEMETRY: 'false',
    OTEL_RELAY_FLUSH: opts.flush ?? 'end',
    OTEL_RELAY_FLUSH_TIMEOUT_MS: String(flushTimeoutMs),
    OTEL_EXPORTER_OTLP_ENDPOINT: opts.collectorUrl,
    OTEL_EXPORTER_OTLP_TIMEOUT: '300',
    OTEL_RELAY_LOG_LEVEL: 'info',
    ...opts.extra,
  };
  if (opts.s3) {
    Object.assign(vars, opts.s3.peer.env, {
      OTEL_RELAY_FALLBACK_S3_URI: opts.s3.uri,
      OTEL_RELAY_S3_ENDPOINT: opts.s3.endpoint,
    });
  }
  const env = await LambdaEnvironment.start({
    codeDir: opts.codeDir ?? join(root, 'test/fixtures/extension/function'),
    handler: 'index.handler',
    layers: [join(root, 'dist/layer')],
    functionName: 'chaos',
    timeoutMs: opts.timeoutMs ?? 5000,
    tmpDir,
    env: vars,
  });
  const spoolDir = join(tmpDir, 'otel-relay-spool');
  const spoolFiles = async () => (await listSpoolDir(spoolDir)).map((e) => e.name);
  return { env, tmpDir, spoolDir, flushTimeoutMs, spoolFiles };
}
