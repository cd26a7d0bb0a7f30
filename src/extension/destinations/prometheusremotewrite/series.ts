// OTLP metrics -> Prometheus time series, after the OpenTelemetry "Prometheus and OpenMetrics
// compatibility" mapping: names and label names sanitised, monotonic sums get `_total`, histograms
// become `_bucket{le}` / `_sum` / `_count`, summaries `{quantile}` / `_sum` / `_count`; `job` from
// service.namespace/service.name and `instance` from the environment. Delta temporality is turned into
// cumulative per series here, because Prometheus only understands cumulative counters; the running
// totals live in this environment, so `instance` must name the environment (see docs).
import {
  type Attributes,
  attributes,
  attributeText,
  type MetricJson,
  type MetricsJson,
  nanosToMillis,
  TEMPORALITY_DELTA,
} from '../model.js';

export interface Sample {
  value: number;
  timestampMs: number;
}
export interface TimeSeries {
  /** Sorted by name, `__name__` included. */
  labels: Array<[string, string]>;
  samples: Sample[];
}

/** Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*. */
export function metricName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}
/** Label names: [a-zA-Z_][a-zA-Z0-9_]*, and `__` is reserved for Prometheus. */
export function labelName(name: string): string {
  let s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(s)) s = `key_${s}`;
  if (s.startsWith('__') && s !== '__name__') s = `key${s}`;
  return s;
}

/**
 * Running totals for delta series, keyed by series identity. `convert` works on a copy and the caller
 * commits it only once the write succeeded, so a retried batch is not added twice.
 */
export class CumulativeState {
  private totals = new Map<string, number>();
  fork(): CumulativeState {
    const c = new CumulativeState();
    c.totals = new Map(this.totals);
    return c;
  }
  add(key: string, delta: number): number {
    const v = (this.totals.get(key) ?? 0) + delta;
    this.totals.set(key, v);
    return v;
  }
  get size(): number {
    return this.totals.size;
  }
}

export interface ConvertOptions {
  /** The `instance` label when the resource carries neither faas.instance nor service.instance.id. */
  environmentInstance: string;
}

/** Converts a metrics request; `state` (a fork) is updated with the delta series' new totals. */
export function toTimeSeries(req: MetricsJson, state: CumulativeState, opts: ConvertOptions): TimeSeries[] {
  const series = new Map<string, TimeSeries>();
  const emit = (name: string, labels: Record<string, string>, value: number, timestampMs: number) => {
    const all: Record<string, string> = { ...labels, __name__: name };
    const sorted = Object.entries(all).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = JSON.stringify(sorted);
    let s = series.get(key);
    if (!s) {
      s = { labels: sorted, samples: [] };
      series.set(key, s);
    }
    s.samples.push({ value, timestampMs });
  };
  for (const rm of req.resourceMetrics ?? []) {
    const resource = attributes(rm.resource?.attributes);
    const base = targetLabels(resource, opts.environmentInstance);
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) convertMetric(m, base, state, emit);
    }
  }
  const out = [...series.values()];
  for (const s of out) s.samples.sort((a, b) => a.timestampMs - b.timestampMs);
  return out;
}

function targetLabels(resource: Attributes, environmentInstance: string): Record<string, string> {
  const service = attributeText(resource['service.name'] ?? 'unknown_service');
  const ns = resource['service.namespace'];
  const instance = resource['faas.instance'] ?? resource['service.instance.id'] ?? environmentInstance;
  return {
    job: ns !== undefined ? `${attributeText(ns)}/${service}` : service,
    instance: attributeText(instance),
  };
}

type Emit = (name: string, labels: Record<string, string>, value: number, timestampMs: number) => void;

function pointLabels(base: Record<string, string>, attrs: Attributes): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) out[labelName(k)] = attributeText(v);
  // The target labels win over a data point attribute of the same name.
  return Object.assign(out, base);
}

function convertMetric(
  m: MetricJson,
  base: Record<string, string>,
  state: CumulativeState,
  emit: Emit,
): void {
  const name = metricName(m.name ?? '');
  if (!name) return;
  const numberValue = (p: { asInt?: string; asDouble?: number }) =>
    p.asInt !== undefined ? Number(p.asInt) : (p.asDouble ?? 0);
  if (m.gauge) {
    for (const p of m.gauge.dataPoints ?? [])
      emit(name, pointLabels(base, attributes(p.attributes)), numberValue(p), nanosToMillis(p.timeUnixNano));
  } else if (m.sum) {
    const full = m.sum.isMonotonic && !name.endsWith('_total') ? `${name}_total` : name;
    const delta = m.sum.aggregationTemporality === TEMPORALITY_DELTA;
    for (const p of m.sum.dataPoints ?? []) {
      const labels = pointLabels(base, attributes(p.attributes));
      const v = delta ? state.add(seriesKey(full, labels), numberValue(p)) : numberValue(p);
      emit(full, labels, v, nanosToMillis(p.timeUnixNano));
    }
  } else if (m.histogram) {
    const delta = m.histogram.aggregationTemporality === TEMPORALITY_DELTA;
    for (const p of m.histogram.dataPoints ?? []) {
      const labels = pointLabels(base, attributes(p.attributes));
      const ts = nanosToMillis(p.timeUnixNano);
      const total = (suffix: string, v: number, extra: Record<string, string> = {}) => {
        const l = { ...labels, ...extra };
        emit(`${name}${suffix}`, l, delta ? state.add(seriesKey(`${name}${suffix}`, l), v) : v, ts);
      };
      const bounds = p.explicitBounds ?? [];
      const counts = (p.bucketCounts ?? []).map(Number);
      let running = 0;
      for (let i = 0; i < counts.length; i++) {
        running += counts[i]!;
        total('_bucket', running, { le: i < bounds.length ? formatFloat(bounds[i]!) : '+Inf' });
      }
      total('_sum', p.sum ?? 0);
      total('_count', Number(p.count ?? 0));
    }
  } else if (m.exponentialHistogram) {
    // Native histograms need remote write 2.0; 1.0 carries only their count and sum.
    const delta = m.exponentialHistogram.aggregationTemporality === TEMPORALITY_DELTA;
    for (const p of m.exponentialHistogram.dataPoints ?? []) {
      const labels = pointLabels(base, attributes(p.attributes));
      const ts = nanosToMillis(p.timeUnixNano);
      for (const [suffix, v] of [
        ['_sum', p.sum ?? 0],
        ['_count', Number(p.count ?? 0)],
      ] as const)
        emit(`${name}${suffix}`, labels, delta ? state.add(seriesKey(`${name}${suffix}`, labels), v) : v, ts);
    }
  } else if (m.summary) {
    for (const p of m.summary.dataPoints ?? []) {
      const labels = pointLabels(base, attributes(p.attributes));
      const ts = nanosToMillis(p.timeUnixNano);
      for (const q of p.quantileValues ?? [])
        emit(name, { ...labels, quantile: formatFloat(q.quantile ?? 0) }, q.value ?? 0, ts);
      emit(`${name}_sum`, labels, p.sum ?? 0, ts);
      emit(`${name}_count`, labels, Number(p.count ?? 0), ts);
    }
  }
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return JSON.stringify([name, ...Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

/** Prometheus's float text: integers without a fraction, infinities as +Inf/-Inf. */
export function formatFloat(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}
