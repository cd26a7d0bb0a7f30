// sample: keeps a fraction of traces, decided from the trace id alone (its last 56 bits against the
// ratio's threshold, as OpenTelemetry's consistent probability sampling does), so every environment
// and every span of a trace decide alike. Log records follow their trace; records without one are
// kept. What is not kept is counted as `filtered` (reason `sample`).
import { type SettingContext, settingReader } from '../../destinations/read.js';
import { DecodedBatch } from '../items.js';
import { SAMPLE_RATIO } from '../settings.js';
import type { Processor, Signal } from '../types.js';

const TWO_56 = 2n ** 56n;

/** Whether a trace id (32 hex digits) is kept at this ratio. */
export function keepsTrace(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  const randomness = BigInt(`0x${traceId.slice(-14).padStart(14, '0')}`);
  // Kept when the trace's randomness is at least the rejection threshold (1 - ratio) * 2^56.
  const threshold = TWO_56 - BigInt(Math.round(ratio * Number(TWO_56)));
  return randomness >= threshold;
}

export function createSampleProcessor(ctx: SettingContext, signals: ReadonlySet<Signal>): Processor {
  const ratio = settingReader(ctx)(SAMPLE_RATIO);
  const applies = new Set([...signals].filter((s) => s !== 'metrics'));
  return {
    name: 'sample',
    signals: applies,
    async process(batch) {
      if (ratio >= 1) return { batch, filtered: 0 };
      const d = await DecodedBatch.of(batch);
      const removed = d.retain((v) => {
        const id = String(v.item.traceId ?? '');
        return id === '' || /^0*$/.test(id) ? v.signal === 'logs' : keepsTrace(id, ratio);
      });
      if (removed === 0) return { batch, filtered: 0 };
      return { batch: d.toBatch(removed), filtered: removed, reason: 'sample' };
    },
  };
}
