// Layer-only mode: telemetry made from the Telemetry API alone, for functions with no
// OpenTelemetry SDK: a SERVER span per invocation, an init span on a cold start, FaaS metrics from
// platform.report, and the function's log lines as OTLP log records. Encoded by hand (no protobufjs)
// and put into the same buffer as everything else.
import type { Signal } from '../../otlp/index.js';
import type { TelemetryEvent } from '../lifecycle/telemetry-api.js';
import { randomBytes } from '../random.js';
import { ProtoWriter } from '../telemetry/index.js';

export interface PlatformResource {
  functionName?: string;
  functionVersion?: string;
  region?: string;
  memoryMb?: string;
}

export type PlatformSink = (signal: Signal, body: Uint8Array, items: number) => void;

interface OpenInvocation {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId?: Uint8Array;
  startNs: bigint;
  coldStart: boolean;
}

type Attr = [string, string | number | boolean];
/** One FaaS metric data point made from a platform event. */
interface PlatformPoint {
  name: string;
  unit: string;
  kind: 'sum' | 'histogram';
  value: number;
  timeNs: bigint;
  attrs: Attr[];
}
type Rec = Record<string, unknown>;

const SPAN_KIND_SERVER = 2;
const STATUS_ERROR = 2;
/** Invocations whose platform.start was seen but not yet their runtimeDone (bounded: events can be lost). */
const MAX_OPEN = 256;

const SEVERITY: Record<string, number> = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21 };

export class PlatformTelemetry {
  private readonly open = new Map<string, OpenInvocation>();
  private initStartNs: bigint | undefined;
  private initTrace: { traceId: Uint8Array; spanId: Uint8Array } | undefined;
  private coldStartPending = false;
  /** Invocations started whose platform.report has not come yet (it comes during the next one, or at SHUTDOWN). */
  private readonly awaitingReport = new Set<string>();
  private onReported: (() => void) | undefined;

  constructor(
    private readonly resource: PlatformResource,
    private readonly sink: PlatformSink,
    private readonly logs: boolean,
  ) {}

  /** Types to subscribe to. */
  get types(): string[] {
    return this.logs ? ['platform', 'function'] : ['platform'];
  }

