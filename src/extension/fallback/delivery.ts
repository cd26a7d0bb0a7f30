// The Delivery the extension uses: export with retries inside the flush budget, behind a circuit
// breaker; what the collector does not take goes to S3, then to the /tmp spool; spooled batches are
// re-sent, oldest first, ahead of new data once the collector answers again. Every item ends up in
// exactly one DeliveryResult, and the counters below say where.
import { join } from 'node:path';
import type { S3Client } from '../../aws/index.js';
import { joinRequests, type RequestEntry, validateAndSplit } from '../../otlp/index.js';
import { CircuitBreaker } from '../export/breaker.js';
import { classifyRefusal, refusalMeaning } from '../export/index.js';
import { abortableSleep, attemptFromOutcome, type RetryPolicy, withRetry } from '../export/retry.js';
import type { Batch, Delivery, DeliveryContext, DeliveryResult, FlushBudget } from '../export/types.js';
import { loadFallbackConfig } from '../settings/load.js';
import type { FallbackConfig } from '../settings/types.js';
import { itemsText, logBreakerChange, spillBatch } from './spill.js';
import { Spool, type SpoolEntry } from './spool.js';

export interface FallbackCounters {
  exportedItems: number;
  s3Items: number;
  s3Objects: number;
  spooledItems: number;
  spoolFiles: number;
  replayedItems: number;
  replayedFiles: number;
  /** Refused for good by the destination (partial_success rejections are counted by the flush). */
  rejectedItems: number;
  droppedItems: Record<string, number>;
}

