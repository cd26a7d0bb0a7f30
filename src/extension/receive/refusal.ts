// What the OTLP/HTTP and OTLP/gRPC receivers share once the transport is peeled off: the error that
// carries a refusal (a gRPC code, which OTLP/HTTP also puts in its google.rpc.Status body, plus the
// HTTP status), a gunzip capped against gzip bombs, and handing the protobuf body to the Ingest with
// an invalid body refused as a whole.
import type { Readable } from 'node:stream';
import { OtlpDecodeError, type Signal } from '../../otlp/index.js';
import type { Clock } from '../export/types.js';
import { errorText } from '../log.js';
import type { Ingest } from './ingest.js';

/** gRPC status codes the receivers answer with. */
export const GRPC_CODE = {
  INVALID_ARGUMENT: 3,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

/** The OTLP/HTTP answer to each code, unless a refusal names another (405, 415). */
const HTTP_STATUS: Record<number, number> = {
  [GRPC_CODE.INVALID_ARGUMENT]: 400,
  [GRPC_CODE.RESOURCE_EXHAUSTED]: 413,
  [GRPC_CODE.UNIMPLEMENTED]: 404,
  [GRPC_CODE.INTERNAL]: 500,
  [GRPC_CODE.UNAVAILABLE]: 503,
};

/** A request refused before any of it was accepted; the message says so to the sender. */
export class RequestRefused extends Error {
  override readonly name = 'RequestRefused';
  /** The OTLP/HTTP answer. */
  readonly httpStatus: number;
  constructor(
    /** gRPC status code (also the `code` of the OTLP/HTTP Status body). */
    readonly code: number,
    message: string,
    options?: { httpStatus?: number; cause?: unknown },
  ) {
    super(message, options);
    this.httpStatus = options?.httpStatus ?? HTTP_STATUS[code] ?? 400;
  }
}

/**
 * The bytes of request bodies read so far but not yet finished, across every connection of both
 * receivers: many stalled or slow bodies must not add up to more memory than the buffer itself.
 */
export class InflightBodies {
  private used = 0;
  constructor(readonly maxBytes: number) {}
  /** Reserves `n` bytes; false (nothing reserved) when that would pass the cap. */
  take(n: number): boolean {
    if (this.used + n > this.maxBytes) return false;
    this.used += n;
    return true;
  }
  release(n: number): void {
    this.used -= n;
  }
  get bytes(): number {
    return this.used;
  }
}

/** How a body read is bounded besides its size: shared memory and a deadline on silence. */
export interface BodyLimits {
  inflight: InflightBodies;
  clock: Clock;
  /** A body that sends nothing for this long (while the environment is not frozen) is refused. */
  idleMs: number;
}

/** Per-request bounds on a body read, on top of the receiver's `BodyLimits`. */
export interface ReadBounds extends BodyLimits {
  /** The size the body's first `headBytes` announce (a gRPC length prefix), checked against `max` early. */
  declaredSize?: { headBytes: number; size: (head: Buffer) => number };
  /** The sender's own deadline: a body not complete by then is refused with `refusal()`. */
  deadline?: { ms: number; refusal: () => RequestRefused };
}

/**
 * Reads a request body. Past `max` bytes it is refused with `tooLarge(size)` and the rest is drained
 * (never buffered); a stream error is refused with `failed(err)`. With `limits`, a body that would push
 * the partly-read bytes of all requests past the shared cap is refused UNAVAILABLE, and one that stays
 * silent for `idleMs` of awake time is refused too (the caller closes the connection).
 */
export function readCapped(
  body: Readable,
  max: number,
  tooLarge: (size: number) => RequestRefused,
  failed: (err: Error) => RequestRefused,
  limits?: ReadBounds,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let reserved = 0;
    let settled = false;
    let idle: IdleWatch | undefined;
    let headChecked = !limits?.declaredSize;
    let deadline: NodeJS.Timeout | undefined;
    const settle = (err?: RequestRefused) => {
      if (settled) return;
      settled = true;
      idle?.stop();
      if (deadline) clearTimeout(deadline);
      if (limits) limits.inflight.release(reserved);
      reserved = 0;
      if (!err) return resolve(Buffer.concat(chunks, size));
      body.off('data', onData);
      chunks.length = 0;
      body.resume();
      reject(err);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) return settle(tooLarge(size));
      if (limits) {
        if (!limits.inflight.take(c.length)) return settle(busy(limits.inflight.maxBytes));
        reserved += c.length;
        idle?.activity();
      }
      chunks.push(c);
      const announced = limits?.declaredSize;
      if (!headChecked && announced && size >= announced.headBytes) {
        headChecked = true;
        const declared = announced.size(chunks.length === 1 ? c : Buffer.concat(chunks, size));
        if (declared > max) return settle(tooLarge(declared));
      }
    };
    if (limits?.deadline) {
      const { ms, refusal } = limits.deadline;
      deadline = setTimeout(() => settle(refusal()), ms);
      deadline.unref();
    }
    if (limits) {
      idle = new IdleWatch(limits.clock, limits.idleMs, () =>
        settle(
          new RequestRefused(
            GRPC_CODE.UNAVAILABLE,
            `request body stalled for ${limits.idleMs} ms; nothing was accepted`,
            { httpStatus: 408 },
          ),
        ),
      );
    }
    body.on('data', onData);
    body.on('end', () => settle());
    body.on('error', (err) => settle(failed(err)));
  });
}

