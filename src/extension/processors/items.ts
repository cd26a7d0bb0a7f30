// The structured view processors work on: a batch decoded into its OTLP/JSON shape, its items
// (spans, metric data points, log records) visited with their resource and scope, items removed on
// purpose, and the result encoded back. Only loaded when a processor is configured: plain OTLP ->
// OTLP never decodes.
import { decodeExportRequest } from '../../otlp/decode.js';
import { encodeExportRequest } from '../../otlp/json/encode.js';
import type { KeyValueJson } from '../destinations/model.js';
import type { Batch, Signal } from './types.js';

/** One item with what it belongs to. `metric` is set for data points (name, unit). */
export interface ItemView {
  signal: Signal;
  item: Record<string, unknown> & { attributes?: KeyValueJson[] };
  resource: { attributes?: KeyValueJson[] };
  scope: { name?: string; version?: string; attributes?: KeyValueJson[] };
  metric?: { name?: string; unit?: string };
}

type Json = Record<string, unknown>;
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

const LAYOUT = {
  traces: { top: 'resourceSpans', scopes: 'scopeSpans', items: 'spans' },
  metrics: { top: 'resourceMetrics', scopes: 'scopeMetrics', items: 'metrics' },
  logs: { top: 'resourceLogs', scopes: 'scopeLogs', items: 'logRecords' },
} as const;
const METRIC_KINDS = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'] as const;

export class DecodedBatch {
  private constructor(
    readonly signal: Signal,
    readonly request: Json,
    private readonly source: Batch,
  ) {}

  static async of(batch: Batch): Promise<DecodedBatch> {
    return new DecodedBatch(
      batch.signal,
      (await decodeExportRequest(batch.signal, batch.body)) as Json,
      batch,
    );
  }

  /** Every resource (for resource-level changes). */
  resources(): Array<{ attributes?: KeyValueJson[] }> {
    const l = LAYOUT[this.signal];
    return arr(this.request[l.top]).map((r) => {
      r.resource ??= {};
      return r.resource as { attributes?: KeyValueJson[] };
    });
  }

  /** Every scope (for scope-level changes). */
  scopes(): Array<{ attributes?: KeyValueJson[] }> {
    const l = LAYOUT[this.signal];
    return arr(this.request[l.top]).flatMap((r) =>
      arr(r[l.scopes]).map((s) => {
        s.scope ??= {};
        return s.scope as { attributes?: KeyValueJson[] };
      }),
    );
  }

  /**
   * Visits every item in order; `keep` returning false removes it. Returns how many were removed.
   * Containers left empty are removed too, so the request stays minimal.
   */
  retain(keep: (v: ItemView) => boolean): number {
    const l = LAYOUT[this.signal];
    let removed = 0;
    const resources = arr(this.request[l.top]).filter((r) => {
      const resource = (r.resource ?? {}) as ItemView['resource'];
      const scopes = arr(r[l.scopes]).filter((s) => {
        const scope = (s.scope ?? {}) as ItemView['scope'];
        if (this.signal !== 'metrics') {
          const before = arr(s[l.items]);
          const after = before.filter((item) => keep({ signal: this.signal, item, resource, scope }));
          removed += before.length - after.length;
          s[l.items] = after;
          return after.length > 0;
        }
        const metrics = arr(s.metrics).filter((m) => {
          let left = 0;
          for (const kind of METRIC_KINDS) {
            const data = m[kind] as Json | undefined;
            if (!data) continue;
            const before = arr(data.dataPoints);
            const after = before.filter((item) =>
              keep({
                signal: 'metrics',
                item,
                resource,
                scope,
                metric: { name: m.name as string, unit: m.unit as string },
              }),
            );
            removed += before.length - after.length;
            data.dataPoints = after;
            left += after.length;
          }
          return left > 0;
        });
        s.metrics = metrics;
        return metrics.length > 0;
      });
      r[l.scopes] = scopes;
      return scopes.length > 0;
    });
    this.request[l.top] = resources;
    return removed;
  }

  /**
   * The batch encoded back, `removed` items fewer than it came in (counted from the batch, so the
   * ledger balances by construction); undefined when no item is left.
   */
  toBatch(removed: number): Batch | undefined {
    const items = this.source.items - removed;
    if (items <= 0) return undefined;
    return { ...this.source, body: encodeExportRequest(this.signal, this.request), items };
  }
}
