// The redis destination (Redis, Valkey, ElastiCache). `streams`: XADD one entry per batch to
// otlp_spans / otlp_metrics / otlp_logs, fields `encoding`=`otlp_proto` and `data`=the request bytes,
// trimmed with MAXLEN ~. `trace-keys`: each span as JSON in the hash `<prefix>:<traceId>` (field =
// span id, so a batch sent twice stores each span once), with a TTL. Loaded only when selected.
import { spanRecords } from '../records.js';
import { BudgetExpired, errorText, expiredOutcome, ProblemLog, withinBudget } from '../session.js';
import type { Destination, DestinationContext, DestinationModule, ExportOutcome, Signal } from '../types.js';
import { type RedisConfig, readRedisConfig } from './config.js';
import { RespConnection, RespConnectionError, RespError, type RespReply } from './resp.js';

const NAME = 'redis';
/** How long QUIT may take at SHUTDOWN before the socket is simply closed. */
const QUIT_MS = 200;

type Command = Array<string | Uint8Array>;

export function createDestination(ctx: DestinationContext): Destination {
  const problems: string[] = [];
  const config = readRedisConfig(ctx.env, problems);
  for (const p of problems) {
    ctx.log.warn(p);
    ctx.onConfigProblem?.(p);
  }
  const problemLog = new ProblemLog(ctx.log, NAME);
  let connection: RespConnection | undefined;
  let connecting: Promise<RespConnection> | undefined;

  const open = async (): Promise<RespConnection> => {
    const c = await RespConnection.connect({
      host: config.host,
      port: config.port,
      tls: config.tls,
      timeoutMs: config.timeoutMs,
    });
    try {
      const hello: Command[] = [];
      if (config.password !== undefined)
        hello.push(config.username ? ['AUTH', config.username, config.password] : ['AUTH', config.password]);
      if (config.db !== 0) hello.push(['SELECT', String(config.db)]);
      for (const reply of hello.length > 0 ? await c.pipeline(hello) : [])
        if (reply instanceof RespError) throw reply;
    } catch (err) {
      c.destroy();
      throw err;
    }
    return c;
  };

  const connected = (): Promise<RespConnection> => {
    if (connection?.alive) return Promise.resolve(connection);
    connection = undefined;
    connecting ??= open().then(
      (c) => {
        connection = c;
        connecting = undefined;
        return c;
      },
      (err: unknown) => {
        connecting = undefined;
        throw err;
      },
    );
    return connecting;
  };

  const drop = (): void => {
    connection?.destroy();
    connection = undefined;
    connecting = undefined;
  };

  const run = async (commands: Command[]): Promise<RespReply[]> => {
    const reused = connection?.alive === true;
    const c = await connected();
    try {
      return await c.pipeline(commands);
    } catch (err) {
      // A socket that died during a freeze fails its first use: reconnect once, in the same budget.
      // XADD may then store a batch twice (at-least-once); trace-keys writes are idempotent.
      if (!reused || !(err instanceof RespConnectionError)) throw err;
      drop();
      return (await connected()).pipeline(commands);
    }
  };

  const commandsFor = async (signal: Signal, body: Uint8Array): Promise<Command[]> => {
    if (config.mode === 'streams')
      return [
        [
          'XADD',
          config.streams[signal],
          'MAXLEN',
          '~',
          String(config.maxLen),
          '*',
          'encoding',
          'otlp_proto',
          'data',
          body,
        ],
      ];
    const byTrace = new Map<string, Command>();
    for (const span of await spanRecords(body)) {
      const key = `${config.keyPrefix}:${span.traceId}`;
      const cmd = byTrace.get(key) ?? ['HSET', key];
      cmd.push(span.spanId, JSON.stringify(span));
      byTrace.set(key, cmd);
    }
    return [...byTrace].flatMap(([key, hset]) => [hset, ['EXPIRE', key, String(config.ttlSeconds)]]);
  };

  return {
    name: NAME,
    signals: new Set<Signal>(config.mode === 'streams' ? ['traces', 'metrics', 'logs'] : ['traces']),
    async export(signal, body, budget): Promise<ExportOutcome> {
      if (config.mode === 'trace-keys' && signal !== 'traces')
        return { kind: 'failed', reason: `redis: trace-keys mode stores traces only, not ${signal}` };
      let commands: Command[];
      try {
        commands = await commandsFor(signal, body);
      } catch (err) {
        return { kind: 'failed', reason: `redis: the batch could not be decoded: ${errorText(err)}` };
      }
      if (commands.length === 0) return { kind: 'success' };
      try {
        const replies = await withinBudget(run(commands), budget, ctx.clock, drop, config.timeoutMs);
        const error = replies.find((r): r is RespError => r instanceof RespError);
        if (error) return classify(error, config, problemLog, drop);
        return { kind: 'success' };
      } catch (err) {
        if (err instanceof BudgetExpired) return expiredOutcome(NAME, err);
        return classify(err, config, problemLog, drop);
      }
    },
    async shutdown(budget) {
      const c = connection;
      connection = undefined;
      connecting = undefined;
      await c?.quit(Math.max(0, Math.min(QUIT_MS, budget.deadline - ctx.clock.now())));
    },
    resetConnections: drop,
    close: drop,
  };
}

/** The one place a Redis failure becomes an ExportOutcome (and, for a setting to fix, one log line). */
function classify(err: unknown, config: RedisConfig, problems: ProblemLog, drop: () => void): ExportOutcome {
  const text = errorText(err);
  const reason = `redis: ${text}`;
  if (err instanceof RespError) {
    if (
      err.code === 'WRONGPASS' ||
      err.code === 'NOAUTH' ||
      /invalid (username|password)/i.test(err.message)
    ) {
      drop();
      problems.once('auth', `${config.display} refused the credentials in the URL (${err.code})`);
      return { kind: 'failed', reason };
    }
    if (err.code === 'NOPERM') {
      problems.once('rights', `the user may not run these commands on ${config.display}: ${err.message}`);
      return { kind: 'failed', reason };
    }
    if (err.code === 'WRONGTYPE') {
      problems.once('type', `a key or stream name is already used by another type: ${err.message}`);
      return { kind: 'failed', reason };
    }
    // OOM, LOADING, BUSY, READONLY (a failover): the server may take it later.
    return { kind: 'retryable', reason };
  }
  drop();
  const code = err instanceof RespConnectionError ? err.code : undefined;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    problems.once('unknown-host', `the host of ${config.display} does not resolve`);
    return { kind: 'retryable', reason, notThisFlush: true };
  }
  if (code === 'ECONNREFUSED') return { kind: 'retryable', reason, notThisFlush: true };
  return { kind: 'retryable', reason };
}

export default { createDestination } satisfies DestinationModule;
