// Types and the error shared by every part of src/otlp. Kept apart from index.ts so the parts can
// import them without an import cycle through the public surface.

/** The three OTLP signals, named as in the URL paths `/v1/<signal>`. */
export type Signal = 'traces' | 'metrics' | 'logs';
export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

/** What a wire-format walk found in a valid Export<Signal>ServiceRequest. */
export interface ExportRequestSummary {
  signal: Signal;
  /** Top-level field-1 entries (ResourceSpans / ResourceMetrics / ResourceLogs). */
  resources: number;
  /** Spans, metric data points, or log records. */
  items: number;
  bytes: number;
}

/** A request that is not a well-formed OTLP message; `offset` is where the walk stopped. */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
  constructor(
    message: string,
    readonly offset = -1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface WalkLimits {
  /**
   * Deepest message nesting accepted, counting the request itself as depth 0 (default 64). A span
   * attribute holding a plain value sits at depth 5; each nested array or key-value list adds 2.
   * The bound keeps a hostile request from exhausting the stack of any decoder behind us; values
   * above 1000 are lowered to 1000 for the same reason.
   */
  maxDepth?: number;
  /**
   * Check that every string field is valid UTF-8 (default true). proto3 requires it, and decoders
   * behind us enforce it (protobufjs 8 throws on it), so a request with a bad string accepted here
   * would poison every batch it joined. ASCII strings are checked in the walk loop; only strings with
   * non-ASCII bytes pay for the native check. `false` skips the check entirely.
   */
  checkUtf8?: boolean;
}