export interface FallbackDeliveryOptions {
  /** Replaces the environment's fallback config (tests). */
  config?: FallbackConfig;
  /** Replaces the S3 client built from config (tests). */
  s3Client?: S3Client;
  retryPolicy?: RetryPolicy;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface FallbackDelivery extends Delivery {
  readonly counters: FallbackCounters;
  readonly collectorBreaker: CircuitBreaker;
  readonly spool: Spool;
}

/** Time kept for writing a spool file at SHUTDOWN, after the export and S3 had their turn. */
const SPOOL_RESERVE_MS = 30;

/**
 * A batch in two parts of about equal size, split between its top-level entries (resource spans,
 * metrics or logs); undefined when it has only one.
 */
export function splitInHalves(batch: Batch): [Batch, Batch] | undefined {
  let entries: RequestEntry[];
  try {
    entries = validateAndSplit(batch.signal, batch.body).entries;
  } catch {
    return undefined;
  }
  if (entries.length < 2) return undefined;
  const total = entries.reduce((n, e) => n + e.bytes.byteLength, 0);
  let at = 1;
  for (let bytes = entries[0]?.bytes.byteLength ?? 0; at < entries.length - 1 && bytes < total / 2; at++) {
    bytes += entries[at]?.bytes.byteLength ?? 0;
  }
  const part = (es: RequestEntry[]): Batch => ({
    signal: batch.signal,
    body: joinRequests(es.map((e) => e.bytes)),
    items: es.reduce((n, e) => n + e.items, 0),
    oldestAcceptedAt: batch.oldestAcceptedAt,
  });
  return [part(entries.slice(0, at)), part(entries.slice(at))];
}

/** The fallback config of one named destination: its own spool directory and S3 key prefix. */
export function markedFor(config: FallbackConfig, destination: string): FallbackConfig {
  const marked: FallbackConfig = { ...config, spoolDir: join(config.spoolDir, destination) };
  if (config.s3) {
    const prefix = config.s3.prefix
      ? `${config.s3.prefix}/destination=${destination}`
      : `destination=${destination}`;
    marked.s3 = { ...config.s3, prefix };
  }
  return marked;
}

export function createFallbackDelivery(
  ctx: DeliveryContext,
  options: FallbackDeliveryOptions = {},
): FallbackDelivery {
  const { clock, log, exporter } = ctx;
  let config: FallbackConfig;
  if (options.config) config = options.config;
  else if (ctx.fallback) config = ctx.fallback;
  else {
    const loaded = loadFallbackConfig(ctx.env);
    config = loaded.config;
    for (const p of loaded.problems) {
      log.warn(p);
      ctx.onConfigProblem?.(p);
    }
  }
  const now = () => clock.now();
  const sleep = options.sleep ?? abortableSleep;
  if (ctx.destination) config = markedFor(config, ctx.destination);

  const collectorBreaker = new CircuitBreaker({
    name: ctx.destination ?? 'collector',
    failureThreshold: config.breakerThreshold,
    openMs: config.breakerOpenMs,
    maxOpenMs: config.breakerMaxOpenMs,
    now,
    onStateChange: (c) => logBreakerChange(log, c),
  });
  const spool = new Spool({ dir: config.spoolDir, maxBytes: config.spoolMaxBytes, now, log });

  let s3: Parameters<typeof spillBatch>[0]['s3'];
  if (config.s3) {
    const s3Config = config.s3;
    let client: Promise<S3Client> | undefined = options.s3Client
      ? Promise.resolve(options.s3Client)
      : undefined;
    s3 = {
      config: s3Config,
      // The S3 client (and TLS) load on the first spill, never on the init path.
      client: () => {
        client ??= import('../../aws/index.js').then(
          (aws) =>
            new aws.S3Client({
              region: s3Config.region,
              endpoint: s3Config.endpoint,
              // The extension's environment, not this process's: they differ in tests and embeddings.
              credentials: aws.defaultCredentialProvider(ctx.env, now),
              clock,
            }),
        );
        return client;
      },
      breaker: new CircuitBreaker({
        name: 's3',
        failureThreshold: 2,
        openMs: config.breakerOpenMs,
        maxOpenMs: config.breakerMaxOpenMs,
        now,
        onStateChange: (c) => logBreakerChange(log, c),
      }),
    };
  }
  const spillDeps = { s3, spool, clock, log };

  const counters: FallbackCounters = {
    exportedItems: 0,
    s3Items: 0,
    s3Objects: 0,
    spooledItems: 0,
    spoolFiles: 0,
    replayedItems: 0,
    replayedFiles: 0,
    rejectedItems: 0,
    droppedItems: {},
  };
  // Counted here; the flush pipeline logs the one line that says so, with `detail`.
  const drop = (batch: Batch, reason: string, detail: string): DeliveryResult => {
    counters.droppedItems[reason] = (counters.droppedItems[reason] ?? 0) + batch.items;
    return { kind: 'dropped', items: batch.items, reason, detail };
  };

  // Spool files known to exist; undefined until the directory was first read (lazily, off init).
  let spoolBacklog: number | undefined;
  // SHUTDOWN's one probe of a collector the breaker skips has been made.
  let lastChanceTaken = false;

  /**
   * May this caller use the collector now? As the breaker says, except at SHUTDOWN: the environment
   * (and /tmp with it) is about to go, so a collector in its cool-down is probed once anyway, and
   * the other callers wait for that probe's verdict (within the budget) instead of spilling beside it.
   */
  async function acquire(budget: FlushBudget): Promise<boolean> {
    // Bounded: each pass waits for a probe to report, or decides.
    for (let i = 0; i < 1_000; i++) {
      if (collectorBreaker.tryAcquire()) return true;
      if (budget.reason !== 'shutdown') return false;
      if (collectorBreaker.probing) {
        if (!(await collectorBreaker.whenProbed(budget.deadline, budget.abort))) return false;
        continue;
      }
      if (lastChanceTaken) return false;
      lastChanceTaken = true;
      return collectorBreaker.forceProbe('SHUTDOWN: probing once, whatever the cool-down says');
    }
    return false;
  }

  async function spill(batch: Batch, budget: FlushBudget, why: string): Promise<DeliveryResult> {
    const shutdown = budget.reason === 'shutdown';
    // Outside SHUTDOWN, a flush that was cut short keeps its batch in memory: that costs nothing now
    // and the next flush (or SHUTDOWN) spills it. At SHUTDOWN, memory is about to vanish.
    if (!shutdown && (budget.abort.aborted || now() >= budget.deadline)) {
      return { kind: 'retained', items: batch.items, reason: `${why}; flush budget spent` };
    }
    const s3Deadline = shutdown ? budget.deadline - SPOOL_RESERVE_MS : budget.deadline;
    const res = await spillBatch(spillDeps, batch, s3Deadline, shutdown ? undefined : budget.abort, why);
    if (res.where === 's3') {
      counters.s3Items += batch.items;
      counters.s3Objects++;
      return { kind: 'spilled', items: batch.items, location: res.location };
    }
    if (res.where === 'spool') {
      counters.spooledItems += batch.items;
      counters.spoolFiles++;
      if (spoolBacklog !== undefined) spoolBacklog++;
      return { kind: 'spilled', items: batch.items, location: res.location };
    }
    if (!shutdown) return { kind: 'retained', items: batch.items, reason: `${why}; ${res.reason}` };
    return drop(
      batch,
      res.dropReason,
      `neither S3 nor the /tmp spool could keep them (${why}; ${res.reason})`,
    );
  }

  async function exportWithRetry(
    signal: Batch['signal'],
    body: Uint8Array,
    deadline: number,
    budget: FlushBudget,
  ) {
    return withRetry(
      async (b) =>
        attemptFromOutcome(await exporter.export(signal, body, { ...budget, deadline: b.deadline })),
      { deadline, signal: budget.abort },
      { now, sleep, policy: options.retryPolicy },
    );
  }

  /** Writes both halves of a spooled batch; false (and nothing left behind) when either write fails. */
  async function respool(halves: [Batch, Batch]): Promise<boolean> {
    const written: SpoolEntry[] = [];
    try {
      for (const h of halves) written.push(await spool.write(h.signal, h.body, h.items));
      return true;
    } catch {
      for (const w of written) await spool.remove(w).catch(() => {});
      return false;
    }
  }

  /** Re-sends spooled batches oldest first, one attempt each, until the deadline or a failure. */
  async function replayEntries(
    entries: SpoolEntry[],
    budget: FlushBudget,
    replayDeadline: number,
    run: { files: number; items: number },
  ): Promise<void> {
    for (const entry of entries) {
      if (budget.abort.aborted || now() >= replayDeadline) return;
      if (!(await acquire(budget))) return;
      let body: Uint8Array;
      let items: number;
      try {
        ({ body, items } = await spool.read(entry));
      } catch {
        // Gone or unreadable: not a verdict on the collector, so a half-open probe slot is handed back.
        collectorBreaker.release();
        spoolBacklog = Math.max(0, (spoolBacklog ?? 0) - 1);
        continue;
      }
      // One attempt per file: a failing replay waits for a later flush instead of eating this one.
      const outcome = await exporter.export(entry.signal, body, { ...budget, deadline: replayDeadline });
      if (outcome.kind === 'success' || outcome.kind === 'partial') {
        collectorBreaker.recordSuccess();
        await spool.remove(entry);
        spoolBacklog = Math.max(0, (spoolBacklog ?? 0) - 1);
        counters.replayedItems += items;
        counters.replayedFiles++;
        ctx.onSpilledSettled?.(entry.signal, 'exported', items);
        run.files++;
        run.items += items;
        log.debug(`${itemsText(entry.signal, items)} replayed from ${entry.path}`, {
          signal: entry.signal,
          items,
        });
        continue;
      }
      const refusal = outcome.kind === 'failed' ? classifyRefusal(outcome.status) : undefined;
      if (outcome.kind === 'failed' && refusal === 'bad-data') {
        collectorBreaker.recordSuccess();
        // Too large: the file is replaced by its two halves (written before it is removed), which a
        // later replay sends; only one resource's data that is still too large is dropped.
        const halves =
          outcome.status === 413
            ? splitInHalves({ signal: entry.signal, body, items, oldestAcceptedAt: 0 })
            : undefined;
        if (halves && (await respool(halves))) {
          await spool.remove(entry);
          spoolBacklog = (spoolBacklog ?? 0) + 1;
          log.debug(`${entry.path} was too large for the collector; spooled again in two halves`);
          continue;
        }
        await spool.remove(entry);
        spoolBacklog = Math.max(0, (spoolBacklog ?? 0) - 1);
        counters.rejectedItems += items;
        ctx.onSpilledSettled?.(entry.signal, 'rejected', items);
        log.error(
          `${itemsText(entry.signal, items)} from ${entry.path} rejected: ${refusalMeaning(outcome.status)} (${outcome.reason})`,
        );
        continue;
      }
      // The file stays for a later replay: a collector that is down, or refuses our credentials or
      // path, has not judged the data.
      if (outcome.kind === 'retryable' || refusal === 'unavailable') {
        collectorBreaker.recordFailure(
          outcome.reason,
          outcome.kind === 'retryable' ? outcome.retryAfterMs : undefined,
        );
      } else collectorBreaker.release();
      return;
    }
  }

  const delivery: FallbackDelivery = {
    counters,
    collectorBreaker,
    spool,

    async deliver(batch, budget) {
      try {
        if (!(await acquire(budget))) {
          const small = batch.body.byteLength < config.spillMinBytes;
          const young = now() - batch.oldestAcceptedAt < config.spillMaxAgeMs;
          if (budget.reason !== 'shutdown' && small && young) {
            return {
              kind: 'retained',
              items: batch.items,
              reason: 'collector breaker open; spilling in larger batches',
            };
          }
          return await spill(batch, budget, 'collector breaker open');
        }
        // The export leaves time for the fallback, so a batch the collector does not take is spilled
        // in this same flush instead of riding along in memory (and, at SHUTDOWN, being lost).
        const left = budget.deadline - now();
        const s3Reserve = s3 && s3.breaker.state !== 'open' ? Math.min(config.s3ReserveMs, left * 0.4) : 0;
        const reserve = s3Reserve + (budget.reason === 'shutdown' ? SPOOL_RESERVE_MS : 0);
        const exportDeadline = Math.max(now(), budget.deadline - reserve);
        const out = await exportWithRetry(batch.signal, batch.body, exportDeadline, budget);
        if (out.delivered) {
          collectorBreaker.recordSuccess();
          counters.exportedItems += batch.items;
          if (out.rejected > 0) {
            log.warn(
              `the collector accepted ${batch.items - out.rejected} and rejected ${itemsText(batch.signal, out.rejected)}`,
              { signal: batch.signal, rejected: out.rejected, message: out.message },
            );
          }
          return { kind: 'exported', items: batch.items, rejected: out.rejected };
        }
        if (out.cause === 'rejected') {
          const refusal = classifyRefusal(out.status);
          const meaning = `${refusalMeaning(out.status)} (${out.reason})`;
          if (refusal === 'bad-data') {
            // The collector is up and judged the data: re-sending it (now or after a replay) cannot succeed.
            collectorBreaker.recordSuccess();
            // Too large is about the request, not the data: smaller requests of the same data may pass.
            const halves = out.status === 413 ? splitInHalves(batch) : undefined;
            if (halves) {
              const parts: Array<{ batch: Batch; result: DeliveryResult }> = [];
              for (const half of halves)
                parts.push({ batch: half, result: await delivery.deliver(half, budget) });
              return { kind: 'split', items: batch.items, parts };
            }
            counters.rejectedItems += batch.items;
            return {
              kind: 'rejected',
              items: batch.items,
              reason: 'rejected-by-destination',
              detail:
                out.status === 413
                  ? `${meaning}; it is one resource's data and cannot be split further`
                  : meaning,
            };
          }
          if (refusal === 'unavailable') {
            // Credentials, path or proxy: nothing will get through until the configuration changes, so
            // the batch is kept and the breaker stops paying for every flush meanwhile.
            collectorBreaker.recordFailure(meaning);
            return await spill(batch, budget, `collector unavailable: ${meaning}`);
          }
          // The collector answered: not a health problem.
          collectorBreaker.recordSuccess();
          return await spill(batch, budget, `collector failed: ${out.reason}`);
        }
        if (out.cause === 'unavailable') collectorBreaker.recordFailure(out.reason, out.retryAfterMs);
        else collectorBreaker.release();
        return await spill(batch, budget, `collector unavailable: ${out.reason}`);
      } catch (err) {
        // Delivery must never throw: an unexpected failure keeps the batch for the next flush.
        collectorBreaker.release();
        log.error(`delivery failed unexpectedly: ${(err as Error).message}`);
        if (budget.reason === 'shutdown') return spill(batch, budget, 'unexpected error');
        return { kind: 'retained', items: batch.items, reason: (err as Error).message };
      }
    },

    async spill(batch, budget) {
      try {
        return await spill(batch, budget, 'evicted from a full buffer');
      } catch (err) {
        // Never throws, like deliver: the batch goes back to the eviction queue.
        log.error(`spill of evicted data failed unexpectedly: ${(err as Error).message}`);
        return { kind: 'retained', items: batch.items, reason: (err as Error).message };
      }
    },

    async replay(budget) {
      const shutdown = budget.reason === 'shutdown';
      if (spoolBacklog === 0) return;
      // At SHUTDOWN the spool dies with the environment too: it is drained like the buffer (its first
      // file may be SHUTDOWN's probe of a collector in its cool-down), then what is left stays.
      let entries: SpoolEntry[];
      try {
        entries = await spool.list();
      } catch (err) {
        log.warn(`spool: cannot read ${spool.dir}: ${(err as Error).message}`);
        spoolBacklog = 0;
        return;
      }
      spoolBacklog = entries.length;
      if (entries.length === 0) return;
      // Half of the budget at most (at SHUTDOWN less the time to spool what the collector refuses):
      // new data must still get its turn; the flush gives the spool the rest at SHUTDOWN afterwards.
      const left = budget.deadline - now() - (shutdown ? SPOOL_RESERVE_MS : 0);
      const replayDeadline = now() + Math.max(0, Math.floor(left / 2));
      // One line per replay run, not per file: a long outage leaves many files behind.
      const run = { files: 0, items: 0 };
      try {
        await replayEntries(entries, budget, replayDeadline, run);
      } finally {
        if (run.files > 0) {
          log.info(
            `${run.items} items from ${run.files} spool files replayed to the collector; ${spoolBacklog} files left`,
            { items: run.items, files: run.files },
          );
        }
      }
    },

    state() {
      const s: Record<string, string | number> = {
        collectorBreaker: collectorBreaker.state,
        spoolBytes: spool.bytes,
        spoolBacklog: spoolBacklog ?? -1,
        s3Items: counters.s3Items,
        spooledItems: counters.spooledItems,
        replayedItems: counters.replayedItems,
      };
      if (s3) s.s3Breaker = s3.breaker.state;
      for (const [reason, n] of Object.entries(counters.droppedItems)) s[`dropped.${reason}`] = n;
      return s;
    },
  };
  return delivery;
}
