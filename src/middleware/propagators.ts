// OTEL_PROPAGATORS, as the SDK environment specification defines it: a comma-separated list of
// `tracecontext`, `baggage`, `xray` and `none` (default `tracecontext,baggage`). `b3`, `b3multi` and
// `jaeger` need packages this layer does not carry: they are skipped with a warning that says so.
import {
  type Context,
  isSpanContextValid,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import type { RelayLog } from './log.js';
import { parseXRayHeader } from './propagation.js';

const XRAY_HEADER = 'x-amzn-trace-id';

/** The AWS X-Ray header (`X-Amzn-Trace-Id`) as a propagator, on the parser the middleware already uses. */
export class XRayPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const sc = trace.getSpanContext(ctx);
    if (!sc || !isSpanContextValid(sc)) return;
    const root = `1-${sc.traceId.slice(0, 8)}-${sc.traceId.slice(8)}`;
    const sampled = sc.traceFlags & TraceFlags.SAMPLED ? '1' : '0';
    setter.set(carrier, 'X-Amzn-Trace-Id', `Root=${root};Parent=${sc.spanId};Sampled=${sampled}`);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const raw = getter.get(carrier, XRAY_HEADER);
    const sc = parseXRayHeader(Array.isArray(raw) ? raw[0] : raw);
    return sc ? trace.setSpanContext(ctx, sc) : ctx;
  }

  fields(): string[] {
    return [XRAY_HEADER];
  }
}

/** The W3C propagators of @opentelemetry/core, passed in so this module does not load it. */
export interface W3CPropagators {
  W3CTraceContextPropagator: new () => TextMapPropagator;
  W3CBaggagePropagator: new () => TextMapPropagator;
}

/** The propagators OTEL_PROPAGATORS names, in its order; unknown names are logged once and skipped. */
export function propagatorsFromEnv(
  value: string | undefined,
  core: W3CPropagators,
  log: RelayLog,
): TextMapPropagator[] {
  const names = (value?.trim() ? value : 'tracecontext,baggage')
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
  if (names.includes('none')) return [];
  const out: TextMapPropagator[] = [];
  for (const name of new Set(names)) {
    if (name === 'tracecontext') out.push(new core.W3CTraceContextPropagator());
    else if (name === 'baggage') out.push(new core.W3CBaggagePropagator());
    else if (name === 'xray') out.push(new XRayPropagator());
    else
      log.once(
        `propagator-${name}`,
        'warn',
        `OTEL_PROPAGATORS: "${name}" is not supported by lambda-otel-relay (tracecontext, baggage, xray, ` +
          'none are); trace context in that format is neither read nor written',
      );
  }
  return out;
}
