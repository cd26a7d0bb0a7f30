// Where a batch goes when the collector does not take it: S3 first (durable, outside the sandbox),
// then the /tmp spool (survives resets, replayed later). Each step is budgeted; a step that cannot
// finish in time is skipped, never waited on past the deadline.
import { promisify } from 'node:util';
import type { S3Client } from '../../aws/index.js';
import type { BreakerStateChange, CircuitBreaker } from '../export/breaker.js';
import type { Batch, Clock, Logger } from '../export/types.js';
import { itemsText } from '../log.js';
import type { S3SpillConfig } from '../settings/types.js';
import { objectKey } from './s3-layout.js';
import { type Spool, SpoolError } from './spool.js';

// zlib is loaded by the first spill, not at startup.
const gzipAsync = (body: Uint8Array) => promisify(process.getBuiltinModule('node:zlib').gzip)(body);

export { itemsText };

export type SpillResult =
  | { where: 's3'; location: string; ms: number }
  | { where: 'spool'; location: string; ms: number }
  | { where: 'nowhere'; reason: string; dropReason: string };

/** Below this much time, an S3 PutObject is not started: it could not finish. */
export const MIN_S3_MS = 30;

export interface SpillDeps {
  s3?: { config: S3SpillConfig; client: () => Promise<S3Client>; breaker: CircuitBreaker };
  spool: Spool;
  clock: Clock;
  log: Logger;
}

export function logBreakerChange(log: Logger, change: BreakerStateChange): void {
  const fields = { breaker: change.name, from: change.from, to: change.to, reason: change.reason };
  if (change.to === 'open') {
    const msg =
      `${change.name} breaker open after ${change.consecutiveFailures} failures (${change.reason}); ` +
      `batches go straight to the fallback until a probe at ${new Date(change.retryAt ?? 0).toISOString()}`;
    // The first opening is the news; a failed probe re-opening it is a repeat of the same news.
    if (change.from === 'half-open') log.debug(msg, fields);
    else log.warn(msg, fields);
  } else if (change.to === 'closed') {
    log.info(`${change.name} breaker closed: ${change.reason}`, fields);
  } else {
    log.debug(`${change.name} breaker half-open: ${change.reason}`, fields);
  }
}

/**
 * Spills one batch. `deadline` bounds S3; the spool write is local and short, and runs even when
 * S3 used up the time (a spool file beats a lost batch).
 */
export async function spillBatch(
  deps: SpillDeps,
  batch: Batch,
  deadline: number,
  signal: AbortSignal | undefined,
  why: string,
): Promise<SpillResult> {
  const { clock, log } = deps;
  const start = clock.now();
  const s3Problems: string[] = [];
  if (deps.s3) {
    const { config, breaker } = deps.s3;
    const left = deadline - clock.now();
    if (left < MIN_S3_MS) s3Problems.push(`only ${Math.max(0, left)} ms left`);
    else if (signal?.aborted) s3Problems.push('flush aborted');
    else if (!breaker.tryAcquire()) s3Problems.push('S3 breaker open');
    else {
      const key = objectKey(config, batch.signal, clock.now(), config.filePrefix);
      const uri = `s3://${config.bucket}/${key}`;
      try {
        const body = await gzipAsync(batch.body);
        const client = await deps.s3.client();
        await client.putObject(
          {
            bucket: config.bucket,
            key,
            body,
            contentType: 'application/x-protobuf',
            contentEncoding: 'gzip',
            sse: config.sse,
            // Lets `replay` report item counts without decoding the object.
            metadata: { 'otel-items': String(batch.items), 'otel-signal': batch.signal },
          },
          { deadline, signal },
        );
        breaker.recordSuccess();
        log.warn(`${itemsText(batch.signal, batch.items)} spilled to ${uri} (${why})`, {
          signal: batch.signal,
          items: batch.items,
          location: uri,
        });
        return { where: 's3', location: uri, ms: clock.now() - start };
      } catch (err) {
        const aborted = signal?.aborted || clock.now() >= deadline;
        if (aborted) breaker.release();
        else breaker.recordFailure((err as Error).message);
        s3Problems.push((err as Error).message);
      }
    }
  }
  try {
    const entry = await deps.spool.write(batch.signal, batch.body, batch.items);
    const s3Note = s3Problems.length ? `; S3 skipped: ${s3Problems.join('; ')}` : '';
    log.warn(`${itemsText(batch.signal, batch.items)} spooled to ${entry.path} (${why}${s3Note})`, {
      signal: batch.signal,
      items: batch.items,
      location: entry.path,
    });
    return { where: 'spool', location: entry.path, ms: clock.now() - start };
  } catch (err) {
    const reason = err instanceof SpoolError ? err.reason : 'io';
    const all = [...s3Problems, (err as Error).message].join('; ');
    return { where: 'nowhere', reason: all, dropReason: reason };
  }
}
