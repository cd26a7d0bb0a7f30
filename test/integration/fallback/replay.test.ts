// `lambda-otel-relay replay` (the built CLI) against a real collector and a real S3 server: objects
// the extension spilled, and a spool directory, reach the collector with their span ids intact, and
// are deleted only after the collector took them.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectKey, Spool } from '../../../src/extension/fallback/index.js';
import { type CollectorPeer, startCollector } from '../../helpers/collector.js';
import { type S3Peer, startS3 } from '../../helpers/s3.js';
import { tracesRequest } from './otlp-fixtures.js';

const run = promisify(execFile);

/** A fresh spool directory; its files are dated from a second ago, 1 ms apart, in write order. */
function tempSpool(): { dir: string; spool: Spool } {
  const dir = mkdtempSync(join(tmpdir(), 'replay-spool-'));
  let t = Date.now() - 1000;
  return { dir, spool: new Spool({ dir, maxBytes: 1 << 20, now: () => t++ }) };
}

/** An OTLP/JSON traces request as a collector's awss3exporter writes it (marshaler otlp_json). */
function jsonTraces(spanId: string) {
  return {
    resourceSpans: [
      {
        scopeSpans: [
          {
            spans: [
              {
                traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
                spanId,
                name: 'from-json',
                startTimeUnixNano: '1',
                endTimeUnixNano: '2',
              },
            ],
          },
        ],
      },
    ],
  };
}
let s3: S3Peer;
let collector: CollectorPeer;

