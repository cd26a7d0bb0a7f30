// The kafka destination: each batch is produced as one message (or one per trace, keyed by trace id)
// of OTLP protobuf to otlp_spans / otlp_metrics / otlp_logs, with acks=all and the idempotent
// producer. Loaded only when selected; kafkajs loads with it. One producer lives across invocations;
// one whose socket died during a freeze is rebuilt within the same export.
import type { Message, Producer, SASLOptions } from 'kafkajs';
import { defaultCredentialProvider, regionFromEnv } from '../../../aws/index.js';
import { encodeExportRequest } from '../../../otlp/index.js';
import { BudgetExpired, errorText, expiredOutcome, ProblemLog, withinBudget } from '../session.js';
import type {
  Destination,
  DestinationContext,
  DestinationModule,
  ExportOutcome,
  FlushBudget,
  Signal,
} from '../types.js';
import { type KafkaConfig, readKafkaConfig } from './config.js';
import { mskIamToken } from './msk-iam.js';

const NAME = 'kafka';
const USER_AGENT = 'lambda-otel-relay';

/** Test seams: where the OAUTHBEARER token comes from (MSK IAM by default). */
export interface KafkaOverrides {
  oauthBearerToken?: () => Promise<string>;
}

export async function createDestination(
  ctx: DestinationContext,
  overrides: KafkaOverrides = {},
): Promise<Destination> {
  const problems: string[] = [];
  const config = readKafkaConfig(ctx.env, problems);
  for (const p of problems) {
    ctx.log.warn(p);
    ctx.onConfigProblem?.(p);
  }
  const kafkajs = await import('kafkajs');
  const problemLog = new ProblemLog(ctx.log, NAME);
  const kafka = new kafkajs.Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ssl: config.tls === false ? false : config.tls === true ? true : { ca: [config.tls.ca] },
    ...(config.sasl && { sasl: saslOptions(config, ctx, overrides) }),
    connectionTimeout: config.timeoutMs,
    requestTimeout: config.timeoutMs,
    // Retries belong to the delivery stages, which share one budget across every destination.
    retry: { retries: 0 },
    logCreator: () => (entry) => ctx.log.debug(`kafka client: ${entry.log.message}`, { level: entry.label }),
  });
  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;

  const newProducer = (): Producer =>
    kafka.producer({
      idempotent: config.acks === -1,
      maxInFlightRequests: config.acks === -1 ? 1 : 5,
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
      // The idempotent producer resends with the same sequence numbers, so a retry here never
      // duplicates; kafkajs requires it. Bounded by the budget like everything else.
      retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
    });

  /** The connected producer, connecting a new one if there is none. */
  const connected = (): Promise<Producer> => {
    if (producer) return Promise.resolve(producer);
    if (!connecting) {
      const p = newProducer();
      connecting = p.connect().then(
        () => {
          producer = p;
          connecting = undefined;
          return p;
        },
        (err: unknown) => {
          connecting = undefined;
          void p.disconnect().catch(() => {});
          throw err;
        },
      );
    }
    return connecting;
  };

  /** Drops the producer and its sockets (a freeze is coming, or they died); the next export reconnects. */
  const drop = (): void => {
    const p = producer;
    producer = undefined;
    connecting = undefined;
    if (p) void p.disconnect().catch(() => {});
  };

  const send = async (topic: string, messages: Message[]): Promise<void> => {
    const reused = producer !== undefined;
    const p = await connected();
    try {
      await p.send({ topic, messages, acks: config.acks, timeout: config.timeoutMs });
    } catch (err) {
      // A socket that died while the environment was frozen fails the first request on it: rebuild
      // the connection and send once more, within the same budget.
      if (!reused || !isConnectionLoss(err)) throw err;
      drop();
      const fresh = await connected();
      await fresh.send({ topic, messages, acks: config.acks, timeout: config.timeoutMs });
    }
  };

  return {
    name: NAME,
    signals: new Set<Signal>(['traces', 'metrics', 'logs']),
    async export(signal, body, budget: FlushBudget): Promise<ExportOutcome> {
      let messages: Message[];
      try {
        messages =
          signal === 'traces' && config.partitionTracesById
            ? await messagesPerTrace(body)
            : [{ value: Buffer.from(body) }];
      } catch (err) {
        return {
          kind: 'failed',
          reason: `kafka: the batch could not be split by trace id: ${errorText(err)}`,
        };
      }
      try {
        await withinBudget(send(config.topics[signal], messages), budget, ctx.clock, drop);
        return { kind: 'success' };
      } catch (err) {
        if (err instanceof BudgetExpired) return expiredOutcome(NAME, err);
        return classify(err, config, signal, problemLog, drop);
      }
    },
    async shutdown() {
      // Nothing is left to flush (every send waited for its acks): disconnect ends the broker sessions.
      // The relay bounds this call by the SHUTDOWN deadline.
      const p = producer;
      producer = undefined;
      connecting = undefined;
      await p?.disconnect();
    },
    resetConnections: drop,
    close: drop,
  };
}