  /** Converts one Telemetry API delivery; emits at most one request per signal. */
  handle(events: readonly TelemetryEvent[]): void {
    const spans: ProtoWriter[] = [];
    const points: PlatformPoint[] = [];
    const logRecords: ProtoWriter[] = [];
    for (const e of events) {
      const rec = (e.record ?? {}) as Rec;
      const timeNs = isoToNs(e.time);
      switch (e.type) {
        case 'platform.initStart':
          this.initStartNs = timeNs;
          this.coldStartPending = true;
          break;
        case 'platform.initReport': {
          const start = this.initStartNs ?? timeNs;
          const durMs = Number((rec.metrics as Rec | undefined)?.durationMs ?? 0);
          this.initTrace = { traceId: randomBytes(16), spanId: randomBytes(8) };
          spans.push(
            span({
              ...this.initTrace,
              name: `${this.resource.functionName ?? 'function'} init`,
              kind: 1,
              startNs: start,
              endNs: start + msToNs(durMs),
              attrs: [
                ['faas.coldstart', true],
                ['aws.lambda.initialization_type', String(rec.initializationType ?? 'on-demand')],
                ['aws.lambda.init.phase', String(rec.phase ?? 'init')],
              ],
              error:
                rec.status !== undefined && rec.status !== 'success'
                  ? String(rec.errorType ?? rec.status)
                  : undefined,
            }),
          );
          break;
        }
        case 'platform.start': {
          const requestId = String(rec.requestId ?? '');
          if (!requestId) break;
          const xray = parseXRay((rec.tracing as Rec | undefined)?.value);
          this.open.set(requestId, {
            traceId: xray?.traceId ?? randomBytes(16),
            spanId: randomBytes(8),
            parentSpanId: xray?.parentId,
            startNs: timeNs,
            coldStart: this.coldStartPending,
          });
          this.coldStartPending = false;
          this.awaitingReport.add(requestId);
          if (this.awaitingReport.size > MAX_OPEN)
            this.awaitingReport.delete(this.awaitingReport.values().next().value as string);
          if (this.open.size > MAX_OPEN) this.open.delete(this.open.keys().next().value as string);
          break;
        }
        case 'platform.runtimeDone':
        case 'platform.report': {
          const requestId = String(rec.requestId ?? '');
          const inv = this.open.get(requestId);
          const metrics = (rec.metrics ?? {}) as Rec;
          // runtimeDone ends the span; platform.report does when there is no runtimeDone (Managed Instances).
          if (inv) {
            this.open.delete(requestId);
            const durMs = Number(metrics.durationMs ?? 0);
            spans.push(
              span({
                traceId: inv.traceId,
                spanId: inv.spanId,
                parentSpanId: inv.parentSpanId,
                name: this.resource.functionName ?? 'function',
                kind: SPAN_KIND_SERVER,
                startNs: inv.startNs,
                endNs: durMs > 0 ? inv.startNs + msToNs(durMs) : timeNs,
                attrs: [
                  ['faas.invocation_id', requestId],
                  ['faas.coldstart', inv.coldStart],
                  ['faas.trigger', 'other'],
                ],
                error: rec.status !== 'success' ? String(rec.errorType ?? rec.status ?? 'error') : undefined,
              }),
            );
          }
          if (e.type === 'platform.report') {
            this.awaitingReport.delete(requestId);
            const status = String(rec.status ?? 'success');
            const add = (name: string, unit: string, kind: 'sum' | 'histogram', value: unknown) => {
              const v = Number(value);
              if (value !== undefined && Number.isFinite(v))
                points.push({ name, unit, kind, value: v, timeNs, attrs: [] });
            };
            add('faas.invocations', '{invocation}', 'sum', 1);
            if (status === 'error' || status === 'failure') add('faas.errors', '{error}', 'sum', 1);
            if (status === 'timeout') add('faas.timeouts', '{timeout}', 'sum', 1);
            if (metrics.initDurationMs !== undefined) {
              add('faas.coldstarts', '{coldstart}', 'sum', 1);
              add('faas.init_duration', 's', 'histogram', Number(metrics.initDurationMs) / 1000);
            }
            add(
              'faas.invoke_duration',
              's',
              'histogram',
              metrics.durationMs === undefined ? undefined : Number(metrics.durationMs) / 1000,
            );
            add('aws.lambda.billed_duration', 'ms', 'histogram', metrics.billedDurationMs);
            add(
              'faas.mem_usage',
              'By',
              'histogram',
              metrics.maxMemoryUsedMB === undefined
                ? undefined
                : Number(metrics.maxMemoryUsedMB) * 1024 * 1024,
            );
          }
          break;
        }
        case 'function':
          logRecords.push(this.logRecord(e.record, timeNs));
          break;
      }
    }
    if (spans.length > 0)
      this.sink(
        'traces',
        this.wrap(2, (scope) => {
          for (const sp of spans) scope.bytes(2, sp.finish());
        }),
        spans.length,
      );
    if (points.length > 0) this.sink('metrics', this.metricsRequest(points), points.length);
    if (logRecords.length > 0) {
      this.sink(
        'logs',
        this.wrap(2, (scope) => {
          for (const l of logRecords) scope.bytes(2, l.finish());
        }),
        logRecords.length,
      );
    }
    this.onReported?.();
  }

