// ratelimit: a token bucket of items per second per signal (spans, data points, log records),
// holding at most one second of the rate. A batch larger than the tokens left keeps its first items
// and the rest is counted as `filtered` (reason `ratelimit`): a limit chosen by the user, not a loss.

import { DestinationSettingError, type SettingContext, settingReader } from '../../destinations/read.js';
import type { Clock } from '../../export/types.js';
import { DecodedBatch } from '../items.js';
import { RATELIMIT_ITEMS_PER_SECOND } from '../settings.js';
import type { Processor, Signal } from '../types.js';

export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly rate: number,
    private readonly clock: Pick<Clock, 'monotonic'>,
  ) {
    this.tokens = rate;
    this.last = clock.monotonic();
  }
  /** Takes up to `n` tokens; returns how many were had. */
  take(n: number): number {
    const now = this.clock.monotonic();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    const got = Math.min(n, Math.floor(this.tokens));
    this.tokens -= got;
    return got;
  }
}

export function createRateLimitProcessor(
  ctx: SettingContext,
  signals: ReadonlySet<Signal>,
  clock: Pick<Clock, 'monotonic'>,
): Processor {
  const rate = settingReader(ctx)(RATELIMIT_ITEMS_PER_SECOND);
  if (rate === undefined)
    throw new DestinationSettingError(
      `${RATELIMIT_ITEMS_PER_SECOND.name} is required with the ratelimit processor (a positive whole number of items per second)`,
    );
  const buckets = new Map<Signal, TokenBucket>();
  return {
    name: 'ratelimit',
    signals,
    async process(batch) {
      let bucket = buckets.get(batch.signal);
      if (!bucket) {
        bucket = new TokenBucket(rate, clock);
        buckets.set(batch.signal, bucket);
      }
      const allowed = bucket.take(batch.items);
      if (allowed >= batch.items) return { batch, filtered: 0 };
      if (allowed === 0) return { batch: undefined, filtered: batch.items, reason: 'ratelimit' };
      const d = await DecodedBatch.of(batch);
      let seen = 0;
      const removed = d.retain(() => seen++ < allowed);
      return { batch: d.toBatch(removed), filtered: removed, reason: 'ratelimit' };
    },
  };
}
