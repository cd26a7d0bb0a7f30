// The Telemetry API's platform side: every record the environment generates, the subscriptions made
// during init, per-subscriber batching (maxItems / maxBytes / timeoutMs) and delivery over HTTP or TCP,
// paused while the environment is frozen, with platform.logsDropped when a consumer falls behind.
import http from 'node:http';
import net from 'node:net';
import { type Clock, isoTime } from './clock.js';
import type { TelemetryRecord } from './types.js';

export type TelemetryCategory = 'platform' | 'function' | 'extension';
export type SchemaVersion = '2022-07-01' | '2022-12-13' | '2025-01-29';

export interface Buffering {
  maxItems: number;
  maxBytes: number;
  timeoutMs: number;
}

export type Destination =
  | { protocol: 'HTTP'; port: number; path: string }
  | { protocol: 'TCP'; port: number };

export interface Subscription {
  schemaVersion: SchemaVersion;
  types: TelemetryCategory[];
  buffering: Buffering;
  destination: Destination;
}

/** Limits from the Telemetry API reference (maxItems default as in the Telemetry API guide). */
export const BUFFERING_LIMITS = {
  timeoutMs: { default: 1_000, min: 25, max: 30_000 },
  maxBytes: { default: 262_144, min: 262_144, max: 1_048_576 },
  maxItems: { default: 10_000, min: 1_000, max: 10_000 },
} as const;

const SCHEMAS: readonly SchemaVersion[] = ['2022-07-01', '2022-12-13', '2025-01-29'];
const CATEGORIES: readonly TelemetryCategory[] = ['platform', 'function', 'extension'];
const SANDBOX_HOSTS = new Set(['sandbox.localdomain', 'sandbox']);
const RESERVED_PORT = 9001;
/** Lambda retries a failed delivery with backoff; after this many attempts the batch is dropped. */
const DELIVERY_ATTEMPTS = 5;
const DROP_REASON = 'Consumer seems to have fallen behind as it has not acknowledged receipt of logs.';

/** Parses a PUT /telemetry body; returns the subscription or the ValidationError message. */
export function parseSubscription(
  body: unknown,
  opts: { managedInstances: boolean },
): { subscription: Subscription } | { error: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { error: 'request body must be a JSON object' };
  }
  const b = body as Record<string, unknown>;
  const schema = b.schemaVersion;
  if (typeof schema !== 'string' || !SCHEMAS.includes(schema as SchemaVersion)) {
    return { error: `schemaVersion must be one of ${SCHEMAS.join(', ')} (got ${JSON.stringify(schema)})` };
  }
  if (opts.managedInstances && schema !== '2025-01-29') {
    return { error: `schemaVersion ${schema} is not supported on Lambda Managed Instances; use 2025-01-29` };
  }
  const types = b.types;
  if (
    !Array.isArray(types) ||
    types.length === 0 ||
    !types.every((t) => CATEGORIES.includes(t as TelemetryCategory))
  ) {
    return { error: `types must be a non-empty list of ${CATEGORIES.join(', ')}` };
  }
  const buffering: Buffering = {
    maxItems: BUFFERING_LIMITS.maxItems.default,
    maxBytes: BUFFERING_LIMITS.maxBytes.default,
    timeoutMs: BUFFERING_LIMITS.timeoutMs.default,
  };
  if (b.buffering !== undefined) {
    if (typeof b.buffering !== 'object' || b.buffering === null)
      return { error: 'buffering must be an object' };
    const given = b.buffering as Record<string, unknown>;
    for (const key of ['maxItems', 'maxBytes', 'timeoutMs'] as const) {
      const v = given[key];
      if (v === undefined) continue;
      const { min, max } = BUFFERING_LIMITS[key];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
        return {
          error: `buffering.${key} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`,
        };
      }
      buffering[key] = v;
    }
  }
  const destination = parseDestination(b.destination);
  if ('error' in destination) return destination;
  return {
    subscription: {
      schemaVersion: schema as SchemaVersion,
      types: [...new Set(types as TelemetryCategory[])],
      buffering,
      destination: destination.destination,
    },
  };
}

