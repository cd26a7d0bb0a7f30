// Runs the processor chain on each batch before the delivery it wraps (one destination's chain or the
// fan-out). Each processor that removed items adds one `filtered` level (its own reason) around what
// was left, so the ledger counts each processor's removals under its name and the rest as its own
// result. A processor that throws is skipped for that batch (its data passes unprocessed) and logged.
import type { Batch, Delivery, DeliveryResult, FlushBudget, Logger } from '../export/types.js';
import type { Processor } from './types.js';

interface Step {
  filtered: number;
  reason: string;
  /** The batch after this processor (undefined: nothing left). */
  after: Batch | undefined;
}

export function withProcessors(inner: Delivery, processors: readonly Processor[], log: Logger): Delivery {
  const failed = new Set<string>();
  async function run(batch: Batch, budget: FlushBudget): Promise<{ steps: Step[]; last: Batch | undefined }> {
    const steps: Step[] = [];
    let current: Batch | undefined = batch;
    for (const p of processors) {
      if (!current) break;
      if (!p.signals.has(current.signal)) continue;
      try {
        const r = await p.process(current, budget);
        if (r.filtered > 0) steps.push({ filtered: r.filtered, reason: r.reason ?? p.name, after: r.batch });
        current = r.batch;
      } catch (err) {
        if (!failed.has(p.name)) {
          failed.add(p.name);
          log.error(`processor ${p.name} failed; batches pass it unprocessed`, { error: String(err) });
        }
      }
    }
    return { steps, last: current };
  }
  async function wrap(
    batch: Batch,
    budget: FlushBudget,
    send: (b: Batch, budget: FlushBudget) => Promise<DeliveryResult>,
  ): Promise<DeliveryResult> {
    const { steps, last } = await run(batch, budget);
    let result: DeliveryResult | undefined = last ? await send(last, budget) : undefined;
    // Build the nesting inside out: the innermost level holds what the last remover left.
    for (let i = steps.length - 1; i >= 0; i--) {
      const step = steps[i]!;
      const before = i === 0 ? batch : steps[i - 1]!.after!;
      result = {
        kind: 'filtered',
        items: before.items,
        filtered: step.filtered,
        reason: step.reason,
        ...(step.after && result && { rest: { batch: step.after, result } }),
      };
    }
    return result ?? { kind: 'filtered', items: batch.items, filtered: batch.items, reason: 'processors' };
  }
  const d: Delivery = {
    deliver: (batch, budget) => wrap(batch, budget, (b, bb) => inner.deliver(b, bb)),
  };
  if (inner.spill) {
    const spill = inner.spill.bind(inner);
    d.spill = (batch, budget) => wrap(batch, budget, spill);
  }
  if (inner.replay) d.replay = inner.replay.bind(inner);
  if (inner.state) d.state = inner.state.bind(inner);
  if (inner.shutdown) d.shutdown = inner.shutdown.bind(inner);
  return d;
}
