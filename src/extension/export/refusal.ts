// The one classification of a destination's refusals: what a non-retryable answer means for the data.

/**
 * What a non-retryable answer of the collector means for the batch it refused:
 * - `bad-data`: the collector read the request and says the data itself is invalid (HTTP 400, 413,
 *   415, 422; gRPC INVALID_ARGUMENT). Re-sending it cannot succeed, so it is dropped and counted.
 * - `unavailable`: the request never reached a collector that would judge the data: credentials
 *   (401, 403, 407; gRPC UNAUTHENTICATED, PERMISSION_DENIED), a wrong endpoint (404, 405, 410, 421;
 *   gRPC NOT_FOUND, UNIMPLEMENTED) or any other 4xx. It is a configuration problem a redeploy fixes,
 *   so the batch is kept (S3, spool) and the failure counts toward the circuit breaker.
 * - `server-error`: the collector failed (500, 501, ...; gRPC INTERNAL, UNKNOWN, ...): the batch is
 *   kept, and the collector, which did answer, is not counted as down.
 */
export type RefusalClass = 'bad-data' | 'unavailable' | 'server-error';

/** HTTP statuses (and gRPC INVALID_ARGUMENT, 3) that say the data itself is what the collector refuses. */
const BAD_DATA: ReadonlySet<number> = new Set([400, 413, 415, 422, 3]);
/** gRPC codes about credentials or the endpoint: NOT_FOUND 5, PERMISSION_DENIED 7, UNIMPLEMENTED 12, UNAUTHENTICATED 16. */
const GRPC_UNAVAILABLE: ReadonlySet<number> = new Set([5, 7, 12, 16]);

/**
 * Classifies the status of a non-retryable export failure. `status` is an HTTP status (≥ 100) or a
 * gRPC status code (0-16); undefined (no answer at all) counts as `unavailable`.
 */
export function classifyRefusal(status: number | undefined): RefusalClass {
  if (status === undefined) return 'unavailable';
  if (BAD_DATA.has(status)) return 'bad-data';
  if (status < 100) return GRPC_UNAVAILABLE.has(status) ? 'unavailable' : 'server-error';
  if (status >= 400 && status < 500) return 'unavailable';
  return 'server-error';
}

/** What a refusal means, in words a user reads in a log line next to the status. */
export function refusalMeaning(status: number | undefined): string {
  switch (status) {
    case 400:
    case 3:
      return 'the collector rejected them as invalid';
    case 413:
      return 'the collector rejected them as too large';
    case 415:
      return 'the collector does not accept their content type or encoding';
    case 422:
      return 'the collector could not process them';
    case 401:
    case 16:
      return 'the collector refused the credentials (check OTEL_EXPORTER_OTLP_HEADERS)';
    case 403:
    case 7:
      return 'the collector denied access (check the credentials in OTEL_EXPORTER_OTLP_HEADERS)';
    case 407:
      return 'a proxy between the relay and the collector wants credentials';
    case 404:
    case 5:
    case 12:
      return 'nothing answers OTLP at that path (check OTEL_EXPORTER_OTLP_ENDPOINT)';
    default:
      return classifyRefusal(status) === 'server-error'
        ? 'the collector failed'
        : 'the collector refused them';
  }
}