function parseDestination(d: unknown): { destination: Destination } | { error: string } {
  if (typeof d !== 'object' || d === null) return { error: 'destination is required' };
  const dest = d as Record<string, unknown>;
  const checkPort = (port: number): string | undefined => {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) return `destination port ${port} is not valid`;
    if (port === RESERVED_PORT) return `destination port ${RESERVED_PORT} is reserved by the Lambda platform`;
    return undefined;
  };
  if (dest.protocol === 'TCP') {
    let port = dest.port;
    if (port === undefined && typeof dest.URI === 'string') {
      try {
        port = Number(new URL(dest.URI).port);
      } catch {
        return { error: `destination.URI ${JSON.stringify(dest.URI)} is not a URL` };
      }
    }
    if (typeof port !== 'number') return { error: 'destination.port is required for TCP' };
    const bad = checkPort(port);
    return bad ? { error: bad } : { destination: { protocol: 'TCP', port } };
  }
  if (dest.protocol !== 'HTTP') return { error: 'destination.protocol must be HTTP or TCP' };
  if (typeof dest.URI !== 'string') return { error: 'destination.URI is required for HTTP' };
  let url: URL;
  try {
    url = new URL(dest.URI);
  } catch {
    return { error: `destination.URI ${JSON.stringify(dest.URI)} is not a URL` };
  }
  if (url.protocol === 'https:') return { error: 'HTTPS destinations are not supported; use http://' };
  if (url.protocol !== 'http:') return { error: `destination.URI must be http:// (got ${url.protocol})` };
  if (!SANDBOX_HOSTS.has(url.hostname)) {
    return {
      error: `destination host must be sandbox.localdomain (inside the environment), got ${url.hostname}`,
    };
  }
  if (!url.port) return { error: 'destination.URI must include a port' };
  const port = Number(url.port);
  const bad = checkPort(port);
  if (bad) return { error: bad };
  return { destination: { protocol: 'HTTP', port, path: `${url.pathname}${url.search}` } };
}

export function categoryOf(type: string): TelemetryCategory {
  if (type === 'function') return 'function';
  if (type === 'extension') return 'extension';
  return 'platform';
}

interface Queued {
  rec: TelemetryRecord;
  bytes: number;
}

class Subscriber {
  readonly queue: Queued[] = [];
  queueBytes = 0;
  inFlight = false;
  firstQueuedAt = 0;
  cancelTimer: (() => void) | undefined;
  droppedRecords = 0;
  droppedBytes = 0;
  closed = false;
  tcp: net.Socket | undefined;

  constructor(
    readonly name: string,
    readonly sub: Subscription,
  ) {}

  wants(type: string): boolean {
    return this.sub.types.includes(categoryOf(type));
  }

  serialize(rec: TelemetryRecord): TelemetryRecord {
    // JSON-format function logs are objects only for schema 2022-12-13 and later.
    if (
      this.sub.schemaVersion === '2022-07-01' &&
      typeof rec.record === 'object' &&
      categoryOf(rec.type) !== 'platform'
    ) {
      return { ...rec, record: JSON.stringify(rec.record) };
    }
    return rec;
  }
}

export interface TelemetryRelayOptions {
  clock: Clock;
  /** Called for every record generated (in order), e.g. to mirror it into the environment's log. */
  onRecord?: (rec: TelemetryRecord) => void;
  /** A delivery failed for good (for the emulator's own diagnostics). */
  onDeliveryError?: (subscriber: string, err: unknown) => void;
}

export class TelemetryRelay {
  readonly records: TelemetryRecord[] = [];
  /** Where sandbox.localdomain is from the emulator: loopback, or an isolated environment's address. */
  sandboxHost = '127.0.0.1';
  private readonly subscribers = new Map<string, Subscriber>();
  private agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private paused = false;
  private initMark = 0;

  constructor(private readonly opts: TelemetryRelayOptions) {}

