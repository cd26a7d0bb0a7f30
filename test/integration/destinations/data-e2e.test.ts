// End to end: the function in the local emulator, the real layer, and the real Kafka broker, Redis and
// PostgreSQL beside the real collector. Every span is read back by id from each destination it was
// routed to, and the final ledger line balances per destination, also when PostgreSQL stops mid-run.

import { Valkey } from 'iovalkey';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeExportRequest } from '../../../src/otlp/index.js';
import { type KafkaBroker, sharedKafka } from '../../helpers/kafka.js';
import { type PostgresServer, startPostgres } from '../../helpers/postgres.js';
import { type RedisServer, startRedis } from '../../helpers/redis.js';
import { collect, emptyIds, expectExactlyOnce, useRelaySuite } from '../extension/harness.js';
import { hex } from './data-fixtures.js';

let kafka: KafkaBroker;
let redis: RedisServer;
let pg: PostgresServer;

beforeAll(async () => {
  [kafka, redis, pg] = await Promise.all([sharedKafka(), startRedis(), startPostgres()]);
}, 180_000);

afterAll(async () => {
  await Promise.all([redis?.stop(), pg?.remove()]);
});

interface RequestJson {
  resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ spanId: string }> }> }>;
}
const spanIdsOf = async (body: Uint8Array): Promise<string[]> =>
  ((await decodeExportRequest('traces', body)) as RequestJson).resourceSpans?.flatMap(
    (r) => r.scopeSpans?.flatMap((s) => s.spans?.map((x) => x.spanId) ?? []) ?? [],
  ) ?? [];

/** Span ids in every message of a topic, read from the beginning until `want` have arrived. */
async function kafkaSpanIds(topic: string, want: number): Promise<string[]> {
  const consumer = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING }).consumer({
    groupId: `e2e-${hex(4)}`,
  });
  const ids: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`kafka: ${ids.length} of ${want} spans on ${topic}`)),
        30_000,
      );
      void consumer.run({
        eachMessage: async ({ message }) => {
          ids.push(...(await spanIdsOf(message.value as Buffer)));
          if (ids.length >= want) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return ids;
}

async function redisSpanIds(stream: string): Promise<string[]> {
  const client = new Valkey({ port: redis.port, host: '127.0.0.1', lazyConnect: true });
  await client.connect();
  try {
    const ids: string[] = [];
    for (const [, fields] of await client.xrangeBuffer(stream, '-', '+'))
      ids.push(...(await spanIdsOf(fields[3] as Buffer)));
    return ids;
  } finally {
    client.disconnect();
  }
}

type PerSignal = Record<'traces' | 'metrics' | 'logs', number>;
interface Ledger {
  received: PerSignal;
  exported: PerSignal;
  spilled: PerSignal;
  dropped: PerSignal;
  destinations?: Record<
    string,
    { offered: PerSignal; exported: PerSignal; spilled: PerSignal; dropped: PerSignal; rejected: PerSignal }
  >;
}

function finalLedger(output: string): Ledger {
  const line = output.split('\n').find((l) => l.includes('"msg":"otel-relay shut down"'));
  if (!line) throw new Error(`no final ledger line in the extension output:\n${output.slice(-3000)}`);
  return JSON.parse(line.slice(line.indexOf('{'))) as Ledger;
}

describe('kafka, redis and postgres destinations from the emulator with the real layer', () => {
  const suite = useRelaySuite();

  it('delivers every span to the collector, Kafka, Redis and PostgreSQL, and logs to Kafka and PostgreSQL', async () => {
    // Prepare
    const run = hex(4);
    const relay = await suite.start({
      flush: 'end',
      env: {
        OTEL_RELAY_TRACES_EXPORTER: 'otlp,kafka,redis,postgres',
        OTEL_RELAY_LOGS_EXPORTER: 'kafka,postgres',
        OTEL_RELAY_KAFKA_BROKERS: kafka.bootstrap,
        OTEL_RELAY_KAFKA_TRACES_TOPIC: `e2e_spans_${run}`,
        OTEL_RELAY_KAFKA_LOGS_TOPIC: `e2e_logs_${run}`,
        OTEL_RELAY_REDIS_URL: redis.url,
        OTEL_RELAY_REDIS_TRACES_STREAM: `e2e_spans_${run}`,
        OTEL_RELAY_POSTGRES_URL: pg.url,
      },
    });
    const sent = emptyIds();
    // Act
    for (let i = 0; i < 5; i++) {
      const r = await relay.env.invoke({ tag: `data-${run}-${i}`, spans: 2, logs: 1 });
      expect(r.status).toBe('success');
      collect(sent, r.response);
    }
    await relay.env.shutdown();
    // Assess
    expect(sent.spanIds).toHaveLength(10);
    await expectExactlyOnce(suite.collector, { ...sent, logs: [] });
    expect((await kafkaSpanIds(`e2e_spans_${run}`, 10)).sort()).toEqual([...sent.spanIds].sort());
    expect((await redisSpanIds(`e2e_spans_${run}`)).sort()).toEqual([...sent.spanIds].sort());
    const ids = sent.spanIds.map((id) => `'${id}'`).join(',');
    expect(pg.psql(`SELECT count(*) FROM otel_spans WHERE span_id IN (${ids})`)).toBe('10');
    expect(pg.psql(`SELECT count(*) FROM otel_logs WHERE body #>> '{}' LIKE 'data-${run}-%'`)).toBe('5');
    const ledger = finalLedger(relay.env.output());
    for (const name of ['otlp', 'kafka', 'redis', 'postgres']) {
      expect(ledger.destinations?.[name]?.exported.traces, name).toBe(10);
    }
    expect(ledger.destinations?.kafka?.exported.logs).toBe(5);
    expect(ledger.destinations?.postgres?.exported.logs).toBe(5);
    expect(ledger.received.traces).toBe(ledger.exported.traces);
  });

  it('PostgreSQL stopped mid-run: the other destinations get everything, and postgres exports plus spills all it was offered', async () => {
    // Prepare
    const run = hex(4);
    const relay = await suite.start({
      flush: 'end',
      env: {
        OTEL_RELAY_TRACES_EXPORTER: 'otlp,postgres',
        OTEL_RELAY_POSTGRES_URL: pg.url,
      },
    });
    const sent = emptyIds();
    const invoke = async (i: number) => {
      const r = await relay.env.invoke({ tag: `down-${run}-${i}`, spans: 2 });
      expect(r.status).toBe('success');
      collect(sent, r.response);
    };
    // Act
    for (let i = 0; i < 2; i++) await invoke(i);
    await pg.stop();
    for (let i = 2; i < 5; i++) await invoke(i);
    await relay.env.shutdown();
    await pg.restart();
    // Assess
    await expectExactlyOnce(suite.collector, sent);
    const ledger = finalLedger(relay.env.output());
    const line = ledger.destinations?.postgres;
    expect(line?.offered.traces).toBe(10);
    expect(line?.dropped.traces).toBe(0);
    expect((line?.exported.traces ?? 0) + (line?.spilled.traces ?? 0)).toBe(10);
    expect(line?.spilled.traces).toBeGreaterThanOrEqual(6);
    const ids = sent.spanIds.map((id) => `'${id}'`).join(',');
    expect(pg.psql(`SELECT count(*) FROM otel_spans WHERE span_id IN (${ids})`)).toBe(
      String(line?.exported.traces),
    );
    expect(ledger.destinations?.otlp?.exported.traces).toBe(10);
  });
});