function busy(maxBytes: number) {
  return new RequestRefused(
    GRPC_CODE.UNAVAILABLE,
    `the relay is already reading ${maxBytes} bytes of unfinished request bodies; nothing of this one was accepted, retry`,
  );
}

/**
 * Calls `onIdle` after `idleMs` of awake time without activity. Ticks at a quarter of that and counts
 * at most two ticks per gap, so a freeze of the environment (the function's own sender frozen with
 * it) does not use up the time: the watch re-arms instead of killing a request the freeze delayed.
 */
class IdleWatch {
  private readonly tickMs: number;
  private last: number;
  private quietMs = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(
    private readonly clock: Clock,
    private readonly idleMs: number,
    private readonly onIdle: () => void,
  ) {
    this.tickMs = Math.max(1, Math.floor(idleMs / 4));
    this.last = clock.monotonic();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }
  activity(): void {
    this.quietMs = 0;
    this.last = this.clock.monotonic();
  }
  stop(): void {
    clearInterval(this.timer);
  }
  private tick(): void {
    const now = this.clock.monotonic();
    const gap = now - this.last;
    this.last = now;
    // A gap far past the tick means the process did not run: the environment was frozen, the sender
    // with it, so its silence starts over rather than being charged for the freeze.
    if (gap > 2 * this.tickMs || gap < 0) this.quietMs = 0;
    else this.quietMs += gap;
    if (this.quietMs >= this.idleMs) this.onIdle();
  }
}

/** Decompresses with a cap on the output, so a gzip bomb costs at most `max` bytes of memory. */
export function gunzipCapped(body: Uint8Array, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // zlib is loaded by the first gzip body, not at startup.
    process.getBuiltinModule('node:zlib').gunzip(body, { maxOutputLength: max }, (err, out) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        return reject(
          new RequestRefused(
            GRPC_CODE.RESOURCE_EXHAUSTED,
            `gzip body decompresses to more than the relay's limit of ${max} bytes (OTEL_RELAY_MAX_REQUEST_BYTES); nothing was accepted`,
            { cause: err },
          ),
        );
      }
      reject(
        new RequestRefused(
          GRPC_CODE.INVALID_ARGUMENT,
          `gzip body could not be decompressed (${errorText(err)}); nothing was accepted`,
          { cause: err },
        ),
      );
    });
  });
}

/** A body that is not a valid export request (or not valid OTLP/JSON) as a refusal; else `err`. */
export function asInvalidRequest(err: unknown, signal: Signal): unknown {
  if (err instanceof OtlpDecodeError || err instanceof SyntaxError) {
    return new RequestRefused(
      GRPC_CODE.INVALID_ARGUMENT,
      `not a valid OTLP ${signal} export request; nothing was accepted: ${err.message}`,
      { cause: err },
    );
  }
  return err;
}

/**
 * Buffers a protobuf export request. Returns the OTLP partial success to answer with, if some of it
 * did not fit; throws RequestRefused when the body is not a valid request.
 */
export function acceptExportRequest(
  ingest: Ingest,
  signal: Signal,
  body: Uint8Array,
): { rejected: number; message: string } | undefined {
  let result: ReturnType<Ingest['accept']>;
  try {
    result = ingest.accept(signal, body);
  } catch (err) {
    throw asInvalidRequest(err, signal);
  }
  return result.rejected > 0 ? { rejected: result.rejected, message: result.message ?? '' } : undefined;
}