  /** Records from here on are replayed to extensions that subscribe later in this init. */
  markInitStart(): void {
    this.initMark = this.records.length;
  }

  emit(type: string, record: unknown, timeMs = this.opts.clock.now()): TelemetryRecord {
    const rec: TelemetryRecord = { time: isoTime(timeMs), type, record };
    this.records.push(rec);
    this.opts.onRecord?.(rec);
    for (const s of this.subscribers.values()) if (s.wants(type)) this.enqueue(s, rec);
    return rec;
  }

  /** Adds (or replaces: the emulator accepts a repeated subscribe) a subscription. */
  subscribe(name: string, sub: Subscription): void {
    this.unsubscribe(name);
    const s = new Subscriber(name, sub);
    this.subscribers.set(name, s);
    // Lambda buffers what it generated earlier in this init (initStart, earlier logs) for late subscribers.
    for (const rec of this.records.slice(this.initMark)) if (s.wants(rec.type)) this.enqueue(s, rec);
  }

  unsubscribe(name: string): void {
    const s = this.subscribers.get(name);
    if (!s) return;
    s.closed = true;
    s.cancelTimer?.();
    s.tcp?.destroy();
    this.subscribers.delete(name);
  }

  unsubscribeAll(): void {
    for (const name of [...this.subscribers.keys()]) this.unsubscribe(name);
  }

  subscriptions(): { name: string; subscription: Subscription }[] {
    return [...this.subscribers.values()].map((s) => ({ name: s.name, subscription: s.sub }));
  }

  /** Nothing is delivered while the environment is frozen. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    for (const s of this.subscribers.values()) this.schedule(s);
  }

  /**
   * Drops every pooled connection to the subscribers (SnapStart restore: the platform side is new);
   * the next batch opens a fresh one.
   */
  resetConnections(): void {
    this.agent.destroy();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (const s of this.subscribers.values()) {
      s.tcp?.destroy();
      s.tcp = undefined;
    }
  }

  /** Sends every buffered record now, ignoring timeoutMs (before SHUTDOWN). */
  flushAll(): void {
    for (const s of this.subscribers.values()) this.send(s);
  }

  /** True when no subscriber has anything buffered or in flight. */
  idle(): boolean {
    for (const s of this.subscribers.values()) if (s.inFlight || s.queue.length) return false;
    return true;
  }

  close(): void {
    this.unsubscribeAll();
    this.agent.destroy();
  }

  private enqueue(s: Subscriber, rec: TelemetryRecord): void {
    const out = s.serialize(rec);
    const bytes = Buffer.byteLength(JSON.stringify(out));
    const { maxItems, maxBytes } = s.sub.buffering;
    // A consumer that has not acknowledged the last batch while the next one is already full is
    // behind: its log records are dropped and counted (platform events are always kept).
    if (
      categoryOf(rec.type) !== 'platform' &&
      s.inFlight &&
      (s.queue.length >= maxItems || s.queueBytes + bytes > maxBytes)
    ) {
      s.droppedRecords++;
      s.droppedBytes += typeof rec.record === 'string' ? Buffer.byteLength(rec.record) : bytes;
      return;
    }
    if (s.queue.length === 0) s.firstQueuedAt = this.opts.clock.now();
    s.queue.push({ rec: out, bytes });
    s.queueBytes += bytes;
    this.schedule(s);
  }

  private schedule(s: Subscriber): void {
    if (s.closed || this.paused || s.inFlight || s.queue.length === 0) return;
    const { maxItems, maxBytes, timeoutMs } = s.sub.buffering;
    const due = s.firstQueuedAt + timeoutMs - this.opts.clock.now();
    if (s.queue.length >= maxItems || s.queueBytes >= maxBytes || due <= 0) {
      this.send(s);
      return;
    }
    if (!s.cancelTimer) {
      s.cancelTimer = this.opts.clock.setTimeout(() => {
        s.cancelTimer = undefined;
        this.schedule(s);
      }, due);
    }
  }

