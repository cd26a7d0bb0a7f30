// The buffer: per signal, validated ENCODED export requests, in arrival order. A batch is a
// concatenation of whole requests: no decode, no re-encode. One memory cap covers all
// signals; past it the oldest data is evicted into a smaller, bounded queue that the next flush hands
// to the fallback (S3, spool). Adding never waits on S3 or disk: it runs on the receiver's request
// path. Only what the eviction queue cannot hold either is dropped, and counted by signal.
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
  /** Items of older data moved to the eviction queue to make room, by signal (to be spilled). */
  evicted: Partial<Record<Signal, number>>;
  /** Items dropped because the eviction queue was full too, by signal (lost). */
  dropped: Partial<Record<Signal, number>>;
}

interface EvictedUnit extends BufferedUnit {
  signal: Signal;
}

const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

export class TelemetryBuffer {
  private readonly queues: Record<Signal, BufferedUnit[]> = { traces: [], metrics: [], logs: [] };
  private readonly bytesBySignal: Record<Signal, number> = { traces: 0, metrics: 0, logs: 0 };
  private readonly itemsBySignal: Record<Signal, number> = { traces: 0, metrics: 0, logs: 0 };
  /** Items dropped because the buffer and its eviction queue were full, by signal, since start. */
  readonly droppedFull: Record<Signal, number> = { traces: 0, metrics: 0, logs: 0 };
  private readonly listeners = new Set<() => void>();
  /** Evicted units waiting to be spilled, oldest first, all signals. */
  private readonly evictedQueue: EvictedUnit[] = [];
  private evictedBytesTotal = 0;
  private readonly evictedItemsBySignal: Record<Signal, number> = { traces: 0, metrics: 0, logs: 0 };
  /** Memory cap of the eviction queue: half the buffer (at least one batch), on top of `maxBytes`. */
  readonly evictedMaxBytes: number;

  constructor(
    readonly maxBytes: number,
    readonly batchMaxBytes: number,
    private readonly clock: Clock,
    evictedMaxBytes?: number,
  ) {
    this.evictedMaxBytes = evictedMaxBytes ?? Math.max(Math.floor(maxBytes / 2), batchMaxBytes);
  }

  /** Appends the pieces of one request (each ≤ batchMaxBytes unless a single entry is larger). */
  add(signal: Signal, pieces: ReadonlyArray<{ body: Uint8Array; items: number }>): AddResult {
    const size = pieces.reduce((n, p) => n + p.body.length, 0);
    const items = pieces.reduce((n, p) => n + p.items, 0);
    if (size > this.maxBytes) {
      this.droppedFull[signal] += items;
      return { rejectedOwn: items, evicted: {}, dropped: {} };
    }
    const res = this.makeRoom(size);
    const now = this.clock.now();
    for (const p of pieces) this.push(signal, { body: p.body, items: p.items, acceptedAt: now }, false);
    for (const l of this.listeners) l();
    return res;
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
    const res = this.makeRoom(batch.body.length);
    this.push(
      batch.signal,
      { body: batch.body, items: batch.items, acceptedAt: batch.oldestAcceptedAt },
      true,
    );
    return res;
  }

  /** True when evicted data waits to be spilled (one comparison: the flush path checks it every run). */
  hasEvicted(): boolean {
    return this.evictedQueue.length > 0;
  }

  /** Items evicted and waiting to be spilled (included in `items()`). */
  evictedItems(signal?: Signal): number {
    return signal
      ? this.evictedItemsBySignal[signal]
      : SIGNALS.reduce((n, s) => n + this.evictedItemsBySignal[s], 0);
  }

  evictedBytes(): number {
    return this.evictedBytesTotal;
  }

  /**
   * Takes the oldest evicted units, concatenated while they are of one signal, up to batchMaxBytes
   * (at least one unit). Give the batch back with `returnEvicted` if it could not be spilled.
   */
  takeEvicted(): Batch | undefined {
    const q = this.evictedQueue;
    const first = q[0];
    if (!first) return undefined;
    let n = 0;
    let size = 0;
    while (
      n < q.length &&
      q[n]!.signal === first.signal &&
      (n === 0 || size + q[n]!.body.length <= this.batchMaxBytes)
    ) {
      size += q[n]!.body.length;
      n++;
    }
    const units = q.splice(0, n);
    const body = new Uint8Array(size);
    let off = 0;
    let items = 0;
    for (const u of units) {
      body.set(u.body, off);
      off += u.body.length;
      items += u.items;
    }
    this.evictedBytesTotal -= size;
    this.evictedItemsBySignal[first.signal] -= items;
    return { signal: first.signal, body, items, oldestAcceptedAt: first.acceptedAt };
  }

  /**
   * Returns an evicted batch that was not spilled to the FRONT of the eviction queue. If the queue
   * has filled up meanwhile, its oldest data is dropped; the result says how much, by signal.
   */
  returnEvicted(batch: Batch): Partial<Record<Signal, number>> {
    const dropped: Partial<Record<Signal, number>> = {};
    this.pushEvicted(
      { signal: batch.signal, body: batch.body, items: batch.items, acceptedAt: batch.oldestAcceptedAt },
      true,
      dropped,
    );
    return dropped;
  }

  /** Bytes in the buffer proper (capped by maxBytes); the eviction queue is `evictedBytes()`. */
  bytes(signal?: Signal): number {
    return signal ? this.bytesBySignal[signal] : SIGNALS.reduce((n, s) => n + this.bytesBySignal[s], 0);
  }

  /** Items held in memory: buffered plus evicted and waiting to be spilled. */
  items(signal?: Signal): number {
    return signal
      ? this.itemsBySignal[signal] + this.evictedItemsBySignal[signal]
      : SIGNALS.reduce((n, s) => n + this.itemsBySignal[s] + this.evictedItemsBySignal[s], 0);
  }

  isEmpty(): boolean {
    return (
      this.bytes() === 0 &&
      this.evictedQueue.length === 0 &&
      SIGNALS.every((s) => this.queues[s].length === 0)
    );
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

  /**
   * Moves the globally oldest units to the eviction queue until `incoming` more bytes fit under the
   * cap. Only the eviction queue's own overflow is dropped.
   */
  private makeRoom(incoming: number): AddResult {
    const evicted: Partial<Record<Signal, number>> = {};
    const dropped: Partial<Record<Signal, number>> = {};
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
      evicted[victim] = (evicted[victim] ?? 0) + unit.items;
      this.pushEvicted({ ...unit, signal: victim }, false, dropped);
    }
    return { rejectedOwn: 0, evicted, dropped };
  }

  /** Queues an evicted unit; drops the queue's oldest units (counted in `dropped`) past its cap. */
  private pushEvicted(unit: EvictedUnit, front: boolean, dropped: Partial<Record<Signal, number>>): void {
    if (front) this.evictedQueue.unshift(unit);
    else this.evictedQueue.push(unit);
    this.evictedBytesTotal += unit.body.length;
    this.evictedItemsBySignal[unit.signal] += unit.items;
    // Bounded: each pass removes one unit; the queue keeps at least the newest one.
    while (this.evictedBytesTotal > this.evictedMaxBytes && this.evictedQueue.length > 1) {
      const old = this.evictedQueue.shift()!;
      this.evictedBytesTotal -= old.body.length;
      this.evictedItemsBySignal[old.signal] -= old.items;
      this.droppedFull[old.signal] += old.items;
      dropped[old.signal] = (dropped[old.signal] ?? 0) + old.items;
    }
  }
}
