// What both receivers do with a request body once it is protobuf: validate it with the wire walk,
// cut it into pieces no larger than a batch, and append it to the buffer. A request that fails the
// walk never reaches the buffer.
import { type Signal, splitEntries, validateExportRequest } from '../../otlp/index.js';
import type { TelemetryBuffer } from '../buffer/index.js';
import type { Logger } from '../export/types.js';
import { itemsText } from '../log.js';
import type { RelayStats } from '../telemetry/stats.js';

export interface IngestResult {
  accepted: number;
  /** Items of this request that were not kept (OTLP partial_success.rejected_*). */
  rejected: number;
  message?: string;
}

export class Ingest {
  /** Items dropped from a full buffer since the last warning (the first of an invocation warns at once). */
  private evictedUnreported: Record<Signal, number> = { traces: 0, metrics: 0, logs: 0 };
  private warnedThisInvocation = false;

  constructor(
    private readonly buffer: TelemetryBuffer,
    private readonly stats: RelayStats,
    private readonly log?: Pick<Logger, 'warn'>,
  ) {}

  /**
   * A new invocation began: evictions it causes warn again, and what the last one evicted after its
   * first warning is reported now. At most two warnings per invocation, however many requests.
   */
  invocationStarted(): void {
    this.reportEvicted('during the previous invocation, after the first warning');
    this.warnedThisInvocation = false;
  }

  /** Throws OtlpDecodeError (nothing buffered) when the body is not a valid export request. */
  accept(signal: Signal, body: Uint8Array): IngestResult {
    let summary: ReturnType<typeof validateExportRequest>;
    try {
      summary = validateExportRequest(signal, body);
    } catch (err) {
      this.stats.invalidRequests++;
      throw err;
    }
    if (summary.items === 0 && summary.resources === 0) return { accepted: 0, rejected: 0 };
    const pieces =
      body.length <= this.buffer.batchMaxBytes
        ? [{ body, items: summary.items }]
        : this.piecesOf(signal, body);
    const res = this.buffer.add(signal, pieces);
    this.stats.requests[signal]++;
    this.stats.received[signal] += summary.items;
    // Evicted data waits for the next flush to spill it (counted there); only what the eviction
    // queue could not hold either is lost here.
    let dropped = false;
    for (const [s, n] of Object.entries(res.dropped) as [Signal, number][]) {
      if (n <= 0) continue;
      this.stats.drop('buffer_full', s, n);
      this.evictedUnreported[s] += n;
      dropped = true;
    }
    if (dropped && !this.warnedThisInvocation) {
      this.warnedThisInvocation = true;
      this.reportEvicted('to make room for newer data');
    }
    if (res.rejectedOwn > 0) {
      this.stats.drop('buffer_full', signal, res.rejectedOwn);
      return {
        accepted: summary.items - res.rejectedOwn,
        rejected: res.rejectedOwn,
        message: `otel-relay: request of ${body.length} bytes is larger than the relay buffer (${this.buffer.maxBytes} bytes); dropped`,
      };
    }
    return { accepted: summary.items, rejected: 0 };
  }

  private reportEvicted(when: string): void {
    const parts = (Object.entries(this.evictedUnreported) as [Signal, number][])
      .filter(([, n]) => n > 0)
      .map(([sig, n]) => itemsText(sig, n));
    if (parts.length === 0) return;
    this.evictedUnreported = { traces: 0, metrics: 0, logs: 0 };
    this.log?.warn(
      `buffer full: ${parts.join(', ')} dropped (oldest first) ${when}, as the queue of evicted data waiting to be spilled was full too; they are lost. Raise OTEL_RELAY_BUFFER_MAX_BYTES or flush more often`,
    );
  }

  /** Groups the top-level entries of a large request into pieces of at most one batch each. */
  private piecesOf(signal: Signal, body: Uint8Array): { body: Uint8Array; items: number }[] {
    const out: { body: Uint8Array; items: number }[] = [];
    let group: Uint8Array[] = [];
    let size = 0;
    const close = () => {
      if (group.length === 0) return;
      const piece = concat(group, size);
      out.push({ body: piece, items: validateExportRequest(signal, piece).items });
      group = [];
      size = 0;
    };
    for (const entry of splitEntries(body)) {
      if (size > 0 && size + entry.length > this.buffer.batchMaxBytes) close();
      group.push(entry);
      size += entry.length;
    }
    close();
    return out;
  }
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