  private send(s: Subscriber): void {
    if (s.closed || this.paused || s.inFlight || s.queue.length === 0) return;
    s.cancelTimer?.();
    s.cancelTimer = undefined;
    const { maxItems, maxBytes } = s.sub.buffering;
    const batch: TelemetryRecord[] = [];
    let bytes = 0;
    while (s.queue.length && batch.length < maxItems) {
      const head = s.queue[0] as Queued;
      if (batch.length > 0 && bytes + head.bytes > maxBytes) break;
      s.queue.shift();
      s.queueBytes -= head.bytes;
      bytes += head.bytes;
      batch.push(head.rec);
    }
    if (s.queue.length) s.firstQueuedAt = this.opts.clock.now();
    s.inFlight = true;
    void this.deliverWithRetry(s, batch).then((ok) => {
      s.inFlight = false;
      if (s.closed) return;
      if (!ok) {
        for (const r of batch) {
          s.droppedRecords++;
          s.droppedBytes += typeof r.record === 'string' ? Buffer.byteLength(r.record) : 0;
        }
      }
      if (s.droppedRecords > 0 && s.wants('platform.logsDropped')) {
        const record = {
          reason: DROP_REASON,
          droppedRecords: s.droppedRecords,
          droppedBytes: s.droppedBytes,
        };
        s.droppedRecords = 0;
        s.droppedBytes = 0;
        const rec: TelemetryRecord = {
          time: isoTime(this.opts.clock.now()),
          type: 'platform.logsDropped',
          record,
        };
        this.records.push(rec);
        this.opts.onRecord?.(rec);
        if (s.queue.length === 0) s.firstQueuedAt = this.opts.clock.now();
        const out = s.serialize(rec);
        const b = Buffer.byteLength(JSON.stringify(out));
        s.queue.push({ rec: out, bytes: b });
        s.queueBytes += b;
      }
      this.schedule(s);
    });
  }

  private async deliverWithRetry(s: Subscriber, batch: TelemetryRecord[]): Promise<boolean> {
    let delay = 100;
    for (let attempt = 1; attempt <= DELIVERY_ATTEMPTS; attempt++) {
      if (s.closed) return false;
      try {
        await this.deliver(s, batch);
        return true;
      } catch (err) {
        if (attempt === DELIVERY_ATTEMPTS) {
          this.opts.onDeliveryError?.(s.name, err);
          return false;
        }
        await new Promise<void>((r) => this.opts.clock.setTimeout(r, delay));
        delay *= 2;
        // A retry never goes out while the environment is frozen.
        while (this.paused && !s.closed) await new Promise<void>((r) => this.opts.clock.setTimeout(r, 50));
      }
    }
    return false;
  }

  private deliver(s: Subscriber, batch: TelemetryRecord[]): Promise<void> {
    const dest = s.sub.destination;
    if (dest.protocol === 'TCP') return this.deliverTcp(s, dest.port, batch);
    const body = JSON.stringify(batch);
    return new Promise<void>((resolveDone, reject) => {
      const req = http.request(
        {
          host: this.sandboxHost,
          port: dest.port,
          path: dest.path || '/',
          method: 'POST',
          agent: this.agent,
          headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolveDone();
            else reject(new Error(`subscriber ${s.name} answered HTTP ${code}`));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  private deliverTcp(s: Subscriber, port: number, batch: TelemetryRecord[]): Promise<void> {
    const lines = batch.map((r) => `${JSON.stringify(r)}\n`).join('');
    return new Promise<void>((resolveDone, reject) => {
      const write = (sock: net.Socket): void => {
        sock.write(lines, (err) => (err ? reject(err) : resolveDone()));
      };
      if (s.tcp && !s.tcp.destroyed) {
        write(s.tcp);
        return;
      }
      const sock = net.connect({ host: this.sandboxHost, port });
      sock.on('error', (err) => {
        sock.destroy();
        if (s.tcp === sock) s.tcp = undefined;
        reject(err);
      });
      sock.on('connect', () => {
        s.tcp = sock;
        write(sock);
      });
    });
  }
}
