// Measurements behind test/bench/fallback.bench.mjs (bundled by it with esbuild): the same real
// parts as the chaos suite (emulator + built layer, moto), timed instead of asserted.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger, SignalExporter } from '../../src/extension/export/index.js';
import { createFallbackDelivery } from '../../src/extension/fallback/index.js';
import { freePort } from '../helpers/ports.js';
import { type S3Peer, startS3 } from '../helpers/s3.js';
import { startRelayEnv } from './relay-env.js';

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[i] ?? Number.NaN) * 100) / 100;
}

export async function withS3<T>(fn: (s3: S3Peer) => Promise<T>): Promise<T> {
  const s3 = await startS3();
  try {
    await s3.createBucket('bench');
    return await fn(s3);
  } finally {
    await s3.stop();
  }
}

/** Post-runtime ms of each invocation while the collector is down (after a warm-up that opens the breaker). */
export async function outagePostRuntime(s3: S3Peer, flush: string, invocations: number, warmup: number) {
  const relay = await startRelayEnv({
    collectorUrl: `http://127.0.0.1:${await freePort()}`,
    s3: { peer: s3, endpoint: s3.endpoint, uri: `s3://bench/outage-${flush.replace(/\W/g, '')}` },
    flush,
  });
  try {
    const post: number[] = [];
    // The invocations before the breaker opens are where a dead collector costs the most.
    const beforeBreakerOpens: number[] = [];
    for (let i = 0; i < warmup + invocations; i++) {
      const r = await relay.env.invoke({ spans: 5, tag: `b${i}` });
      if (r.status !== 'success')
        throw new Error(`bench invoke ${i} ended ${r.status}: ${relay.env.output()}`);
      if (i >= warmup) post.push(r.postRuntimeMs);
      else beforeBreakerOpens.push(Math.round(r.postRuntimeMs * 10) / 10);
    }
    await relay.env.shutdown();
    return {
      p50: percentile(post, 50),
      p99: percentile(post, 99),
      max: percentile(post, 100),
      n: post.length,
      warmupMs: beforeBreakerOpens,
    };
  } finally {
    await relay.env.dispose();
    rmSync(relay.tmpDir, { recursive: true, force: true });
  }
}

const quietLog: Logger = {
  debug() {},
  info() {},
  warn: (m) => {
    if (process.env.BENCH_DEBUG) console.error(m);
  },
  error: (m) => console.error(m),
};
const deadExporter: SignalExporter = {
  export: async () => ({ kind: 'retryable', reason: 'ECONNREFUSED' }),
  resetConnections() {},
  close() {},
};

/** Batches per second and MB/s spilled straight to S3 (moto) or the spool, breaker open. */
export async function spillThroughput(
  target: 's3' | 'spool',
  s3: S3Peer | undefined,
  batchBytes: number,
  batches: number,
) {
  const spoolDir = mkdtempSync(join(tmpdir(), 'bench-spool-'));
  const env: Record<string, string> = {
    OTEL_RELAY_SPOOL_DIR: spoolDir,
    OTEL_RELAY_SPOOL_MAX_BYTES: String(4 * 1024 * 1024 * 1024),
    OTEL_RELAY_BREAKER_THRESHOLD: '1',
    OTEL_RELAY_BREAKER_OPEN_MS: '3600000',
  };
  if (target === 's3' && s3) {
    Object.assign(env, s3.env, {
      OTEL_RELAY_FALLBACK_S3_URI: 's3://bench/throughput',
      OTEL_RELAY_S3_ENDPOINT: s3.endpoint,
    });
  }
  const delivery = createFallbackDelivery({
    exporter: deadExporter,
    env,
    clock: { now: Date.now, monotonic: () => performance.now() },
    log: quietLog,
  });
  // Random bytes do not compress: the worst case for the gzip step (real OTLP shrinks 5-10x).
  const body = new Uint8Array(randomBytes(batchBytes));
  const budget = () => ({
    deadline: Date.now() + 10_000,
    abort: new AbortController().signal,
    reason: 'invoke' as const,
  });
  // One batch opens the breaker; from then on every batch goes straight to the fallback.
  await delivery.deliver({ signal: 'traces', body, items: 1, oldestAcceptedAt: 0 }, budget());
  const per: number[] = [];
  const start = performance.now();
  for (let i = 0; i < batches; i++) {
    const t = performance.now();
    const res = await delivery.deliver({ signal: 'traces', body, items: 1, oldestAcceptedAt: 0 }, budget());
    if (res.kind !== 'spilled' || (target === 's3') !== res.location.startsWith('s3://')) {
      throw new Error(`bench: expected a spill to ${target}, got ${JSON.stringify(res)}`);
    }
    per.push(performance.now() - t);
  }
  const seconds = (performance.now() - start) / 1000;
  rmSync(spoolDir, { recursive: true, force: true });
  return {
    batchesPerSec: Math.round(batches / seconds),
    mbPerSec: Math.round(((batches * batchBytes) / 1024 / 1024 / seconds) * 10) / 10,
    p50Ms: percentile(per, 50),
    p99Ms: percentile(per, 99),
  };
}

/** SHUTDOWN to exit with a buffer filled over many invocations and a dead collector. */
export async function shutdownWithFullBuffer(s3: S3Peer | undefined, invocations: number, spans: number) {
  const relay = await startRelayEnv({
    collectorUrl: `http://127.0.0.1:${await freePort()}`,
    s3: s3 ? { peer: s3, endpoint: s3.endpoint, uri: 's3://bench/shutdown' } : undefined,
    flush: 'periodic:3600000',
  });
  try {
    for (let i = 0; i < invocations; i++) {
      const r = await relay.env.invoke({ spans, tag: `s${i}` });
      if (r.status !== 'success') throw new Error(`bench invoke ended ${r.status}`);
    }
    const sd = await relay.env.shutdown();
    const ext = sd.extensions[0];
    const out = relay.env.output();
    const spilled = /"spilled":\{"traces":(\d+)/.exec(out)?.[1];
    const dropped = /"dropped":(\d+)/.exec(out)?.[1];
    return {
      shutdownMs: Math.round(sd.durationMs),
      exitState: ext?.state ?? 'none',
      spans: invocations * spans,
      spilled: Number(spilled ?? Number.NaN),
      dropped: Number(dropped ?? Number.NaN),
    };
  } finally {
    await relay.env.dispose();
    rmSync(relay.tmpDir, { recursive: true, force: true });
  }
}