function cli(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, ['dist/cli.mjs', 'replay', ...args], {
    env: { ...process.env, ...s3.env, ...env },
    timeout: 60_000,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

beforeAll(async () => {
  [s3, collector] = await Promise.all([startS3(), startCollector()]);
  await s3.createBucket('replay-src');
});
afterAll(async () => {
  await Promise.all([s3?.stop(), collector?.stop()]);
});

/** The last JSON progress line replay wrote to stderr; every stderr line must be one. */
function lastProgress(stderr: string): Record<string, unknown> {
  const lines = stderr.trim().split('\n');
  const parsed = lines.map((l) => JSON.parse(l) as { progress: Record<string, unknown> });
  for (const p of parsed) expect(p.progress).toBeDefined();
  return parsed.at(-1)!.progress;
}

describe('replay', () => {
  it('re-sends S3 objects in the time range to the collector and deletes them, and a second run finds nothing', async () => {
    const inRange = await tracesRequest(['a1', 'a2', 'a3']);
    const old = await tracesRequest(['old']);
    const now = Date.now();
    const k1 = objectKey({ bucket: 'replay-src', prefix: 'fb' }, 'traces', now);
    const k2 = objectKey({ bucket: 'replay-src', prefix: 'fb' }, 'traces', now - 3 * 86_400_000);
    await s3.putObject('replay-src', k1, gzipSync(inRange.body));
    await s3.putObject('replay-src', k2, gzipSync(old.body));
    await s3.putObject('replay-src', 'fb/README.txt', 'not telemetry');
    const inLastDay = ['--from', 's3://replay-src/fb', '--to', collector.httpEndpoint, '--since', '1d'];

    const dry = await cli([...inLastDay, '--dry-run']);
    // Not a terminal: progress goes to stderr as JSON lines, the last one for the whole run.
    expect(lastProgress(dry.stderr)).toMatchObject({
      objects: { done: 1, total: 1 },
      items: 3,
      etaSeconds: 0,
    });
    expect(dry.code).toBe(0);
    // The list names each object with its signal, items and stored bytes, then the summary.
    const stored = (await s3.listObjects('replay-src', 'fb/')).find((o) => o.key === k1);
    expect(dry.stdout).toMatch(
      new RegExp(`^ +traces +3 spans +${stored?.size} B +s3://replay-src/${k1.replace(/[.]/g, '\\.')}$`, 'm'),
    );
    expect(dry.stdout).not.toContain(k2);
    expect(dry.stdout).toMatch(/dry run: would send 1 objects, \d+ bytes \(3 spans\)/);
    expect((await s3.listObjects('replay-src', 'fb/')).map((o) => o.key).sort()).toEqual(
      [k2, 'fb/README.txt', k1].sort(),
    );

    const first = await cli(inLastDay);
    expect(first.stdout).toMatch(/replayed 1 of 1 objects/);
    expect(first.code).toBe(0);
    const got = await collector.waitFor((r) => r.spans().length >= 3, 20_000);
    expect(
      got
        .spans()
        .map((s) => s.spanId)
        .sort(),
    ).toEqual([...inRange.spanIds].sort());
    expect((await s3.listObjects('replay-src', 'fb/')).map((o) => o.key).sort()).toEqual(
      [k2, 'fb/README.txt'].sort(),
    );

    const second = await cli(inLastDay);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/replayed 0 of 0 objects/);
    expect((await collector.received()).spans()).toHaveLength(3);
  });

  it('re-sends otlp_json objects written by a collector awss3exporter as OTLP/JSON', async () => {
    const spanId = '00f067aa0ba902b7';
    const key = objectKey({ bucket: 'replay-src', prefix: 'json' }, 'traces', Date.now()).replace(
      '.binpb.gz',
      '.json',
    );
    const json = jsonTraces(spanId);
    await s3.putObject('replay-src', key, JSON.stringify(json));
    const res = await cli(['--from', 's3://replay-src/json', '--to', collector.httpEndpoint]);
    expect(res.code).toBe(0);
    await collector.waitFor((r) => r.spans().some((s) => s.spanId === spanId), 20_000);
    expect(await s3.listObjects('replay-src', 'json/')).toEqual([]);
  });

  it('keeps every spool file and exits 1 when the collector is unreachable', async () => {
    const { dir, spool } = tempSpool();
    await spool.write('traces', (await tracesRequest(['s1'])).body, 1);
    const res = await cli(['--spool', dir, '--to', 'http://127.0.0.1:9', '--timeout', '1500']);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/failed 1/);
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('re-sends a spool directory oldest first and empties it', async () => {
    const { dir, spool } = tempSpool();
    const b1 = await tracesRequest(['s1', 's2']);
    const b2 = await tracesRequest(['s3']);
    await spool.write('traces', b1.body, 2);
    await spool.write('traces', b2.body, 1);
    const before = (await collector.received()).traces.length;
    const res = await cli(['--spool', dir, '--to', collector.httpEndpoint, '--json']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      found: 2,
      sent: 2,
      deleted: 2,
      failed: 0,
      items: { traces: 3 },
    });
    const got = await collector.waitFor((r) => r.traces.length >= before + 2, 20_000);
    const ids = got
      .spans()
      .filter((s) => s.request >= before)
      .map((s) => s.spanId);
    expect(ids).toEqual([...b1.spanIds, ...b2.spanIds]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses conflicting sources with a usage error', async () => {
    const res = await cli(['--from', 's3://a', '--spool', '/tmp/x']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/exactly one of --from/);
  });

  it('lists each spool file in a dry run, as JSON too, and sends nothing', async () => {
    const { dir, spool } = tempSpool();
    const b1 = await tracesRequest(['d1', 'd2']);
    await spool.write('traces', b1.body, 2);
    const logs = new Uint8Array(0);
    await spool.write('logs', logs, 0);
    const files = readdirSync(dir).sort();
    const before = (await collector.received()).traces.length;

    const res = await cli(['--spool', dir, '--to', collector.httpEndpoint, '--dry-run', '--json']);
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout);
    expect(summary).toMatchObject({
      dryRun: true,
      found: 2,
      sent: 0,
      deleted: 0,
      items: { traces: 2, logs: 0 },
    });
    expect(summary.listed).toEqual([
      { id: join(dir, files[0] ?? ''), signal: 'traces', items: 2, bytes: b1.body.length },
      { id: join(dir, files[1] ?? ''), signal: 'logs', items: 0, bytes: 0 },
    ]);

    const text = await cli(['--spool', dir, '--to', collector.httpEndpoint, '--dry-run']);
    expect(text.stdout.split('\n').slice(0, 3)).toEqual([
      expect.stringMatching(
        new RegExp(`^ +traces +2 spans +${b1.body.length} B +${join(dir, files[0] ?? '')}$`),
      ),
      expect.stringMatching(new RegExp(`^ +logs +0 log records +0 B +${join(dir, files[1] ?? '')}$`)),
      expect.stringMatching(/^dry run: would send 2 objects/),
    ]);
    expect(readdirSync(dir).sort()).toEqual(files);
    expect((await collector.received()).traces.length).toBe(before);
  });

  it('re-sends S3 objects, protobuf and OTLP/JSON, over OTLP/gRPC (grpc://) and deletes them', async () => {
    const batch = await tracesRequest(['g1', 'g2']);
    const key = objectKey({ bucket: 'replay-src', prefix: 'grpc' }, 'traces', Date.now());
    await s3.putObject('replay-src', key, gzipSync(batch.body));
    const jsonSpanId = randomBytes(8).toString('hex');
    const jsonKey = objectKey({ bucket: 'replay-src', prefix: 'grpc' }, 'traces', Date.now()).replace(
      '.binpb.gz',
      '.json',
    );
    await s3.putObject('replay-src', jsonKey, JSON.stringify(jsonTraces(jsonSpanId)));
    const grpcTarget = collector.grpcEndpoint.replace(/^http:/, 'grpc:');

    const res = await cli(['--from', 's3://replay-src/grpc', '--to', grpcTarget, '--json']);
    expect(lastProgress(res.stderr)).toMatchObject({ objects: { done: 2, total: 2 }, etaSeconds: 0 });
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      protocol: 'grpc',
      found: 2,
      sent: 2,
      deleted: 2,
      failed: 0,
    });
    const wanted = [...batch.spanIds, jsonSpanId];
    const got = await collector.waitFor(
      (r) => wanted.every((id) => r.spans().some((s) => s.spanId === id)),
      20_000,
    );
    expect(got.spans().filter((s) => wanted.includes(s.spanId))).toHaveLength(3);
    expect(await s3.listObjects('replay-src', 'grpc/')).toEqual([]);
  });

  it('re-sends a spool directory over OTLP/gRPC with --protocol grpc', async () => {
    const { dir, spool } = tempSpool();
    const batch = await tracesRequest(['p1']);
    await spool.write('traces', batch.body, 1);
    const res = await cli(['--spool', dir, '--protocol', 'grpc', '--to', collector.grpcEndpoint]);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /replayed 1 of 1 objects, \d+ bytes \(1 span\), from .* to grpc:\/\/127\.0\.0\.1:\d+$/m,
    );
    await collector.waitFor((r) => r.spans().some((s) => s.spanId === batch.spanIds[0]), 20_000);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps the spool file and exits 1 when nothing answers gRPC at the target', async () => {
    const { dir, spool } = tempSpool();
    await spool.write('traces', (await tracesRequest(['k1'])).body, 1);
    // The collector's OTLP/HTTP port speaks HTTP/1.1 only: a gRPC call there fails like a wrong address.
    const res = await cli([
      '--spool',
      dir,
      '--to',
      collector.httpEndpoint.replace(/^http:/, 'grpc:'),
      '--timeout',
      '1500',
    ]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/failed 1/);
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('lists an S3 object it cannot decode with the reason in a dry run, and keeps it', async () => {
    const key = objectKey({ bucket: 'replay-src', prefix: 'bad' }, 'logs', Date.now());
    await s3.putObject('replay-src', key, 'not gzip, not OTLP');
    const res = await cli([
      '--from',
      's3://replay-src/bad',
      '--to',
      collector.httpEndpoint,
      '--dry-run',
      '--json',
    ]);
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout);
    expect(summary.listed).toEqual([
      {
        id: `s3://replay-src/${key}`,
        signal: 'logs',
        items: null,
        bytes: 18,
        problem: expect.stringMatching(/^could not be read or decoded: /),
      },
    ]);
    expect(summary.items).toEqual({});
    expect((await s3.listObjects('replay-src', 'bad/')).map((o) => o.key)).toEqual([key]);
  });
});
