import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCollector } from '../setup/peers.mjs';
import {
  flattenDataPoints,
  flattenLogRecords,
  flattenSpans,
  type LogsRequestJson,
  type MetricsRequestJson,
  type ReceivedDataPoint,
  type ReceivedLogRecord,
  type ReceivedSpan,
  type TracesRequestJson,
} from './otlp-json.js';
import { PeerProcess } from './peer-process.js';
import { freePort } from './ports.js';

/** What the collector has received: one OTLP/JSON object per export request, in arrival order. */
export interface Received {
  traces: TracesRequestJson[];
  metrics: MetricsRequestJson[];
  logs: LogsRequestJson[];
  /** Every span of every request, with its ids, resource and scope. */
  spans(): ReceivedSpan[];
  dataPoints(): ReceivedDataPoint[];
  logRecords(): ReceivedLogRecord[];
}

export interface CollectorPeer {
  /** OTLP/HTTP base URL, `http://127.0.0.1:P` (append /v1/traces, /v1/metrics, /v1/logs). */
  httpEndpoint: string;
  /** OTLP/gRPC endpoint, `http://127.0.0.1:Q`. */
  grpcEndpoint: string;
  received(): Promise<Received>;
  /** Polls received() until pred holds; rejects at the deadline saying what did arrive. */
  waitFor(pred: (r: Received) => boolean, timeoutMs: number): Promise<Received>;
  /**
   * Polls the collector's own output until pred holds (e.g. the debug exporter has printed a span, or
   * the awss3 receiver has logged `Finished reading telemetry`); rejects at the deadline.
   */
  waitForLogs(pred: (logs: string) => boolean, timeoutMs: number): Promise<string>;
  /** Graceful stop (SIGTERM, flushes the file exporter); also removes its temporary files. */
  stop(): Promise<void>;
  /** Sends a signal without waiting, to test how exporters cope with a collector that vanishes. */
  kill(signal?: NodeJS.Signals): void;
  /** Stops (if running) and starts again on the same ports; what was received so far is kept. */
  restart(): Promise<void>;
  logs(): string;
}

export interface CollectorOptions {
  /**
   * YAML merged over the generated configuration (the collector merges every --config it is given),
   * e.g. to change a receiver setting or add an exporter. Keys given here win.
   */
  extraConfig?: string;
  /** Verbosity of the debug exporter, whose output is in logs(): basic (default), normal or detailed. */
  debugVerbosity?: 'basic' | 'normal' | 'detailed';
  /** Also read telemetry from S3 with the awss3 receiver (time-range mode), into the same files. */
  awss3?: CollectorS3Source;
  /** Extra environment for the collector process (e.g. S3Peer.env for the awss3 receiver's credentials). */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

/**
 * Where the awss3 receiver looks. It lists, for every minute (by default) from startTime to
 * endTime, keys `<prefix>/year=YYYY/month=MM/day=DD/hour=HH/minute=mm/<filePrefix><signal>_*`, and
 * decodes `.json` (OTLP/JSON) and `.binpb` (OTLP protobuf), optionally `.gz`-compressed. It reads the
 * range once, at start.
 */
export interface CollectorS3Source {
  /** The S3 server, e.g. S3Peer.endpoint; addressed path-style. */
  endpoint: string;
  bucket: string;
  prefix: string;
  region?: string;
  /** RFC 3339, `YYYY-MM-DD HH:MM` or `YYYY-MM-DD`; partitions are formatted in UTC. */
  startTime: string;
  endTime: string;
  /** strftime format of the time partition; default `year=%Y/month=%m/day=%d/hour=%H/minute=%M`. */
  partitionFormat?: string;
  filePrefix?: string;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.setTimeout(1_000);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('timeout', () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', () => resolve(false));
  });
}

/** The file a run writes a signal to; the exporter truncates on start, so each run gets its own. */
const signalFile = (dir: string, signal: string, run: number): string => join(dir, `${signal}-${run}.jsonl`);

