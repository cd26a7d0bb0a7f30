// Small pure pieces of the three APIs' wire formats, kept apart from the lifecycle so they can be
// read and unit-tested on their own.
import type { ApiRequest } from './api-server.js';
import type { InvocationError } from './types.js';

export type EventName = 'INVOKE' | 'SHUTDOWN';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Runtime error types are kept when they are Runtime.* or Function.*, otherwise Runtime.Unknown (RIE). */
export function normaliseErrorType(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  if (v && /^(Runtime|Function)\.[A-Za-z0-9]+/.test(v)) return v;
  return 'Runtime.Unknown';
}

/**
 * Validates a register body. Every error is a 403 (RIE answers them all so, bad JSON included):
 * malformed or `configurationKeys` → InvalidRequestFormat; an unknown event → Extension.InvalidEventType.
 */
export function parseRegistration(
  text: string,
): { events: EventName[] } | { errorType: string; errorMessage: string } {
  let body: { events?: unknown; configurationKeys?: unknown } = {};
  const trimmed = text.trim();
  if (trimmed) {
    try {
      body = JSON.parse(trimmed) as typeof body;
    } catch (err) {
      return {
        errorType: 'InvalidRequestFormat',
        errorMessage: `register body is not JSON: ${(err as Error).message}`,
      };
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return { errorType: 'InvalidRequestFormat', errorMessage: 'register body must be a JSON object' };
    }
    if ('configurationKeys' in body) {
      return { errorType: 'InvalidRequestFormat', errorMessage: 'configurationKeys are not supported' };
    }
  }
  const events = body.events ?? [];
  if (!Array.isArray(events) || !events.every((e) => e === 'INVOKE' || e === 'SHUTDOWN')) {
    return {
      errorType: 'Extension.InvalidEventType',
      errorMessage: `events must be INVOKE and/or SHUTDOWN, got ${JSON.stringify(events)}`,
    };
  }
  return { events: [...new Set(events as EventName[])] };
}

export function header(req: ApiRequest, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

export function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function toInvocationError(body: unknown, errorType: string | undefined): InvocationError {
  if (typeof body === 'object' && body !== null) {
    const b = body as { errorType?: unknown; errorMessage?: unknown; trace?: unknown; stackTrace?: unknown };
    const err: InvocationError = {
      errorType: typeof b.errorType === 'string' ? b.errorType : (errorType ?? 'Runtime.Unknown'),
      errorMessage: typeof b.errorMessage === 'string' ? b.errorMessage : JSON.stringify(body),
    };
    const trace = Array.isArray(b.trace) ? b.trace : Array.isArray(b.stackTrace) ? b.stackTrace : undefined;
    if (trace) err.trace = trace.map(String);
    return err;
  }
  return { errorType: errorType ?? 'Runtime.Unknown', errorMessage: String(body) };
}
