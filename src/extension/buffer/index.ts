// The buffer: per signal, validated ENCODED export requests, in arrival order. A batch is a
// concatenation of whole requests (DESIGN §6): no decode, no re-encode. One memory cap covers all
// signals; past it the oldest data goes first and is counted as dropped, by signal.
import type { Signal } from '../../otlp/index.js';
import type { Batch, Clock } from '../export/types.js';

/** One accepted piece of a request: a valid encoded request of its own (whole top-level entries). */
export interface BufferedUnit {
  body: Uint8Array;
  items: number;
  acceptedAt: number;
}

export interface AddResult {
  /** Items of THIS request that could not be kept (it alone is larger than the whole buffer). */
  rejectedOwn: number;
  /** Items of older data dropped to make room, by signal. */
  evicted: Partial<Record<Signal, number>>;
}

const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

export class TelemetryBuffer {
  private readonly queues: Record<Signal, BufferedUnit[]> = { traces: [], metrics: [], logs: [] };
  private readonly bytesBySignal: Record<Signal, number> = { traces: 0, metrics: 0, logs: 0 };
  private readonly itemsBySignal: Record<Signal, number> = { traces: 0, metrics: 0, logs: 0 };
  /** Items dropped because the buffer was full, by signal, since start. */
  readonly droppedFull: Record<Signal, number> = { traces: 0, metrics: 0, logs: 0 };
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly maxBytes: number,
    readonly batchMaxBytes: number,
    private readonly clock: Clock,
  ) {}

  /** Appends the pieces of one request (each ≤ batchMaxBytes unless a single entry is larger). */
  add(signal: Signal, pieces: ReadonlyArray<{ body: Uint8Array; items: number }>): AddResult {
    const size = pieces.reduce((n, p) => n + p.body.length, 0);
    const items = pieces.reduce((n, p) => n + p.items, 0);
    if (size > this.maxBytes) {
      this.droppedFull[signal] += items;
      return { rejectedOwn: items, evicted: {} };
    }
    const evicted = this.makeRoom(size);
    const now = this.clock.now();
    for (const p of pieces) this.push(signal, { body: p.body, items: p.items, acceptedAt: now }, false);
    for (const l of this.listeners) l();
    return { rejectedOwn: 0, evicted };
  }

  /**
   * Takes the oldest requests of a signal, concatenated, up to batchMaxBytes (at least one unit).
   * The batch leaves the buffer; give it back with `putBack` if it was not delivered.
   */
  takeBatch(signal: Signal): Batch | undefined {
    const q = this.queues[signal];
    if (q.length === 0) return undefined;
    let n = 0;
    let size = 0;
    while (n < q.length && (n === 0 || size + q[n]!.body.length <= this.batchMaxBytes)) {
      size += q[n]!.body.length;
      n++;
    }
    const units = q.splice(0, n);
    let items = 0;
    const body = new Uint8Array(size);
    let off = 0;
    for (const u of units) {
      body.set(u.body, off);
      off += u.body.length;
      items += u.items;
    }
    this.bytesBySignal[signal] -= size;
    this.itemsBySignal[signal] -= items;
    return { signal, body, items, oldestAcceptedAt: units[0]!.acceptedAt };
  }

  /** Returns an undelivered batch to the FRONT of its queue (it is older than anything behind it). */
  putBack(batch: Batch): AddResult {
    const evicted = this.makeRoom(batch.body.length);
    this.push(
      batch.signal,
      { body: batch.body, items: batch.items, acceptedAt: batch.oldestAcceptedAt },
      true,
    );
    return { rejectedOwn: 0, evicted };
  }

  bytes(signal?: Signal): number {
    return signal ? this.bytesBySignal[signal] : SIGNALS.reduce((n, s) => n + this.bytesBySignal[s], 0);
  }

  items(signal?: Signal): number {
    return signal ? this.itemsBySignal[signal] : SIGNALS.reduce((n, s) => n + this.itemsBySignal[s], 0);
  }

  isEmpty(): boolean {
    return this.bytes() === 0 && SIGNALS.every((s) => this.queues[s].length === 0);
  }

  /** Clock ms at which the oldest buffered request was accepted, or undefined when empty. */
  oldestAcceptedAt(): number | undefined {
    let oldest: number | undefined;
    for (const s of SIGNALS) {
      const head = this.queues[s][0];
      if (head && (oldest === undefined || head.acceptedAt < oldest)) oldest = head.acceptedAt;
    }
    return oldest;
  }

  /** Called after every add (continuous flushing reacts to new data). */
  onAdd(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private push(signal: Signal, unit: BufferedUnit, front: boolean): void {
    if (front) this.queues[signal].unshift(unit);
    else this.queues[signal].push(unit);
    this.bytesBySignal[signal] += unit.body.length;
    this.itemsBySignal[signal] += unit.items;
  }

  /** Drops the globally oldest units until `incoming` more bytes fit under the cap. */
  private makeRoom(incoming: number): Partial<Record<Signal, number>> {
    const evicted: Partial<Record<Signal, number>> = {};
    while (this.bytes() + incoming > this.maxBytes) {
      let victim: Signal | undefined;
      for (const s of SIGNALS) {
        const head = this.queues[s][0];
        if (head && (victim === undefined || head.acceptedAt < this.queues[victim][0]!.acceptedAt))
          victim = s;
      }
      if (victim === undefined) break;
      const unit = this.queues[victim].shift()!;
      this.bytesBySignal[victim] -= unit.body.length;
      this.itemsBySignal[victim] -= unit.items;
      this.droppedFull[victim] += unit.items;
      evicted[victim] = (evicted[victim] ?? 0) + unit.items;
    }
    return evicted;
  }
}
