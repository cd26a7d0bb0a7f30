// Self-telemetry: the extension's counters as one OTLP ExportMetricsServiceRequest, which goes into
// the metrics buffer like any other data (same pipeline, same fallback).
import type { Signal } from '../../otlp/index.js';
import { ProtoWriter } from './protobuf-writer.js';
import type { RelayStats } from './stats.js';

export interface SelfTelemetryResource {
  functionName?: string;
  functionVersion?: string;
  region?: string;
  extensionVersion: string;
}

/** A circuit breaker's state as reported by the Delivery (`collectorBreaker: 'open'`, ...). */
export interface BreakerReading {
  /** "collector", "s3". */
  name: string;
  state: 'closed' | 'half-open' | 'open';
}

/** The gauge's values: ordered by how much of the data bypasses the backend. */
const BREAKER_STATE_VALUE: Record<BreakerReading['state'], number> = { closed: 0, 'half-open': 1, open: 2 };

/** The breakers in a `Delivery.state()` record: every `<name>Breaker` key holding a breaker state. */
export function breakerReadings(
  state: Readonly<Record<string, string | number>> | undefined,
): BreakerReading[] {
  const out: BreakerReading[] = [];
  for (const [key, value] of Object.entries(state ?? {})) {
    const m = /^(\w+)Breaker$/.exec(key);
    if (m?.[1] && typeof value === 'string' && value in BREAKER_STATE_VALUE) {
      out.push({ name: m[1], state: value as BreakerReading['state'] });
    }
  }
  return out;
}

const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];
const DURATION_BOUNDS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

type Attr = [string, string];

