// The kafka destination against a real Apache Kafka broker (KRaft): what it produces is read back
// with a consumer and by the OpenTelemetry Collector's own kafkareceiver.
import { Kafka, logLevel } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDestination } from '../../../src/extension/destinations/kafka/index.js';
import { decodeExportRequest } from '../../../src/otlp/index.js';
import { startCollector } from '../../helpers/collector.js';
import { KAFKA_SCRAM, type KafkaBroker, sharedKafka, startKafka } from '../../helpers/kafka.js';
import { clock, hex, logsRequest, memoryLog, metricsRequest, send, tracesRequest } from './data-fixtures.js';

let broker: KafkaBroker;

beforeAll(async () => {
  broker = await sharedKafka();
}, 180_000);

/** Every message of `topic` from the beginning, waiting (bounded) until `min` have arrived. */
async function readTopic(topic: string, min: number, timeoutMs = 30_000) {
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `reader-${hex(4)}` });
  const got: Array<{ key: string | null; value: Buffer; partition: number }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`kafka: ${got.length} of ${min} messages on ${topic} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          got.push({ key: message.key?.toString() ?? null, value: message.value as Buffer, partition });
          if (got.length >= min) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

function env(extra: Record<string, string> = {}) {
  return { OTEL_RELAY_KAFKA_BROKERS: broker.bootstrap, ...extra };
}

describe('kafka destination', () => {
  it('produces one otlp_proto message per batch, per signal topic, read back byte for byte', async () => {
    // Prepare
    const run = hex(4);
    const topics = { traces: `spans_${run}`, metrics: `metrics_${run}`, logs: `logs_${run}` };
    const log = memoryLog();
    const d = await createDestination({
      env: env({
        OTEL_RELAY_KAFKA_TRACES_TOPIC: topics.traces,
        OTEL_RELAY_KAFKA_METRICS_TOPIC: topics.metrics,
        OTEL_RELAY_KAFKA_LOGS_TOPIC: topics.logs,
      }),
      clock,
      log,
    });
    const traces = tracesRequest('kafka-test', 3);
    const metrics = metricsRequest('kafka-test');
    const logs = logsRequest('kafka-test');
    try {
      // Act
      const outcomes = [
        await send(d, 'traces', traces.body),
        await send(d, 'metrics', metrics.body),
        await send(d, 'logs', logs.body),
      ];
      // Assess
      expect(outcomes).toEqual([{ kind: 'success' }, { kind: 'success' }, { kind: 'success' }]);
      const [t] = await readTopic(topics.traces, 1);
      const [m] = await readTopic(topics.metrics, 1);
      const [l] = await readTopic(topics.logs, 1);
      expect(Buffer.compare(t?.value ?? Buffer.alloc(0), Buffer.from(traces.body))).toBe(0);
      expect(Buffer.compare(m?.value ?? Buffer.alloc(0), Buffer.from(metrics.body))).toBe(0);
      expect(Buffer.compare(l?.value ?? Buffer.alloc(0), Buffer.from(logs.body))).toBe(0);
      expect(log.lines.filter((x) => x.startsWith('error'))).toEqual([]);
    } finally {
      d.close();
    }
  });

  it('splits traces into one message per trace keyed by trace id when partitioning by id', async () => {
    // Prepare
    const topic = `spans_${hex(4)}`;
    const d = await createDestination({
      env: env({ OTEL_RELAY_KAFKA_TRACES_TOPIC: topic, OTEL_RELAY_KAFKA_PARTITION_TRACES_BY_ID: 'true' }),
      clock,
      log: memoryLog(),
    });
    const traces = tracesRequest('kafka-test', 4);
    try {
      // Act
      const outcome = await send(d, 'traces', traces.body);
      // Assess
      expect(outcome).toEqual({ kind: 'success' });
      const got = await readTopic(topic, 4);
      const ids = [...new Set(traces.spans.map((s) => s.traceId))].sort();
      expect(got.map((g) => g.key).sort()).toEqual(ids);
      for (const g of got) {
        const req = (await decodeExportRequest('traces', g.value)) as {
          resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string; spanId: string }> }> }>;
        };
        const spans = req.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
        expect(spans).toHaveLength(2);
        expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([g.key]));
      }
    } finally {
      d.close();
    }
  });

  it("is consumed by the collector's kafkareceiver with its default topics and encoding", async () => {
    // Prepare
    const d = await createDestination({ env: env(), clock, log: memoryLog() });
    const collector = await startCollector({
      extraConfig: [
        'receivers:',
        '  kafka:',
        `    brokers: ["${broker.bootstrap}"]`,
        `    group_id: relay-test-${hex(4)}`,
        '    initial_offset: earliest',
        'service:',
        '  pipelines:',
        '    traces:',
        '      receivers: [otlp, kafka]',
        '    metrics:',
        '      receivers: [otlp, kafka]',
        '    logs:',
        '      receivers: [otlp, kafka]',
      ].join('\n'),
    });
    const traces = tracesRequest('kafka-collector', 2);
    const metrics = metricsRequest('kafka-collector');
    const logs = logsRequest('kafka-collector', 3);
    try {
      // Act
      expect(await send(d, 'traces', traces.body)).toEqual({ kind: 'success' });
      expect(await send(d, 'metrics', metrics.body)).toEqual({ kind: 'success' });
      expect(await send(d, 'logs', logs.body)).toEqual({ kind: 'success' });
      // Assess
      const ids = new Set(traces.spans.map((s) => s.spanId));
      const r = await collector.waitFor(
        (x) =>
          x.spans().filter((s) => ids.has(s.spanId)).length === ids.size &&
          x.dataPoints().some((p) => p.metric === `requests.${metrics.tag}`) &&
          x.logRecords().filter((l) => String(l.body).startsWith(logs.tag)).length === 3,
        60_000,
      );
      expect(r.spans().filter((s) => ids.has(s.spanId))).toHaveLength(4);
    } finally {
      d.close();
      await collector.stop();
    }
  });

  it('authenticates with SASL/SCRAM-SHA-512 and with OAUTHBEARER', async () => {
    // Prepare
    const topic = `sasl_${hex(4)}`;
    const scram = await createDestination({
      env: {
        OTEL_RELAY_KAFKA_BROKERS: broker.saslBootstrap,
        OTEL_RELAY_KAFKA_TRACES_TOPIC: topic,
        OTEL_RELAY_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        OTEL_RELAY_KAFKA_SASL_USERNAME: KAFKA_SCRAM.username,
        OTEL_RELAY_KAFKA_SASL_PASSWORD: KAFKA_SCRAM.password,
      },
      clock,
      log: memoryLog(),
    });
    // The broker's unsecured validator takes an unsigned JWT: this checks the OAUTHBEARER exchange
    // the MSK IAM mechanism uses, with a token this broker can read.
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const nowS = Math.floor(Date.now() / 1000);
    const jwt = `${b64({ alg: 'none' })}.${b64({ sub: 'relay', iat: nowS, exp: nowS + 600 })}.`;
    const oauth = await createDestination(
      {
        env: {
          OTEL_RELAY_KAFKA_BROKERS: broker.saslBootstrap,
          OTEL_RELAY_KAFKA_TRACES_TOPIC: topic,
          OTEL_RELAY_KAFKA_SASL_MECHANISM: 'aws-msk-iam',
        },
        clock,
        log: memoryLog(),
      },
      { oauthBearerToken: async () => jwt },
    );
    try {
      // Act
      const a = await send(scram, 'traces', tracesRequest('scram').body);
      const b = await send(oauth, 'traces', tracesRequest('oauth').body);
      // Assess
      expect(a).toEqual({ kind: 'success' });
      expect(b).toEqual({ kind: 'success' });
      expect(await readTopic(topic, 2)).toHaveLength(2);
    } finally {
      scram.close();
      oauth.close();
    }
  });

  it('refused credentials and an unknown broker each log one clear line and send batches to the fallback', async () => {
    // Prepare
    const badLog = memoryLog();
    const bad = await createDestination({
      env: {
        OTEL_RELAY_KAFKA_BROKERS: broker.saslBootstrap,
        OTEL_RELAY_KAFKA_SASL_MECHANISM: 'scram-sha-512',
        OTEL_RELAY_KAFKA_SASL_USERNAME: KAFKA_SCRAM.username,
        OTEL_RELAY_KAFKA_SASL_PASSWORD: 'wrong',
      },
      clock,
      log: badLog,
    });
    const unknownLog = memoryLog();
    const unknown = await createDestination({
      env: { OTEL_RELAY_KAFKA_BROKERS: 'no-such-broker.invalid:9092' },
      clock,
      log: unknownLog,
    });
    try {
      // Act
      const refused = [
        await send(bad, 'traces', tracesRequest('x').body),
        await send(bad, 'logs', logsRequest('x').body),
      ];
      const lost = [
        await send(unknown, 'traces', tracesRequest('x').body),
        await send(unknown, 'traces', tracesRequest('x').body),
      ];
      // Assess
      expect(refused.map((o) => o.kind)).toEqual(['failed', 'failed']);
      expect(lost.map((o) => o.kind)).toEqual(['retryable', 'retryable']);
      expect(lost.every((o) => o.kind === 'retryable' && o.notThisFlush)).toBe(true);
      const badErrors = badLog.lines.filter((l) => l.startsWith('error'));
      expect(badErrors).toHaveLength(1);
      expect(badErrors[0]).toMatch(/refused the SASL credentials \(scram-sha-512\).*fallback/);
      expect(badErrors[0]).not.toContain('wrong');
      const unknownErrors = unknownLog.lines.filter((l) => l.startsWith('error'));
      expect(unknownErrors).toHaveLength(1);
      expect(unknownErrors[0]).toMatch(/no-such-broker\.invalid:9092.*fallback/);
    } finally {
      bad.close();
      unknown.close();
    }
  });

  it('a broker stopped mid-run makes the batch retryable within its budget', async () => {
    // Prepare
    const own = await startKafka();
    const d = await createDestination({
      env: { OTEL_RELAY_KAFKA_BROKERS: own.bootstrap, OTEL_RELAY_KAFKA_TRACES_TOPIC: `down_${hex(4)}` },
      clock,
      log: memoryLog(),
    });
    try {
      expect(await send(d, 'traces', tracesRequest('before').body)).toEqual({ kind: 'success' });
      await own.stop();
      // Act
      const during = await send(d, 'traces', tracesRequest('during').body, 8_000);
      // Assess
      expect(during.kind).toBe('retryable');
    } finally {
      d.close();
      await own.stop();
    }
  }, 180_000);
});