  /**
   * At SHUTDOWN: waits (at most `maxMs`) for the platform.report of invocations that have none yet,
   * so the last invocation's metrics are not lost. Resolves at once when nothing is outstanding.
   */
  whenReported(maxMs: number): Promise<void> {
    if (this.awaitingReport.size === 0 || maxMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, maxMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.onReported = () => {
        if (this.awaitingReport.size === 0) {
          this.onReported = undefined;
          done();
        }
      };
    });
  }

  private logRecord(record: unknown, timeNs: bigint): ProtoWriter {
    let message = '';
    let level: string | undefined;
    let requestId: string | undefined;
    if (typeof record === 'string') {
      // Node.js runtime format: ISO time \t requestId \t LEVEL \t message.
      const parts = record.split('\t');
      if (parts.length >= 4 && /^[0-9a-f-]{36}$/i.test(parts[1]!)) {
        requestId = parts[1];
        level = parts[2]?.toUpperCase();
        message = parts.slice(3).join('\t');
      } else message = record;
    } else if (record && typeof record === 'object') {
      const r = record as Rec;
      message = typeof r.message === 'string' ? r.message : JSON.stringify(r.message ?? r);
      level = typeof r.level === 'string' ? r.level.toUpperCase() : undefined;
      requestId = typeof r.requestId === 'string' ? r.requestId : undefined;
    }
    const w = new ProtoWriter().fixed64(1, timeNs);
    const severity = level ? SEVERITY[level === 'WARNING' ? 'WARN' : level] : undefined;
    if (severity) w.uint(2, severity);
    if (level) w.string(3, level);
    w.message(5, (v) => v.string(1, message.replace(/\n$/, '')));
    if (requestId) keyValue(w, 6, ['faas.invocation_id', requestId]);
    const inv = requestId ? this.open.get(requestId) : undefined;
    if (inv) w.bytes(9, inv.traceId).bytes(10, inv.spanId);
    return w.fixed64(11, timeNs);
  }

  /** Export<Signal>ServiceRequest { resource_x { resource, scope_x { scope, <items> } } }. */
  private wrap(scopeField: number, fill: (scope: ProtoWriter) => void): Uint8Array {
    return new ProtoWriter()
      .message(1, (r) => {
        r.message(1, (res) => {
          for (const a of this.resourceAttrs()) keyValue(res, 1, a);
        });
        r.message(scopeField, (s) => {
          s.message(1, (sc) => sc.string(1, 'lambda-otel-relay/platform'));
          fill(s);
        });
      })
      .finish();
  }

  private metricsRequest(points: PlatformPoint[]): Uint8Array {
    return this.wrap(2, (scope) => {
      for (const p of points) {
        scope.message(2, (m) => {
          m.string(1, p.name).string(3, p.unit);
          if (p.kind === 'sum') {
            // Delta: each report adds its own increment.
            m.message(7, (s) => {
              s.message(1, (dp) => dp.fixed64(2, p.timeNs).fixed64(3, p.timeNs).double(4, p.value));
              s.uint(2, 1).bool(3, true);
            });
          } else {
            m.message(9, (h) => {
              h.message(1, (dp) => {
                dp.fixed64(2, p.timeNs).fixed64(3, p.timeNs).fixed64(4, 1n).double(5, p.value);
                dp.packedFixed64(6, [1n]).double(11, p.value).double(12, p.value);
              });
              h.uint(2, 1);
            });
          }
        });
      }
    });
  }

  private resourceAttrs(): Attr[] {
    const r = this.resource;
    const attrs: Attr[] = [
      ['service.name', r.functionName ?? 'unknown_service'],
      ['cloud.provider', 'aws'],
      ['cloud.platform', 'aws_lambda'],
    ];
    if (r.functionName) attrs.push(['faas.name', r.functionName]);
    if (r.functionVersion) attrs.push(['faas.version', r.functionVersion]);
    if (r.region) attrs.push(['cloud.region', r.region]);
    if (r.memoryMb && Number.isFinite(Number(r.memoryMb)))
      attrs.push(['faas.max_memory', Number(r.memoryMb) * 1024 * 1024]);
    return attrs;
  }
}

function span(s: {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId?: Uint8Array;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attrs: Attr[];
  error?: string;
}): ProtoWriter {
  // A span never ends before it starts (clock skew between platform records); bigint, so no Math.max.
  let endNs = s.endNs;
  if (endNs < s.startNs) endNs = s.startNs;
  const w = new ProtoWriter().bytes(1, s.traceId).bytes(2, s.spanId);
  if (s.parentSpanId) w.bytes(4, s.parentSpanId);
  w.string(5, s.name).uint(6, s.kind).fixed64(7, s.startNs).fixed64(8, endNs);
  for (const a of s.attrs) keyValue(w, 9, a);
  if (s.error) w.message(15, (st) => st.string(2, s.error!).uint(3, STATUS_ERROR));
  return w;
}

function keyValue(w: ProtoWriter, field: number, [k, v]: Attr): void {
  w.message(field, (kv) =>
    kv.string(1, k).message(2, (av) => {
      if (typeof v === 'string') av.string(1, v);
      else if (typeof v === 'boolean') av.bool(2, v);
      else if (Number.isInteger(v)) av.uint(3, BigInt(v));
      else av.double(4, v);
    }),
  );
}

/** X-Ray `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1` → OTel ids. */
export function parseXRay(value: unknown): { traceId: Uint8Array; parentId?: Uint8Array } | undefined {
  if (typeof value !== 'string') return undefined;
  const root = /Root=1-([0-9a-f]{8})-([0-9a-f]{24})/i.exec(value);
  if (!root) return undefined;
  const parent = /Parent=([0-9a-f]{16})/i.exec(value);
  return {
    traceId: Buffer.from(root[1]! + root[2]!, 'hex'),
    ...(parent ? { parentId: Buffer.from(parent[1]!, 'hex') } : {}),
  };
}

function isoToNs(iso: string): bigint {
  const ms = Date.parse(iso);
  return BigInt(Number.isNaN(ms) ? Date.now() : ms) * 1_000_000n;
}

function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms * 1000)) * 1000n;
}
