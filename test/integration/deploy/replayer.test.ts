// The replay function the OtelRelayReplayer construct deploys (dist/replayer, the same replay loop
// as the CLI), run in the local Lambda emulator against moto's S3 and a real collector: an S3 event
// re-sends the objects it names and deletes them, a second delivery of the event finds them gone and
// succeeds (idempotent deletes), and an unreachable collector fails the invocation (for Lambda's
// retries and the dead-letter queue) with every object left in the bucket.
import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectKey } from '../../../src/extension/fallback/index.js';
import { runLocal } from '../../../src/local/index.js';
import type { InvocationResult, OutputLine } from '../../../src/local/types.js';
import { type CollectorPeer, startCollector } from '../../helpers/collector.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { type S3Peer, startS3 } from '../../helpers/s3.js';
import { tracesRequest } from '../fallback/otlp-fixtures.js';

let s3: S3Peer;
let collector: CollectorPeer;
const BUCKET = 'replayer-spill';

beforeAll(async () => {
  [s3, collector] = await Promise.all([startS3(), startCollector()]);
  await s3.createBucket(BUCKET);
});
afterAll(async () => {
  await Promise.all([s3?.stop(), collector?.stop()]);
});
printLogsOnFailure('moto', () => s3);

function s3Event(keys: string[], bucket = BUCKET) {
  return {
    Records: keys.map((key) => ({
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      s3: {
        bucket: { name: bucket },
        object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: 1 },
      },
    })),
  };
}

/** Runs the replay function `count` times on `event` in the emulator; results and function output. */
async function invoke(event: unknown, env: Record<string, string>, count = 1) {
  const results: InvocationResult[] = [];
  const output: string[] = [];
  await runLocal(
    {
      codeDir: 'dist/replayer',
      handler: 'index.handler',
      layers: [],
      functionName: 'otel-relay-replayer',
      timeoutMs: 30_000,
      memoryMb: 512,
      count,
      event,
      json: true,
      env: { ...s3.env, OTEL_RELAY_REPLAY_FROM: `s3://${BUCKET}/fb/`, ...env },
      onInvocation: (r) => results.push(r),
      onOutput: (l: OutputLine) => output.push(l.text),
    },
    { stdout: () => {}, stderr: () => {} },
  );
  return { results, output: output.join('\n') };
}

describe('the replay function in the emulator', () => {
  it('re-sends the objects an S3 event names, deletes them, and finds them gone the second time', async () => {
    // Prepare
    expect(existsSync('dist/replayer/index.mjs'), 'built by the test global setup').toBe(true);
    const a = await tracesRequest(['r1', 'r2']);
    const b = await tracesRequest(['r3']);
    const ka = objectKey({ bucket: BUCKET, prefix: 'fb' }, 'traces', Date.now());
    const kb = objectKey({ bucket: BUCKET, prefix: 'fb' }, 'traces', Date.now());
    await s3.putObject(BUCKET, ka, gzipSync(a.body));
    await s3.putObject(BUCKET, kb, gzipSync(b.body));
    const elsewhere = 'other/prefix/year=2026/month=01/day=01/hour=00/minute=00/traces_x.binpb.gz';
    const event = s3Event([ka, kb, elsewhere]);

    // Act: the same event twice, as S3 may deliver it.
    const { results, output } = await invoke(
      event,
      { OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpEndpoint },
      2,
    );

    // Assess
    expect(results.map((r) => r.status)).toEqual(['success', 'success']);
    expect(results[0]!.response).toMatchObject({
      objects: 2,
      sent: 2,
      deleted: 2,
      failed: 0,
      gone: 0,
      skipped: 1,
    });
    expect(results[1]!.response).toMatchObject({ objects: 2, sent: 0, failed: 0, gone: 2, skipped: 1 });
    const got = await collector.waitFor(
      (r) => [...a.spanIds, ...b.spanIds].every((id) => r.spans().some((s) => s.spanId === id)),
      15_000,
    );
    expect(got.spans().filter((s) => [...a.spanIds, ...b.spanIds].includes(s.spanId))).toHaveLength(3);
    expect(await s3.listObjects(BUCKET, 'fb/')).toEqual([]);
    // Self-metrics: one embedded-metric line per invocation.
    const metrics = output
      .split('\n')
      .filter((l) => l.includes('"CloudWatchMetrics"'))
      .map((l) => JSON.parse(l.slice(l.indexOf('{'))));
    expect(metrics.map((m) => [m.ObjectsSent, m.ObjectsGone])).toEqual([
      [2, 0],
      [0, 2],
    ]);
  });

  it('fails the invocation when the collector is unreachable and leaves every object in S3', async () => {
    // Prepare
    const c = await tracesRequest(['kept']);
    const kc = objectKey({ bucket: BUCKET, prefix: 'fb' }, 'traces', Date.now());
    await s3.putObject(BUCKET, kc, gzipSync(c.body));

    // Act
    const { results } = await invoke(s3Event([kc]), {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
      OTEL_RELAY_REPLAY_TIMEOUT_MS: '1000',
    });

    // Assess
    expect(results[0]!.status).toBe('error');
    expect(results[0]!.error?.errorMessage).toMatch(
      /1 of 1 objects were not delivered and stay in S3.*dead-letter queue/,
    );
    expect((await s3.listObjects(BUCKET, 'fb/')).map((o) => o.key)).toEqual([kc]);
  });

  it('sweeps the whole prefix when a schedule invokes it', async () => {
    // Prepare: what the failed run above left, and the collector is back.
    const before = (await s3.listObjects(BUCKET, 'fb/')).length;
    expect(before).toBeGreaterThan(0);

    // Act
    const { results } = await invoke(
      { source: 'aws.events', 'detail-type': 'Scheduled Event' },
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpEndpoint,
      },
    );

    // Assess
    expect(results[0]!.status).toBe('success');
    expect(results[0]!.response).toMatchObject({ sent: before, failed: 0 });
    expect(await s3.listObjects(BUCKET, 'fb/')).toEqual([]);
  });
});