function awss3Config(src: CollectorS3Source): string {
  const q = (v: string): string => JSON.stringify(v);
  const lines = [
    '  awss3:',
    `    starttime: ${q(src.startTime)}`,
    `    endtime: ${q(src.endTime)}`,
    '    s3downloader:',
    `      region: ${q(src.region ?? 'us-east-1')}`,
    `      s3_bucket: ${q(src.bucket)}`,
    `      s3_prefix: ${q(src.prefix)}`,
    `      endpoint: ${q(src.endpoint)}`,
    '      s3_force_path_style: true',
    '      s3_partition_timezone: UTC',
  ];
  if (src.partitionFormat) lines.push(`      s3_partition_format: ${q(src.partitionFormat)}`);
  if (src.filePrefix) lines.push(`      file_prefix: ${q(src.filePrefix)}`);
  return `${lines.join('\n')}\n`;
}

function baseConfig(
  dir: string,
  run: number,
  httpPort: number,
  grpcPort: number,
  verbosity: string,
  s3: CollectorS3Source | undefined,
): string {
  const receivers = s3 ? '[otlp, awss3]' : '[otlp]';
  const file = (signal: string): string => `
  file/${signal}:
    path: ${JSON.stringify(signalFile(dir, signal, run))}
    format: json
    flush_interval: 10ms`;
  // No batch processor: each export request the collector receives becomes exactly one line, so
  // tests can count requests. The collector's own telemetry is off so that no fixed port (8888) is used.
  return `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${httpPort}
      grpc:
        endpoint: 127.0.0.1:${grpcPort}
${s3 ? awss3Config(s3) : ''}exporters:${file('traces')}${file('metrics')}${file('logs')}
  debug:
    verbosity: ${verbosity}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: ${receivers}
      exporters: [file/traces, debug]
    metrics:
      receivers: ${receivers}
      exporters: [file/metrics, debug]
    logs:
      receivers: ${receivers}
      exporters: [file/logs, debug]
`;
}

/**
 * Follows one JSON-lines file the file exporter appends to, parsing each line once: polling stays
 * cheap when a test has sent thousands of requests. Only complete lines count, since the exporter
 * may be halfway through writing the last one.
 */
class JsonLinesTail<T> {
  private offset = 0;
  private partial = Buffer.alloc(0);
  private readonly items: T[] = [];

  constructor(private readonly path: string) {}

  read(): readonly T[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.items;
      throw err;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return this.items;
      const chunk = Buffer.alloc(size - this.offset);
      const n = readSync(fd, chunk, 0, chunk.length, this.offset);
      this.offset += n;
      let data = Buffer.concat([this.partial, chunk.subarray(0, n)]);
      for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10)) {
        const line = data.subarray(0, nl).toString('utf8').trim();
        if (line !== '') this.items.push(JSON.parse(line) as T);
        data = data.subarray(nl + 1);
      }
      this.partial = Buffer.from(data);
      return this.items;
    } finally {
      closeSync(fd);
    }
  }
}

function summarize(r: Received): string {
  const spans = r.spans();
  const ids = spans
    .slice(0, 20)
    .map((s) => `${s.name}(${s.spanId})`)
    .join(', ');
  return (
    `${r.traces.length} trace requests (${spans.length} spans${ids ? `: ${ids}${spans.length > 20 ? ', …' : ''}` : ''}), ` +
    `${r.metrics.length} metric requests (${r.dataPoints().length} data points), ` +
    `${r.logs.length} log requests (${r.logRecords().length} records)`
  );
}

/**
 * Starts the real OpenTelemetry Collector (built on first use, see test/setup/peers.mjs) with the
 * OTLP receiver on free loopback ports, writing every request it receives to JSON-lines files.
 */
