// OTLP metrics -> CloudWatch Embedded Metric Format (EMF) objects, one JSON line each. The limits of
// the EMF specification are kept: at most 100 metric definitions per object, at most 30 dimension
// keys per dimension set, at most 100 values per metric; dimension values are strings. CloudWatch
// aggregates per period, so counters are written as deltas: a cumulative sum is turned into the
// change since the previous point of the same series in this environment.
import {
  type Attributes,
  attributes,
  attributeText,
  type MetricJson,
  type MetricsJson,
  nanosToMillis,
  TEMPORALITY_DELTA,
} from '../model.js';

export const MAX_METRICS_PER_OBJECT = 100;
export const MAX_DIMENSIONS = 30;
export const MAX_VALUES_PER_METRIC = 100;
const MAX_NAME = 255;

export interface EmfMetricDefinition {
  Name: string;
  Unit?: string;
  StorageResolution?: 1 | 60;
}
export interface EmfObject {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: EmfMetricDefinition[] }>;
  };
  [member: string]: unknown;
}

/** UCUM units of OTel semantic conventions -> CloudWatch StandardUnit. */
const UNITS: Record<string, string> = {
  ms: 'Milliseconds',
  s: 'Seconds',
  us: 'Microseconds',
  By: 'Bytes',
  KiBy: 'Kilobytes',
  MiBy: 'Megabytes',
  GiBy: 'Gigabytes',
  bit: 'Bits',
  '1': 'Count',
  '%': 'Percent',
  'By/s': 'Bytes/Second',
  '{request}': 'Count',
};
export function cloudWatchUnit(unit: string | undefined): string | undefined {
  if (!unit) return undefined;
  return UNITS[unit] ?? (/^\{.*\}$/.test(unit) ? 'Count' : 'None');
}

/** Last cumulative value per series, to write the change since then. Committed by the caller. */
export class DeltaState {
  private last = new Map<string, number>();
  fork(): DeltaState {
    const d = new DeltaState();
    d.last = new Map(this.last);
    return d;
  }
  /** The change since the last value of `key`; the whole value the first time (its start is this process). */
  delta(key: string, cumulative: number): number {
    const prev = this.last.get(key);
    this.last.set(key, cumulative);
    // A value below the previous one is a counter reset: the new value is all new.
    return prev === undefined || cumulative < prev ? cumulative : cumulative - prev;
  }
}

export interface EmfOptions {
  namespace?: string;
  /** Attribute keys to use as dimensions; default every data point attribute and service.name. */
  dimensionKeys?: readonly string[];
  storageResolution: 1 | 60;
}

interface Point {
  name: string;
  unit?: string;
  value: number;
}

export function toEmfObjects(req: MetricsJson, state: DeltaState, opts: EmfOptions): EmfObject[] {
  // Group by namespace, dimension values and timestamp: one group becomes one or more objects.
  const groups = new Map<
    string,
    {
      namespace: string;
      ts: number;
      dims: Record<string, string>;
      props: Record<string, string>;
      points: Point[];
    }
  >();
  for (const rm of req.resourceMetrics ?? []) {
    const resource = attributes(rm.resource?.attributes);
    const service = attributeText(resource['service.name'] ?? 'unknown_service');
    const namespace = truncate(
      opts.namespace ??
        (resource['service.namespace'] !== undefined
          ? attributeText(resource['service.namespace'])
          : service),
    );
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        for (const { attrs, ts, points } of metricPoints(m, state, service)) {
          const all: Record<string, string> = { 'service.name': service };
          for (const [k, v] of Object.entries(attrs)) all[k] = attributeText(v);
          const { dims, props } = splitDimensions(all, opts.dimensionKeys);
          const key = JSON.stringify([namespace, ts, dims, props]);
          let g = groups.get(key);
          if (!g) {
            g = { namespace, ts, dims, props, points: [] };
            groups.set(key, g);
          }
          g.points.push(...points);
        }
      }
    }
  }
  const out: EmfObject[] = [];
  for (const g of groups.values()) {
    // Values of one metric name within a group become an array (up to 100 values each).
    const values = new Map<string, { unit?: string; values: number[] }>();
    for (const p of g.points) {
      let v = values.get(p.name);
      if (!v) {
        v = { unit: p.unit, values: [] };
        values.set(p.name, v);
      }
      v.values.push(p.value);
    }
    const entries: Array<[string, { unit?: string; values: number[] }]> = [];
    for (const [name, v] of values)
      for (let i = 0; i < v.values.length; i += MAX_VALUES_PER_METRIC)
        entries.push([name, { unit: v.unit, values: v.values.slice(i, i + MAX_VALUES_PER_METRIC) }]);
    // Two chunks of one metric must not share an object (one member per name), so objects are
    // filled name by name.
    let current: EmfObject | undefined;
    let count = 0;
    for (const [name, v] of entries) {
      if (!current || count === MAX_METRICS_PER_OBJECT || name in current) {
        current = newObject(g.namespace, g.ts, g.dims, g.props);
        out.push(current);
        count = 0;
      }
      const def: EmfMetricDefinition = { Name: name, StorageResolution: opts.storageResolution };
      if (v.unit) def.Unit = v.unit;
      current._aws.CloudWatchMetrics[0]!.Metrics.push(def);
      current[name] = v.values.length === 1 ? v.values[0] : v.values;
      count++;
    }
  }
  return out;
}

