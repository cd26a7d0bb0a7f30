// Reads what the demo's sink received and says it in a few lines: how many export requests per signal
// (the batching), the spans by name, one trace as a tree, metric names and log records.
import type { SinkRequest } from './sink.js';

interface SpanView {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  durationMs: number;
}

export interface CollectorSummary {
  requests: Record<'traces' | 'metrics' | 'logs', number>;
  spans: number;
  traces: number;
  spanNames: Record<string, number>;
  metricNames: string[];
  dataPoints: number;
  logRecords: number;
}

type Obj = Record<string, unknown>;
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const nanos = (v: unknown): bigint => {
  try {
    return BigInt(String(v ?? '0'));
  } catch {
    return 0n;
  }
};

function spansOf(requests: readonly SinkRequest[]): SpanView[] {
  const out: SpanView[] = [];
  for (const r of requests) {
    if (r.signal !== 'traces') continue;
    for (const rs of list(r.body.resourceSpans))
      for (const ss of list(rs.scopeSpans))
        for (const s of list(ss.spans))
          out.push({
            traceId: String(s.traceId ?? ''),
            spanId: String(s.spanId ?? ''),
            parentSpanId: String(s.parentSpanId ?? ''),
            name: String(s.name ?? ''),
            durationMs: Number(nanos(s.endTimeUnixNano) - nanos(s.startTimeUnixNano)) / 1e6,
          });
  }
  return out;
}

const POINT_KINDS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;

export function summarize(requests: readonly SinkRequest[]): CollectorSummary {
  const spans = spansOf(requests);
  const spanNames: Record<string, number> = {};
  for (const s of spans) spanNames[s.name] = (spanNames[s.name] ?? 0) + 1;
  const metricNames = new Set<string>();
  let dataPoints = 0;
  let logRecords = 0;
  for (const r of requests) {
    if (r.signal === 'metrics') {
      for (const rm of list(r.body.resourceMetrics))
        for (const sm of list(rm.scopeMetrics))
          for (const m of list(sm.metrics)) {
            metricNames.add(String(m.name));
            for (const kind of POINT_KINDS)
              dataPoints += list((m[kind] as Obj | undefined)?.dataPoints).length;
          }
    } else if (r.signal === 'logs') {
      for (const rl of list(r.body.resourceLogs))
        for (const sl of list(rl.scopeLogs)) logRecords += list(sl.logRecords).length;
    }
  }
  const count = (signal: SinkRequest['signal']): number => requests.filter((r) => r.signal === signal).length;
  return {
    requests: { traces: count('traces'), metrics: count('metrics'), logs: count('logs') },
    spans: spans.length,
    traces: new Set(spans.map((s) => s.traceId)).size,
    spanNames,
    metricNames: [...metricNames].sort(),
    dataPoints,
    logRecords,
  };
}

/** The last complete trace as an indented tree, root first. */
export function traceTree(requests: readonly SinkRequest[]): string[] {
  const spans = spansOf(requests);
  const last = spans.at(-1);
  if (!last) return [];
  const inTrace = spans.filter((s) => s.traceId === last.traceId);
  const ids = new Set(inTrace.map((s) => s.spanId));
  const lines: string[] = [];
  const walk = (parent: string, depth: number): void => {
    for (const s of inTrace.filter(
      (x) => x.parentSpanId === parent || (depth === 0 && !ids.has(x.parentSpanId)),
    )) {
      if (depth === 0 && s.parentSpanId && ids.has(s.parentSpanId)) continue;
      lines.push(`${'  '.repeat(depth + 1)}${s.name}  ${s.durationMs.toFixed(2)} ms`);
      if (depth < 8) walk(s.spanId, depth + 1);
    }
  };
  walk('', 0);
  return lines;
}
