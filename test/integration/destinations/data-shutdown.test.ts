// SHUTDOWN of the connection-holding destinations against their real servers: Redis gets QUIT (the
// server counts it) and the PostgreSQL backend of the relay's connection goes away, within the budget.
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDestination as createPostgres } from '../../../src/extension/destinations/postgres/index.js';
import { createDestination as createRedis } from '../../../src/extension/destinations/redis/index.js';
import { pollUntil } from '../../helpers/peer-process.js';
import { type PostgresServer, startPostgres } from '../../helpers/postgres.js';
import { type RedisServer, startRedis } from '../../helpers/redis.js';
import { budget, clock, hex, memoryLog, send, tracesRequest } from './data-fixtures.js';

let redis: RedisServer;
let reader: Valkey;
let pg: PostgresServer;

beforeAll(async () => {
  [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  reader = new Valkey({ port: redis.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  await reader.connect();
}, 120_000);

afterAll(async () => {
  reader?.disconnect();
  await Promise.all([redis?.stop(), pg?.remove()]);
});

const shutdownBudget = () => ({ ...budget(5_000), reason: 'shutdown' as const });

describe('data destinations at SHUTDOWN', () => {
  it('redis sends QUIT and closes its connection', async () => {
    // Prepare
    const quits = async () => {
      const m = /cmdstat_quit:calls=(\d+)/.exec(await reader.info('commandstats'));
      return Number(m?.[1] ?? 0);
    };
    const d = createRedis({
      env: { OTEL_RELAY_REDIS_URL: redis.url, OTEL_RELAY_REDIS_TRACES_STREAM: `spans_${hex(4)}` },
      clock,
      log: memoryLog(),
    });
    expect(await send(d, 'traces', tracesRequest('shutdown-test').body)).toEqual({ kind: 'success' });
    const before = await quits();
    // Act
    await d.shutdown?.(shutdownBudget());
    // Assess
    expect(await quits()).toBe(before + 1);
  });

  it('postgres ends its connection', async () => {
    // Prepare
    const backends = () =>
      Number(pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lambda-otel-relay'"));
    const d = await createPostgres({ env: { OTEL_RELAY_POSTGRES_URL: pg.url }, clock, log: memoryLog() });
    expect(await send(d, 'traces', tracesRequest('shutdown-test').body)).toEqual({ kind: 'success' });
    expect(backends()).toBe(1);
    // Act
    await d.shutdown?.(shutdownBudget());
    // Assess: the backend exits once it has read the connection's end.
    await pollUntil('the relay backend to exit', async () => backends() === 0, { timeoutMs: 10_000 });
  });
});
