// From the emulator with the real built layer, the destinations whose peer is the machine itself or a
// local endpoint: console and emf read back from the extension's stdout as Lambda hands it to
// CloudWatch Logs (the emulator's extension log records), file read back from the files it wrote, and
// awsxray/awslogs read back from an endpoint that verifies every SigV4 signature with the AWS SDK's
// signer. Every span, log record and data point the function sent is found exactly once.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeExportRequest } from '../../../src/otlp/index.js';
import { emfViolations } from '../../helpers/emf-schema.js';
import { type SigV4Endpoint, startSigV4Endpoint } from '../../helpers/sigv4-endpoint.js';
import { collect, emptyIds, type RelayEnv, type SentIds, useRelaySuite } from '../extension/harness.js';
import { finalLedger } from './ledger.js';

interface OtlpJson {
  resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ spanId: string }> }> }>;
  resourceLogs?: Array<{ scopeLogs?: Array<{ logRecords?: Array<{ body?: { stringValue?: string } }> }> }>;
  resourceMetrics?: Array<{
    scopeMetrics?: Array<{
      metrics?: Array<{
        name: string;
        sum?: {
          dataPoints?: Array<{ attributes?: Array<{ key: string; value: { stringValue?: string } }> }>;
        };
      }>;
    }>;
  }>;
}

/** The ids carried by OTLP/JSON export requests (span ids, log bodies, fixture.work point ids). */
function idsIn(requests: OtlpJson[]): SentIds {
  const out = emptyIds();
  for (const r of requests) {
    for (const rs of r.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) out.spanIds.push(s.spanId);
    for (const rl of r.resourceLogs ?? [])
      for (const sl of rl.scopeLogs ?? [])
        for (const l of sl.logRecords ?? []) out.logs.push(String(l.body?.stringValue));
    for (const rm of r.resourceMetrics ?? [])
      for (const sm of rm.scopeMetrics ?? [])
        for (const m of sm.metrics ?? [])
          if (m.name === 'fixture.work')
            for (const p of m.sum?.dataPoints ?? [])
              out.points.push(String(p.attributes?.find((a) => a.key === 'point.id')?.value.stringValue));
  }
  return out;
}

const sorted = (xs: string[]) => [...xs].sort();

/** What the extension wrote on stdout, line by line, as Lambda passes it on to CloudWatch Logs. */
function extensionLogLines(relay: RelayEnv): string[] {
  return relay.env.telemetry.filter((r) => r.type === 'extension').map((r) => String(r.record));
}

/** Lines that parse as JSON objects with the given top-level key. */
function jsonLinesWith(lines: string[], key: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      continue;
    }
    if (o && typeof o === 'object' && key in o) out.push(o as Record<string, unknown>);
  }
  return out;
}

/** Invokes the fixture `n` times (2 spans, 1 log record, 1 point each), then shuts down. */
async function run(relay: RelayEnv, tag: string, n = 3): Promise<SentIds> {
  const sent = emptyIds();
  for (let i = 0; i < n; i++) {
    const r = await relay.env.invoke({ tag: `${tag}-${i}`, spans: 2, logs: 1, points: 1 });
    expect(r.status).toBe('success');
    collect(sent, r.response);
  }
  await relay.env.shutdown();
  return sent;
}

