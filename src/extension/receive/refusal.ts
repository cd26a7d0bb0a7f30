// What the OTLP/HTTP and OTLP/gRPC receivers share once the transport is peeled off: the error that
// carries a refusal (a gRPC code, which OTLP/HTTP also puts in its google.rpc.Status body, plus the
// HTTP status), a gunzip capped against gzip bombs, and handing the protobuf body to the Ingest with
// an invalid body refused as a whole.
import type { Readable } from 'node:stream';
import { gunzip } from 'node:zlib';
import { OtlpDecodeError, type Signal } from '../../otlp/index.js';
import { errorText } from '../log.js';
import type { Ingest } from './ingest.js';

/** gRPC status codes the receivers answer with. */
export const GRPC_CODE = {
  INVALID_ARGUMENT: 3,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
} as const;

/** The OTLP/HTTP answer to each code, unless a refusal names another (405, 415). */
const HTTP_STATUS: Record<number, number> = {
  [GRPC_CODE.INVALID_ARGUMENT]: 400,
  [GRPC_CODE.RESOURCE_EXHAUSTED]: 413,
  [GRPC_CODE.UNIMPLEMENTED]: 404,
  [GRPC_CODE.INTERNAL]: 500,
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
 * Reads a request body. Past `max` bytes it is refused with `tooLarge(size)` and the rest is drained
 * (never buffered); a stream error is refused with `failed(err)`.
 */
export function readCapped(
  body: Readable,
  max: number,
  tooLarge: (size: number) => RequestRefused,
  failed: (err: Error) => RequestRefused,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) {
        body.off('data', onData);
        body.resume();
        reject(tooLarge(size));
        return;
      }
      chunks.push(c);
    };
    body.on('data', onData);
    body.on('end', () => resolve(Buffer.concat(chunks, size)));
    body.on('error', (err) => reject(failed(err)));
  });
}

/** Decompresses with a cap on the output, so a gzip bomb costs at most `max` bytes of memory. */
export function gunzipCapped(body: Uint8Array, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: max }, (err, out) => {
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