/** Encodes cumulative counters since `startNs`, plus histograms of flush and post-runtime durations. */
export function encodeSelfMetrics(
  stats: RelayStats,
  resource: SelfTelemetryResource,
  startNs: bigint,
  nowNs: bigint,
  /** Start of the delta histograms: the previous emission. */
  deltaStartNs: bigint = startNs,
  breakers: readonly BreakerReading[] = [],
): { body: Uint8Array; points: number } {
  let points = 0;
  const w = new ProtoWriter();
  w.message(1, (rm) => {
    rm.message(1, (r) => {
      const attrs: Attr[] = [['service.name', resource.functionName ?? 'unknown_service']];
      if (resource.functionName) attrs.push(['faas.name', resource.functionName]);
      if (resource.functionVersion) attrs.push(['faas.version', resource.functionVersion]);
      if (resource.region) attrs.push(['cloud.region', resource.region]);
      for (const a of attrs) keyValue(r, 1, a);
    });
    rm.message(2, (sm) => {
      sm.message(1, (scope) => scope.string(1, 'lambda-otel-relay').string(2, resource.extensionVersion));
      const sum = (
        name: string,
        unit: string,
        description: string,
        values: { attrs: Attr[]; value: number }[],
      ) => {
        sm.message(2, (m) => {
          m.string(1, name).string(2, description).string(3, unit);
          m.message(7, (s) => {
            for (const v of values) {
              points++;
              s.message(1, (dp) => {
                dp.fixed64(2, startNs).fixed64(3, nowNs).double(4, v.value);
                for (const a of v.attrs) keyValue(dp, 7, a);
              });
            }
            s.uint(2, 2).bool(3, true);
          });
        });
      };
      const perSignal = (counts: Record<Signal, number>) =>
        SIGNALS.map((s) => ({ attrs: [['signal', s]] as Attr[], value: counts[s] }));
      sum(
        'otel_relay.items.received',
        '{item}',
        'Spans, data points and log records accepted',
        perSignal(stats.received),
      );
      sum('otel_relay.items.exported', '{item}', 'Items the collector accepted', perSignal(stats.exported));
      sum(
        'otel_relay.items.spilled',
        '{item}',
        'Items written to the fallback (S3 or /tmp)',
        perSignal(stats.spilled),
      );
      sum(
        'otel_relay.items.rejected',
        '{item}',
        'Items a destination refused for good (partial success, invalid data)',
        perSignal(stats.rejected),
      );
      sum(
        'otel_relay.items.replayed',
        '{item}',
        'Spilled items a replay delivered (moved from spilled to exported)',
        perSignal(stats.replayed),
      );
      const byReason = (counts: Record<string, Record<Signal, number>>) =>
        Object.entries(counts).flatMap(([reason, per]) =>
          SIGNALS.map((s) => ({
            attrs: [
              ['signal', s],
              ['reason', reason],
            ] as Attr[],
            value: per[s],
          })),
        );
      const dropped = byReason(stats.dropped);
      if (dropped.length > 0) sum('otel_relay.items.dropped', '{item}', 'Items lost, by reason', dropped);
      const filtered = byReason(stats.filtered);
      if (filtered.length > 0)
        sum('otel_relay.items.filtered', '{item}', 'Items removed on purpose, by reason', filtered);
      const lines = Object.entries(stats.destinations);
      if (lines.length > 1) {
        const states = ['offered', 'exported', 'spilled', 'rejected', 'dropped', 'replayed'] as const;
        sum(
          'otel_relay.destination.items',
          '{item}',
          'Per destination: items offered to it and the state each ended in',
          lines.flatMap(([name, line]) =>
            states.flatMap((state) =>
              SIGNALS.map((s) => ({
                attrs: [
                  ['destination', name],
                  ['signal', s],
                  ['state', state],
                ] as Attr[],
                value: line[state][s],
              })),
            ),
          ),
        );
      }
      sum(
        'otel_relay.export.requests',
        '{request}',
        'Export requests sent to the collector',
        perSignal(stats.exportRequests),
      );
      sum('otel_relay.config.problems', '{problem}', 'Invalid configuration values replaced by defaults', [
        { attrs: [], value: stats.configProblems },
      ]);
      sum('otel_relay.requests.invalid', '{request}', 'Requests refused as malformed', [
        { attrs: [], value: stats.invalidRequests },
      ]);
      if (breakers.length > 0) {
        sm.message(2, (m) => {
          m.string(1, 'otel_relay.breaker.state')
            .string(2, 'Circuit breaker state: 0 closed, 1 half-open (probing), 2 open (bypassed)')
            .string(3, '1');
          m.message(5, (g) => {
            for (const b of breakers) {
              points++;
              g.message(1, (dp) => {
                dp.fixed64(3, nowNs).fixed64(6, BigInt(BREAKER_STATE_VALUE[b.state]));
                keyValue(dp, 7, ['breaker', b.name]);
              });
            }
          });
        });
      }
      const histogram = (name: string, description: string, values: readonly number[]) => {
        if (values.length === 0) return;
        points++;
        const counts = new Array<bigint>(DURATION_BOUNDS.length + 1).fill(0n);
        let total = 0;
        let min = Number.POSITIVE_INFINITY;
        let max = 0;
        for (const v of values) {
          let i = DURATION_BOUNDS.findIndex((b) => v <= b);
          if (i < 0) i = DURATION_BOUNDS.length;
          counts[i]! += 1n;
          total += v;
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
        sm.message(2, (m) => {
          m.string(1, name).string(2, description).string(3, 'ms');
          m.message(9, (h) => {
            h.message(1, (dp) => {
              dp.fixed64(2, deltaStartNs)
                .fixed64(3, nowNs)
                .fixed64(4, BigInt(values.length))
                .double(5, total);
              dp.packedFixed64(6, counts).packedDouble(7, DURATION_BOUNDS).double(11, min).double(12, max);
            });
            // Delta: each emission covers the durations recorded since the previous one.
            h.uint(2, 1);
          });
        });
      };
      histogram('otel_relay.flush.duration', 'Duration of flushes', stats.flushDurationsMs);
      histogram(
        'otel_relay.postruntime.duration',
        'Time between the end of the function and next',
        stats.postRuntimeMs,
      );
    });
  });
  return { body: w.finish(), points };
}

function keyValue(w: ProtoWriter, field: number, [k, v]: Attr) {
  w.message(field, (kv) => kv.string(1, k).message(2, (av) => av.string(1, v)));
}