function saslOptions(config: KafkaConfig, ctx: DestinationContext, overrides: KafkaOverrides): SASLOptions {
  const sasl = config.sasl as NonNullable<KafkaConfig['sasl']>;
  if (sasl.mechanism === 'aws-msk-iam') {
    const credentials = defaultCredentialProvider(ctx.env, () => ctx.clock.now());
    const region = regionFromEnv(ctx.env);
    const token =
      overrides.oauthBearerToken ??
      (async () => mskIamToken(await credentials(), region, new Date(ctx.clock.now()), USER_AGENT).token);
    return { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await token() }) };
  }
  const { username = '', password = '' } = sasl;
  if (sasl.mechanism === 'plain') return { mechanism: 'plain', username, password };
  if (sasl.mechanism === 'scram-sha-256') return { mechanism: 'scram-sha-256', username, password };
  return { mechanism: 'scram-sha-512', username, password };
}

/** One OTLP traces request per trace id, keyed by it (the collector's partition_traces_by_id). */
async function messagesPerTrace(body: Uint8Array): Promise<Message[]> {
  const { decodeExportRequest } = await import('../../../otlp/decode.js');
  const request = (await decodeExportRequest('traces', body)) as {
    resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ traceId?: string }> }> }>;
  };
  const perTrace = new Map<string, { resourceSpans: unknown[] }>();
  for (const rs of request.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      const byTrace = new Map<string, unknown[]>();
      for (const span of ss.spans ?? []) {
        const id = span.traceId ?? '';
        const list = byTrace.get(id) ?? [];
        list.push(span);
        byTrace.set(id, list);
      }
      for (const [id, spans] of byTrace) {
        const out = perTrace.get(id) ?? { resourceSpans: [] };
        out.resourceSpans.push({ ...rs, scopeSpans: [{ ...ss, spans }] });
        perTrace.set(id, out);
      }
    }
  }
  return [...perTrace].map(([id, req]) => ({
    key: id,
    value: Buffer.from(encodeExportRequest('traces', req)),
  }));
}

interface KafkaJsError extends Error {
  retriable?: boolean;
  type?: string;
  code?: string;
  cause?: unknown;
  originalError?: unknown;
}

function rootCause(err: unknown): KafkaJsError {
  let e = err as KafkaJsError;
  for (let i = 0; i < 5; i++) {
    const inner = (e.originalError ?? e.cause) as KafkaJsError | undefined;
    if (!inner || typeof inner !== 'object') break;
    e = inner;
  }
  return e;
}

function isConnectionLoss(err: unknown): boolean {
  const e = rootCause(err);
  return (
    e.name === 'KafkaJSConnectionClosedError' ||
    (e.name === 'KafkaJSConnectionError' &&
      /ECONNRESET|EPIPE|closed|timeout/i.test(`${e.code ?? ''} ${e.message}`))
  );
}

const RIGHTS = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** The one place a kafkajs failure becomes an ExportOutcome (and, for a setting to fix, one log line). */
function classify(
  err: unknown,
  config: KafkaConfig,
  signal: Signal,
  problems: ProblemLog,
  drop: () => void,
): ExportOutcome {
  const e = rootCause(err);
  const text = errorText(e);
  const reason = `kafka: ${text}`;
  // A failed client is rebuilt from scratch on the next export: kafkajs keeps per-broker state.
  drop();
  if (e.name === 'KafkaJSSASLAuthenticationError' || /SASL|authentication/i.test(e.message)) {
    problems.once(
      'auth',
      `the brokers refused the SASL credentials (${config.sasl?.mechanism ?? 'none'}): ${text}`,
    );
    return { kind: 'failed', reason };
  }
  if (/ENOTFOUND|EAI_AGAIN/.test(`${e.code ?? ''} ${e.message}`)) {
    problems.once('unknown-broker', `no broker of ${config.brokers.join(',')} resolves (${text})`);
    return { kind: 'retryable', reason, notThisFlush: true };
  }
  if (e.type && RIGHTS.has(e.type)) {
    problems.once(
      `rights-${signal}`,
      `the client may not write to topic ${config.topics[signal]}: ${e.type}`,
    );
    return { kind: 'failed', reason };
  }
  if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') {
    problems.once(
      `topic-${signal}`,
      `topic ${config.topics[signal]} does not exist and the brokers do not create it`,
    );
    return { kind: 'failed', reason };
  }
  if (e.type && TOO_LARGE.has(e.type)) return { kind: 'failed', reason, status: 413 };
  if (e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSConnectionClosedError') {
    const refused = /ECONNREFUSED/.test(`${e.code ?? ''} ${e.message}`);
    return { kind: 'retryable', reason, ...(refused && { notThisFlush: true }) };
  }
  if (e.retriable === false) return { kind: 'failed', reason };
  return { kind: 'retryable', reason };
}

export default { createDestination } satisfies DestinationModule;