function newObject(
  namespace: string,
  ts: number,
  dims: Record<string, string>,
  props: Record<string, string>,
): EmfObject {
  return {
    _aws: {
      Timestamp: ts,
      CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [Object.keys(dims)], Metrics: [] }],
    },
    ...props,
    ...dims,
  };
}

function splitDimensions(all: Record<string, string>, keys: readonly string[] | undefined) {
  const dims: Record<string, string> = {};
  const props: Record<string, string> = {};
  const chosen = (keys ?? Object.keys(all).sort()).filter((k) => k in all).slice(0, MAX_DIMENSIONS);
  for (const k of chosen) dims[k] = all[k]!;
  for (const [k, v] of Object.entries(all)) if (!(k in dims)) props[k] = v;
  return { dims, props };
}

const truncate = (s: string): string => s.slice(0, MAX_NAME);

function* metricPoints(
  m: MetricJson,
  state: DeltaState,
  service: string,
): Generator<{ attrs: Attributes; ts: number; points: Point[] }> {
  const name = truncate(m.name ?? '');
  if (!name) return;
  const unit = cloudWatchUnit(m.unit);
  const num = (p: { asInt?: string; asDouble?: number }) =>
    p.asInt !== undefined ? Number(p.asInt) : (p.asDouble ?? 0);
  const seriesKey = (suffix: string, attrs: Attributes) => JSON.stringify([service, name + suffix, attrs]);
  if (m.gauge) {
    for (const p of m.gauge.dataPoints ?? []) {
      const attrs = attributes(p.attributes);
      yield { attrs, ts: nanosToMillis(p.timeUnixNano), points: [{ name, unit, value: num(p) }] };
    }
  } else if (m.sum) {
    const delta = m.sum.aggregationTemporality === TEMPORALITY_DELTA;
    for (const p of m.sum.dataPoints ?? []) {
      const attrs = attributes(p.attributes);
      // A non-monotonic sum (an up-down counter) is a level, written as it is.
      const value = delta || !m.sum.isMonotonic ? num(p) : state.delta(seriesKey('', attrs), num(p));
      yield { attrs, ts: nanosToMillis(p.timeUnixNano), points: [{ name, unit, value }] };
    }
  } else if (m.histogram || m.exponentialHistogram) {
    // EMF has no bucket form: a histogram is written as its count and sum (and min/max when known).
    const h = (m.histogram ?? m.exponentialHistogram)!;
    const delta = h.aggregationTemporality === TEMPORALITY_DELTA;
    for (const p of (h.dataPoints ?? []) as Array<{
      attributes?: unknown;
      timeUnixNano?: string;
      count?: string;
      sum?: number;
      min?: number;
      max?: number;
    }>) {
      const attrs = attributes(p.attributes as never);
      const count = Number(p.count ?? 0);
      const sum = p.sum ?? 0;
      const points: Point[] = [
        {
          name: `${name}.count`,
          unit: 'Count',
          value: delta ? count : state.delta(seriesKey('.count', attrs), count),
        },
        { name: `${name}.sum`, unit, value: delta ? sum : state.delta(seriesKey('.sum', attrs), sum) },
      ];
      if (p.min !== undefined) points.push({ name: `${name}.min`, unit, value: p.min });
      if (p.max !== undefined) points.push({ name: `${name}.max`, unit, value: p.max });
      yield { attrs, ts: nanosToMillis(p.timeUnixNano), points };
    }
  } else if (m.summary) {
    for (const p of m.summary.dataPoints ?? []) {
      const attrs = attributes(p.attributes);
      yield {
        attrs,
        ts: nanosToMillis(p.timeUnixNano),
        points: [
          { name: `${name}.count`, unit: 'Count', value: Number(p.count ?? 0) },
          { name: `${name}.sum`, unit, value: p.sum ?? 0 },
        ],
      };
    }
  }
}