describe('console, emf, file, awsxray and awslogs from the emulator with the real layer', () => {
  const suite = useRelaySuite();

  it('console: every span, log record and point is on the extension stdout once, one request per line', async () => {
    // Prepare
    const relay = await suite.start({
      flush: 'end',
      env: {
        OTEL_RELAY_TRACES_EXPORTER: 'console',
        OTEL_RELAY_METRICS_EXPORTER: 'console',
        OTEL_RELAY_LOGS_EXPORTER: 'console',
      },
    });
    // Act
    const sent = await run(relay, `console-${Date.now()}`);
    // Assess
    const lines = extensionLogLines(relay);
    const requests = [
      ...jsonLinesWith(lines, 'resourceSpans'),
      ...jsonLinesWith(lines, 'resourceLogs'),
      ...jsonLinesWith(lines, 'resourceMetrics'),
    ] as OtlpJson[];
    const got = idsIn(requests);
    expect(sorted(got.spanIds)).toEqual(sorted(sent.spanIds));
    expect(sorted(got.logs)).toEqual(sorted(sent.logs));
    expect(sorted(got.points)).toEqual(sorted(sent.points));
    expect(sent.spanIds).toHaveLength(6);
    // Nothing reached the collector: console was the only destination.
    expect((await suite.collector.received()).spans().filter((s) => sent.spanIds.includes(s.spanId))).toEqual(
      [],
    );
    // The relay's own metrics ride the same pipeline, so metrics count more than the fixture's 3.
    const ledger = finalLedger(relay.env.output());
    expect(ledger.exported).toMatchObject({ traces: 6, logs: 3 });
    expect(ledger.received).toEqual(ledger.exported);
  });

  it('emf: every point is a spec-valid EMF object on the extension stdout, with its dimensions', async () => {
    // Prepare
    const functionName = `emf-${Date.now()}`;
    const relay = await suite.start({
      flush: 'end',
      config: { functionName },
      env: { OTEL_RELAY_METRICS_EXPORTER: 'emf', OTEL_RELAY_EMF_NAMESPACE: 'RelayE2E' },
    });
    // Act
    const sent = await run(relay, functionName);
    // Assess
    const objects = jsonLinesWith(extensionLogLines(relay), '_aws');
    expect(objects.map(emfViolations)).toEqual(objects.map(() => []));
    const work = objects.filter((o) => 'fixture.work' in o);
    expect(sorted(work.map((o) => String(o['point.id'])))).toEqual(sorted(sent.points));
    for (const o of work) {
      expect(o).toMatchObject({ 'fixture.work': 1, 'service.name': functionName });
      const directive = (o._aws as { CloudWatchMetrics: Array<Record<string, unknown>> })
        .CloudWatchMetrics[0];
      expect(directive).toMatchObject({
        Namespace: 'RelayE2E',
        Metrics: [expect.objectContaining({ Name: 'fixture.work' })],
      });
      expect((directive!.Dimensions as string[][]).flat().sort()).toEqual(['point.id', 'service.name']);
    }
    // Spans and logs still went to the collector (the default otlp).
    await suite.collector.waitFor(
      (r) => sent.spanIds.every((id) => r.spans().some((s) => s.spanId === id)),
      20_000,
    );
    const ledger = finalLedger(relay.env.output());
    expect(ledger.exported.metrics).toBe(ledger.received.metrics);
    expect(ledger.destinations?.emf?.exported.metrics).toBe(ledger.received.metrics);
  });

  it('file (json): every item is in the signal files the extension wrote, once', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'relay-file-e2e-'));
    try {
      const relay = await suite.start({
        flush: 'end',
        env: {
          OTEL_RELAY_TRACES_EXPORTER: 'file',
          OTEL_RELAY_METRICS_EXPORTER: 'file',
          OTEL_RELAY_LOGS_EXPORTER: 'file',
          OTEL_RELAY_FILE_PATH: join(dir, '{signal}-{instance}.jsonl'),
        },
      });
      // Act
      const sent = await run(relay, `file-${Date.now()}`);
      // Assess
      const files = readdirSync(dir).sort();
      expect(files.map((f) => f.replace(/-[0-9a-f-]{36}\.jsonl$/, ''))).toEqual([
        'logs',
        'metrics',
        'traces',
      ]);
      const requests = files.flatMap((f) =>
        readFileSync(join(dir, f), 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as OtlpJson),
      );
      const got = idsIn(requests);
      expect(sorted(got.spanIds)).toEqual(sorted(sent.spanIds));
      expect(sorted(got.logs)).toEqual(sorted(sent.logs));
      expect(sorted(got.points)).toEqual(sorted(sent.points));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('file (proto, rotated at 1 KiB): every span is in the current file or a backup, once', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'relay-file-e2e-'));
    try {
      const relay = await suite.start({
        flush: 'end',
        env: {
          OTEL_RELAY_TRACES_EXPORTER: 'file',
          OTEL_RELAY_FILE_PATH: join(dir, '{signal}.binpb'),
          OTEL_RELAY_FILE_FORMAT: 'proto',
          OTEL_RELAY_FILE_MAX_BYTES: '1KiB',
          OTEL_RELAY_FILE_MAX_BACKUPS: '50',
        },
      });
      // Act
      const sent = await run(relay, `rot-${Date.now()}`, 8);
      // Assess: more than one file (it rotated), each a sequence of length-prefixed requests.
      const files = readdirSync(dir);
      expect(files.length).toBeGreaterThan(1);
      const requests: OtlpJson[] = [];
      for (const f of files) {
        const buf = readFileSync(join(dir, f));
        expect(buf.length, f).toBeLessThanOrEqual(1024);
        for (let at = 0; at < buf.length; ) {
          const len = buf.readUInt32BE(at);
          requests.push(
            (await decodeExportRequest('traces', buf.subarray(at + 4, at + 4 + len))) as OtlpJson,
          );
          at += 4 + len;
        }
      }
      expect(sorted(idsIn(requests).spanIds)).toEqual(sorted(sent.spanIds));
      expect(sent.spanIds).toHaveLength(16);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('awsxray and awslogs against a SigV4-verifying endpoint', () => {
    const credentials = {
      accessKeyId: 'AKIDRELAYE2E',
      secretAccessKey: 'e2e/secret+with=odd',
      sessionToken: 'e2e/tok+en=',
    };
    let aws: SigV4Endpoint;
    beforeAll(async () => {
      aws = await startSigV4Endpoint(credentials);
    });
    afterAll(async () => {
      await aws?.close();
    });

    it('sends every span to X-Ray and every log record to CloudWatch Logs, each request signed for its service', async () => {
      // Prepare
      aws.seen.length = 0;
      const relay = await suite.start({
        flush: 'end',
        config: { region: 'eu-central-1' },
        env: {
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_SESSION_TOKEN: credentials.sessionToken,
          OTEL_RELAY_TRACES_EXPORTER: 'awsxray',
          OTEL_RELAY_AWSXRAY_ENDPOINT: `${aws.url}/v1/traces`,
          OTEL_RELAY_LOGS_EXPORTER: 'awslogs',
          OTEL_RELAY_AWSLOGS_ENDPOINT: `${aws.url}/v1/logs`,
          OTEL_RELAY_AWSLOGS_LOG_GROUP: '/otel/e2e',
        },
      });
      // Act
      const sent = await run(relay, `aws-${Date.now()}`);
      // Assess
      expect(aws.seen.map((r) => r.valid)).toEqual(aws.seen.map(() => true));
      expect(aws.seen.map((r) => r.region)).toEqual(aws.seen.map(() => 'eu-central-1'));
      const traces = aws.seen.filter((r) => r.path === '/v1/traces');
      const logs = aws.seen.filter((r) => r.path === '/v1/logs');
      expect(traces.every((r) => r.service === 'xray')).toBe(true);
      expect(logs.every((r) => r.service === 'logs')).toBe(true);
      expect(logs.every((r) => r.headers['x-aws-log-group'] === '/otel/e2e')).toBe(true);
      expect(logs.every((r) => r.headers['x-aws-log-stream'] === 'otel-relay')).toBe(true);
      const decoded = async (rs: typeof traces, signal: 'traces' | 'logs') =>
        Promise.all(rs.map(async (r) => (await decodeExportRequest(signal, r.body)) as OtlpJson));
      expect(sorted(idsIn(await decoded(traces, 'traces')).spanIds)).toEqual(sorted(sent.spanIds));
      expect(sorted(idsIn(await decoded(logs, 'logs')).logs)).toEqual(sorted(sent.logs));
      const ledger = finalLedger(relay.env.output());
      expect(ledger.exported.traces).toBe(6);
      expect(ledger.exported.logs).toBe(3);
    });
  });
});