export async function startCollector(opts: CollectorOptions = {}): Promise<CollectorPeer> {
  const binary = await ensureCollector();
  const dir = mkdtempSync(join(tmpdir(), 'otelcol-'));
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  const configArgs = (): string[] => {
    const args = ['--config', join(dir, 'base.yaml')];
    if (opts.extraConfig) args.push('--config', join(dir, 'extra.yaml'));
    return args;
  };
  if (opts.extraConfig) writeFileSync(join(dir, 'extra.yaml'), opts.extraConfig);

  let httpPort = 0;
  let grpcPort = 0;
  let run = 0;
  let proc: PeerProcess | undefined;
  let previousLogs = '';

  const launch = async (): Promise<void> => {
    run++;
    writeFileSync(
      join(dir, 'base.yaml'),
      baseConfig(dir, run, httpPort, grpcPort, opts.debugVerbosity ?? 'basic', opts.awss3),
    );
    const p = new PeerProcess({
      name: 'otelcol',
      command: binary,
      args: configArgs(),
      env: { ...process.env, ...opts.env },
    });
    proc = p;
    try {
      await p.waitForOutput(/Everything is ready/, timeoutMs);
      // "ready" is logged once the servers are listening; the connect makes sure of it.
      for (const port of [httpPort, grpcPort]) {
        if (!(await canConnect(port)))
          throw p.failure(`logged ready but port ${port} does not accept connections`);
      }
    } catch (err) {
      await p.stop();
      throw err;
    }
  };

  // Ports are chosen before the collector binds them, so another test may grab one in between:
  // a start that fails with "address already in use" is retried on new ports, a few times.
  for (let attempt = 1; ; attempt++) {
    httpPort = await freePort();
    grpcPort = await freePort();
    // The OS may hand back the port it just released; ask again (bounded) for a distinct one.
    for (let i = 0; i < 10 && grpcPort === httpPort; i++) grpcPort = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      const clash = proc?.logs().includes('address already in use');
      if (!clash || attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      previousLogs += proc?.logs() ?? '';
    }
  }

  const tails = new Map<string, JsonLinesTail<unknown>>();
  const received = async (): Promise<Received> => {
    const all = <T>(signal: string): T[] => {
      let out: T[] = [];
      for (let i = 1; i <= run; i++) {
        const key = signalFile(dir, signal, i);
        let tail = tails.get(key);
        if (!tail) {
          tail = new JsonLinesTail<unknown>(key);
          tails.set(key, tail);
        }
        out = out.concat(tail.read() as T[]);
      }
      return out;
    };
    const traces = all<TracesRequestJson>('traces');
    const metrics = all<MetricsRequestJson>('metrics');
    const logs = all<LogsRequestJson>('logs');
    let spans: ReceivedSpan[] | undefined;
    let dataPoints: ReceivedDataPoint[] | undefined;
    let logRecords: ReceivedLogRecord[] | undefined;
    return {
      traces,
      metrics,
      logs,
      spans: () => (spans ??= flattenSpans(traces)),
      dataPoints: () => (dataPoints ??= flattenDataPoints(metrics)),
      logRecords: () => (logRecords ??= flattenLogRecords(logs)),
    };
  };
  const current = (): PeerProcess => {
    if (!proc) throw new Error('otelcol: not started');
    return proc;
  };

  return {
    httpEndpoint: `http://127.0.0.1:${httpPort}`,
    grpcEndpoint: `http://127.0.0.1:${grpcPort}`,
    received,
    async waitFor(pred, waitMs) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const r = await received();
        if (pred(r)) return r;
        if (Date.now() >= deadline) {
          throw current().failure(
            `did not receive what the test waited for within ${waitMs} ms; it has ${summarize(r)}`,
          );
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    async waitForLogs(pred, waitMs) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const text = previousLogs + current().logs();
        if (pred(text)) return text;
        if (Date.now() >= deadline)
          throw current().failure(`did not log what the test waited for within ${waitMs} ms`);
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    async stop() {
      await proc?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    kill(signal = 'SIGKILL') {
      proc?.kill(signal);
    },
    async restart() {
      if (proc) {
        await proc.stop();
        previousLogs += proc.logs();
      }
      await launch();
    },
    logs: () => previousLogs + (proc?.logs() ?? ''),
  };
}
