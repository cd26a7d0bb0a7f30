// The relay itself, once registered: receivers → buffer → flush policy → delivery, driven by the
// lifecycle events. Loaded after `register` so nothing here costs the function's cold start more
// than it must.
import { isIP } from 'node:net';
import { type Signal, validateExportRequest } from '../../otlp/index.js';
import { TelemetryBuffer } from '../buffer/index.js';
import {
  type Clock,
  createOtlpExporter,
  createSecretHeadersExporter,
  type Delivery,
  type DeliveryFactory,
  type Logger,
  SecretHeaders,
  type SignalExporter,
  secretsManagerFetch,
  withHeaders,
} from '../export/index.js';
import {
  ArrivalPredictor,
  createBudget,
  decideAtInvocationEnd,
  deferWithoutWaiting,
  exportAtInvokeStart,
  Flusher,
  invokeFlushDeadline,
} from '../flush/index.js';
import { itemsText } from '../log.js';
import { buildDelivery } from '../pipeline/index.js';
import { PlatformTelemetry } from '../platform/index.js';
import {
  InflightBodies,
  Ingest,
  type Receiver,
  startGrpcReceiver,
  startHttpReceiver,
} from '../receive/index.js';
import { loadConfig } from '../settings/load.js';
import { formatFlushStrategy } from '../settings/relay.js';
import type { RelayConfig } from '../settings/types.js';
import { breakerReadings, encodeSelfMetrics, RelayStats } from '../telemetry/index.js';
import type { InvokeEvent, ShutdownEvent } from './extensions-api.js';
import { isLoopbackHost, type LookupAll, resolvesToLoopback } from './loopback.js';
import { flushBeforeSnapshot, InitRuntimeDoneWatch, type SnapshotFlushOutcome } from './snap-start.js';
import {
  startTelemetryListener,
  subscribeTelemetry,
  type TelemetryEvent,
  type TelemetryListener,
} from './telemetry-api.js';

export const RELAY_VERSION = '0.1.0';
const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];
/** Remembered request ids whose end was signalled before (or without) their INVOKE being handled. */
const MAX_REMEMBERED_IDS = 256;
/** A freeze longer than this likely outlived the collector's idle timeout for kept-alive sockets. */
const STALE_CONNECTION_GAP_MS = 4_000;
const SELF_TELEMETRY_INTERVAL_MS = 60_000;
/** How long startup waits for an exporter hostname to resolve before taking it as not this machine. */
const LOOP_LOOKUP_TIMEOUT_MS = 250;

export interface CoreOptions {
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  log: Logger & { setLevel?(level: RelayConfig['logLevel']): void };
  extensionId: string;
  runtimeApi: string | undefined;
  managedInstances: boolean;
  functionName?: string;
  functionVersion?: string;
  createDelivery?: DeliveryFactory;
  createExporter?: (config: RelayConfig, clock: Clock) => SignalExporter;
  /** Resolves exporter hostnames for the self-loop check (default: dns.lookup, every address). */
  lookup?: LookupAll;
}

type EndSignal = 'done' | 'runtimeDone' | 'deadline' | 'no-signal';

export class RelayCore {
  private readonly predictor = new ArrivalPredictor();
  private readonly endedIds = new Map<string, EndSignal>();
  private readonly waiters = new Map<string, (how: EndSignal) => void>();
  private readonly initRuntimeDone = new InitRuntimeDoneWatch();
  private receivers: Receiver[] = [];
  private telemetry: TelemetryListener | undefined;
  private backgroundTimer: NodeJS.Timeout | undefined;
  private current: InvokeEvent | undefined;
  private lastNextWall = 0;
  private lastNextMono = 0;
  private readonly startNs: bigint;
  private lastSelfEmitAt: number;
  private lastSelfEmitNs: bigint;
  private continuousScheduled = false;
  private platform: PlatformTelemetry | undefined;
  /** Set when the exporter endpoint is this relay's own receiver: then nothing is received or exported. */
  private loop: string | undefined;
  /** Ports actually bound (0 in config means ephemeral). */
  httpPort: number | undefined;
  grpcPort: number | undefined;

  private constructor(
    readonly config: RelayConfig,
    private readonly opts: CoreOptions,
    readonly stats: RelayStats,
    readonly buffer: TelemetryBuffer,
    private readonly ingest: Ingest,
    private readonly exporter: SignalExporter,
    private readonly flusher: Flusher,
    readonly delivery: Delivery,
    private readonly secretHeaders: SecretHeaders | undefined,
  ) {
    const now = opts.clock.now();
    this.lastSelfEmitAt = now;
    this.startNs = BigInt(now) * 1_000_000n;
    this.lastSelfEmitNs = this.startNs;
  }

  static async start(opts: CoreOptions): Promise<RelayCore> {
    const { clock, log } = opts;
    const { config, problems } = loadConfig(opts.env);
    opts.log.setLevel?.(config.logLevel);
    for (const p of problems) log.warn(p);
    const stats = new RelayStats();
    stats.configProblems = problems.length;
    const buffer = new TelemetryBuffer(config.bufferMaxBytes, config.batchMaxBytes, clock);
    const makeExporter = opts.createExporter ?? ((c, k) => createOtlpExporter(c.exporters, k));
    const configProblem = () => {
      stats.configProblems++;
    };
    let secretHeaders: SecretHeaders | undefined;
    let exporter: SignalExporter;
    if (config.headersSecretArn) {
      const secretId = config.headersSecretArn;
      const source = new SecretHeaders({
        secretId,
        fetch: secretsManagerFetch(secretId, opts.env, clock),
        clock,
        log,
        onConfigProblem: configProblem,
      });
      secretHeaders = source;
      exporter = createSecretHeadersExporter(source, (headers) =>
        makeExporter({ ...config, exporters: withHeaders(config.exporters, headers) }, clock),
      );
    } else exporter = makeExporter(config, clock);
    const delivery = await buildDelivery({
      config,
      exporter,
      env: opts.env,
      clock,
      log,
      stats,
      createDelivery: opts.createDelivery,
      onConfigProblem: configProblem,
    });
    const flusher = new Flusher(buffer, delivery, stats, clock, log);
    const core = new RelayCore(
      config,
      opts,
      stats,
      buffer,
      new Ingest(buffer, stats, log),
      exporter,
      flusher,
      delivery,
      secretHeaders,
    );
    // An endpoint that loops back to our own receiver: nothing the relay made could reach a collector
    // (every export would fail and be spooled to /tmp on every run), so it makes and sends nothing.
    core.loop = RelayCore.exportLoop(config, opts.env, isLoopbackHost);
    // Independent, so concurrent: the sandbox.localdomain lookup should not wait for the receivers.
    await Promise.all([
      (async () => {
        // A hostname that resolves to this machine loops as surely as one spelled so. Only names
        // are looked up (an IP literal was decided above), once, after `register`, with a deadline.
        core.loop ??= await RelayCore.resolvedExportLoop(config, opts.env, opts.lookup);
        if (config.platformTelemetry && !core.loop) core.startPlatformTelemetry();
        await core.startReceivers();
      })(),
      core.startTelemetry(),
    ]);
    if (opts.managedInstances) core.startBackgroundFlushing();
    if (config.flush.kind === 'continuous') buffer.onAdd(() => core.scheduleContinuous());
    // The secret is read once `next` has been called (the event loop turns while it waits), so the
    // read is never on the init path; the first export waits for it within its budget.
    if (secretHeaders) setImmediate(() => secretHeaders.prefetch());
    log.info('otel-relay ready', {
      flush: formatFlushStrategy(config.flush),
      http: core.httpPort ?? 'off',
      grpc: core.grpcPort ?? 'off',
      // Without userinfo or query: either may hold a credential.
      endpoints: Object.fromEntries(
        SIGNALS.map((s) => {
          const u = config.exporters[s].url;
          return [s, `${config.exporters[s].protocol} ${u.protocol}//${u.host}${u.pathname}`];
        }),
      ),
      managedInstances: opts.managedInstances,
      node: process.version,
    });
    return core;
  }

  // ---- receivers and end-of-invocation signals -------------------------------------------------

  private async startReceivers(): Promise<void> {
    const { config, log } = { config: this.config, log: this.opts.log };
    if (this.loop) {
      log.error(
        `config: ${this.loop} points at this relay's own receiver; set it to your collector. The relay is off: no telemetry is accepted, produced or exported`,
      );
      return;
    }
    const open = async (
      label: 'OTLP/HTTP' | 'OTLP/gRPC',
      port: number | null,
      start: (port: number) => Promise<Receiver>,
    ): Promise<number | undefined> => {
      if (port === null) return undefined;
      try {
        const r = await start(port);
        this.receivers.push(r);
        return r.port;
      } catch (err) {
        log.error(
          `${label} receiver could not listen on 127.0.0.1:${port} (another collector layer?); it is off, the function's ${label} exports to that port will fail`,
          { error: err },
        );
        return undefined;
      }
    };
    // One cap on partly-read bodies across both receivers: the buffer's size (at least one request).
    const inflight = new InflightBodies(Math.max(config.bufferMaxBytes, config.maxRequestBytes));
    const common = {
      maxRequestBytes: config.maxRequestBytes,
      ingest: this.ingest,
      log,
      inflight,
      clock: this.opts.clock,
    };
    [this.httpPort, this.grpcPort] = await Promise.all([
      open('OTLP/HTTP', config.httpPort, (port) =>
        startHttpReceiver({ ...common, port, onInvocationDone: (id) => this.invocationEnded(id, 'done') }),
      ),
      open('OTLP/gRPC', config.grpcPort, (port) => startGrpcReceiver({ ...common, port })),
    ]);
  }

  /** `exportLoop` with every exporter hostname resolved (bounded by `LOOP_LOOKUP_TIMEOUT_MS`). */
  private static async resolvedExportLoop(
    config: RelayConfig,
    env: CoreOptions['env'],
    lookup: LookupAll | undefined,
  ): Promise<string | undefined> {
    const hosts = [...new Set(SIGNALS.map((s) => config.exporters[s].url.hostname))].filter(
      (h) => !isIP(h.replace(/^\[|\]$/g, '')),
    );
    if (hosts.length === 0) return undefined;
    const local = new Set<string>();
    await Promise.all(
      hosts.map(async (h) => {
        if (await resolvesToLoopback(h, LOOP_LOOKUP_TIMEOUT_MS, lookup)) local.add(h);
      }),
    );
    return RelayCore.exportLoop(config, env, (h) => local.has(h));
  }

  /** The name of an exporter variable that points back at our own receivers, if any. */
  private static exportLoop(
    config: RelayConfig,
    env: CoreOptions['env'],
    isSelf: (hostname: string) => boolean,
  ): string | undefined {
    const own = new Set([config.httpPort, config.grpcPort].filter((p): p is number => !!p));
    for (const s of SIGNALS) {
      const u = config.exporters[s].url;
      const local = isSelf(u.hostname);
      const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
      if (!local || !own.has(port)) continue;
      const set = ['', `${s.toUpperCase()}_`].some((x) => env[`OTEL_EXPORTER_OTLP_${x}ENDPOINT`]);
      return set
        ? `OTEL_EXPORTER_OTLP_ENDPOINT (${s}: ${u.host})`
        : `OTEL_EXPORTER_OTLP_ENDPOINT is not set, and its default (${u.host})`;
    }
    return undefined;
  }

  private async startTelemetry(): Promise<void> {
    if (!this.opts.runtimeApi) return;
    try {
      this.telemetry = await startTelemetryListener(
        this.config.telemetryPort,
        (events) => this.onTelemetry(events),
        this.opts.log,
      );
      await subscribeTelemetry(
        this.opts.runtimeApi,
        this.opts.extensionId,
        this.telemetry.uri,
        this.opts.managedInstances ? '2025-01-29' : '2022-12-13',
        this.platform?.types ?? ['platform'],
      );
    } catch (err) {
      this.opts.log.warn(
        'Telemetry API subscription failed; the end of an invocation is known only from the middleware "done" signal',
        { error: err },
      );
      await this.telemetry?.close();
      this.telemetry = undefined;
    }
  }

  /** Layer-only mode: what the platform reports becomes spans, metrics and logs in the buffer. */
  private startPlatformTelemetry(): void {
    this.platform = new PlatformTelemetry(
      {
        functionName: this.opts.functionName,
        functionVersion: this.opts.functionVersion,
        region: this.opts.env.AWS_REGION,
        memoryMb: this.opts.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      },
      (signal, body, items) => {
        try {
          // Our own encoding, still walked: nothing unvalidated ever reaches a batch.
          validateExportRequest(signal, body);
        } catch (err) {
          this.opts.log.error('platform telemetry encoded an invalid request; dropped', {
            signal,
            error: err,
          });
          this.stats.drop('invalid_platform_telemetry', signal, items);
          return;
        }
        this.admitOwn(signal, body, items);
      },
      this.config.platformLogs,
    );
  }

  private onTelemetry(events: TelemetryEvent[]): void {
    if (this.platform) {
      try {
        this.platform.handle(events);
      } catch (err) {
        this.opts.log.warn('platform telemetry could not convert a Telemetry API batch; skipped', {
          error: err,
        });
      }
    }
    this.initRuntimeDone.observe(events);
    for (const e of events) {
      if (e?.type !== 'platform.runtimeDone') continue;
      const id = (e.record as { requestId?: unknown } | null)?.requestId;
      if (typeof id === 'string') this.invocationEnded(id, 'runtimeDone');
    }
  }

  private invocationEnded(requestId: string, how: EndSignal): void {
    const waiter = this.waiters.get(requestId);
    if (waiter) {
      waiter(how);
      return;
    }
    if (this.opts.managedInstances && this.config.flush.kind === 'end' && how === 'done') {
      this.flusher.startBackground(this.opts.clock.now() + this.config.flushTimeoutMs, 'background');
    }
    this.endedIds.set(requestId, how);
    if (this.endedIds.size > MAX_REMEMBERED_IDS) {
      const oldest = this.endedIds.keys().next().value;
      if (oldest !== undefined) this.endedIds.delete(oldest);
    }
  }

  /** Resolves when this invocation's end is signalled, or at `cap` (clock ms). */
  private waitForEnd(requestId: string, cap: number): Promise<EndSignal> {
    const known = this.endedIds.get(requestId);
    if (known) {
      this.endedIds.delete(requestId);
      return Promise.resolve(known);
    }
    // Without the Telemetry API only the middleware can say the invocation ended; waiting for the
    // deadline instead would bill the user for the whole timeout.
    const effectiveCap = this.telemetry ? cap : this.opts.clock.now();
    const ms = effectiveCap - this.opts.clock.now();
    if (ms <= 0) return Promise.resolve(this.telemetry ? 'deadline' : 'no-signal');
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish('deadline'), ms);
      const finish = (how: EndSignal) => {
        clearTimeout(timer);
        this.waiters.delete(requestId);
        resolve(how);
      };
      this.waiters.set(requestId, finish);
    });
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /**
   * SnapStart, before the first `next`: export what Init sent once the runtime's Init is done, so the
   * snapshot holds none of it. `startedAt` (clock ms) is when the extension process started.
   */
  beforeSnapshot(startedAt: number): Promise<SnapshotFlushOutcome> {
    return flushBeforeSnapshot({
      clock: this.opts.clock,
      log: this.opts.log,
      watch: this.initRuntimeDone,
      subscribed: this.telemetry !== undefined,
      startedAt,
      flushTimeoutMs: this.config.flushTimeoutMs,
      flush: (deadline) => this.flusher.flush(deadline, 'invoke'),
      buffered: () => Object.fromEntries(SIGNALS.map((s) => [s, this.buffer.items(s)])),
      // A secret read still in flight would be cut by the snapshot too.
      resetConnections: () => {
        this.secretHeaders?.abortInFlight();
        this.exporter.resetConnections();
      },
    });
  }

  beforeNext(): void {
    // Nothing may be in flight across a freeze; during Init the read may go on (the first INVOKE
    // follows at once on demand, and a read that outlives a freeze ends at its own deadline).
    if (this.stats.invocations > 0) this.secretHeaders?.abortInFlight();
    this.lastNextWall = this.opts.clock.now();
    this.lastNextMono = this.opts.clock.monotonic();
  }

  /** After a thaw (or a SnapStart restore) pooled connections to the collector may be dead. */
  afterNext(): void {
    const wallGap = this.opts.clock.now() - this.lastNextWall;
    const monoGap = this.opts.clock.monotonic() - this.lastNextMono;
    const restored = monoGap < 0 || Math.abs(wallGap - monoGap) > 1_000;
    const snapStartFirst =
      this.stats.invocations === 0 && this.opts.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'snap-start';
    if (restored || snapStartFirst || wallGap > STALE_CONNECTION_GAP_MS) {
      this.exporter.resetConnections();
      if (restored || snapStartFirst) this.opts.log.debug('restore detected; collector connections rebuilt');
    }
  }

  async onInvoke(ev: InvokeEvent): Promise<void> {
    const { clock, log } = this.opts;
    const cfg = this.config;
    this.stats.invocations++;
    this.ingest.invocationStarted();
    // Off (loop-back endpoint): nothing can be buffered, and no flush may spool or replay to ourselves.
    if (this.loop) return;
    this.current = ev;
    const now = clock.now();
    this.predictor.arrival(now);
    const endCap = ev.deadlineMs - cfg.deadlineMarginMs;

    // 1. What earlier invocations left goes out now, while the handler runs (its time is free for us).
    if (exportAtInvokeStart(cfg.flush, this.policyState(now), this.limits())) {
      this.flusher.startBackground(endCap, 'invoke');
    }
    // A busy function under adaptive or periodic: no flush will be due at the end, so do not wait for it.
    if (deferWithoutWaiting(cfg.flush, this.policyState(now), this.limits())) {
      this.current = undefined;
      await this.flusher.settle(
        invokeFlushDeadline(now, ev.deadlineMs, cfg.flushTimeoutMs, cfg.deadlineMarginMs),
      );
      log.debug('invocation', {
        requestId: ev.requestId,
        end: 'not awaited',
        flush: false,
        why: 'busy, data young',
      });
      return;
    }
    // 2. Wait for the end of this invocation.
    const how = await this.waitForEnd(ev.requestId, endCap);
    const endedAt = clock.now();
    const endedMono = clock.monotonic();
    this.current = undefined;

    // 3. Decide, and flush under the budget; or carry the data across the freeze.
    const decision = decideAtInvocationEnd(cfg.flush, this.policyState(endedAt), this.limits());
    const deadline = invokeFlushDeadline(endedAt, ev.deadlineMs, cfg.flushTimeoutMs, cfg.deadlineMarginMs);
    if (decision.flush) {
      this.maybeEmitSelfTelemetry(false);
      const sum = await this.flusher.flush(deadline, 'invoke');
      if (sum.outOfBudget) {
        log.debug(
          `flush budget of ${deadline - endedAt} ms ran out; ${this.buffer.items()} items stay buffered`,
        );
      }
    }
    // 4. Nothing may be in flight at `next`: finish or abort what step 1 started (an export begun at
    // INVOKE may already hold this invocation's data, when it arrived before the INVOKE was handled).
    const inFlight = !decision.flush && this.flusher.running;
    if (!decision.flush) await this.flusher.settle(deadline);
    this.stats.record(this.stats.postRuntimeMs, clock.monotonic() - endedMono);
    log.debug('invocation', {
      requestId: ev.requestId,
      end: how,
      flush: decision.flush || inFlight,
      why: inFlight ? 'export begun at INVOKE still in flight' : decision.reason,
    });
  }

  async onShutdown(ev: ShutdownEvent): Promise<void> {
    const { clock, log } = this.opts;
    clearInterval(this.backgroundTimer);
    const deadlineMs = Number.isFinite(ev.deadlineMs) ? ev.deadlineMs : clock.now() + 1_500;
    const deadline = deadlineMs - this.config.shutdownMarginMs;
    // The runtime is gone by now (it is shut down first): no more data can arrive. Not awaited: a
    // lingering client connection must not eat into the flush budget.
    for (const r of this.receivers) r.close().catch(() => {});
    this.receivers = [];
    // Layer-only mode: the last invocation's platform.report is usually delivered around now.
    await this.platform?.whenReported(Math.min(250, (deadline - clock.now()) / 4));
    this.maybeEmitSelfTelemetry(true);
    // Always a flush run, even with an empty buffer: it is also the Delivery's chance to replay spilled
    // data (except when the relay is off: a replay would go to its own closed receiver).
    if (!this.loop) await this.flusher.flush(deadline, 'shutdown');
    // Then the destinations close what they hold (Pushgateway groups, producers, connections) with
    // what is left of the budget; nothing is exported after this.
    if (this.delivery.shutdown) {
      const owned = createBudget(clock, deadline, 'shutdown');
      await this.delivery.shutdown(owned.budget);
      owned.dispose();
    }
    const lost = SIGNALS.map((s) => [s, this.buffer.items(s)] as const).filter(([, n]) => n > 0);
    for (const [s, n] of lost) this.stats.drop('shutdown_budget', s, n);
    if (lost.length > 0) {
      log.error(
        `shutdown (${ev.shutdownReason}): ${lost.map(([s, n]) => itemsText(s, n)).join(', ')} could not be delivered or spilled before the deadline and are lost`,
      );
    }
    // The ledger: its shape is a documented contract (docs/failure-handling.md).
    log.info('otel-relay shut down', { reason: ev.shutdownReason, ...this.stats.ledger() });
    await this.close();
  }

  /** Stops listening and drops connections; bounded, so exiting never waits on a peer. */
  async close(): Promise<void> {
    clearInterval(this.backgroundTimer);
    this.exporter.close();
    const closing = Promise.all([
      ...this.receivers.map((r) => r.close().catch(() => {})),
      this.telemetry?.close().catch(() => {}),
    ]);
    this.receivers = [];
    this.telemetry = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closing, new Promise((r) => (timer = setTimeout(r, 100)))]);
    clearTimeout(timer);
  }

  // ---- background flushing -----------------------------------------------------------------------

  /** Managed Instances: no INVOKE events and no freeze, so a timer drives flushing. */
  private startBackgroundFlushing(): void {
    const interval =
      this.config.flush.kind === 'periodic' ? this.config.flush.intervalMs : this.config.backgroundIntervalMs;
    this.backgroundTimer = setInterval(() => {
      if (this.buffer.isEmpty()) return;
      this.maybeEmitSelfTelemetry(false);
      this.flusher.startBackground(this.opts.clock.now() + this.config.flushTimeoutMs, 'background');
    }, interval);
    this.backgroundTimer.unref();
  }

  /** Continuous: export as data arrives during an invocation (one run at a time). */
  private scheduleContinuous(): void {
    if (this.continuousScheduled) return;
    this.continuousScheduled = true;
    setImmediate(() => {
      this.continuousScheduled = false;
      const inv = this.current;
      const deadline = inv
        ? inv.deadlineMs - this.config.deadlineMarginMs
        : this.opts.managedInstances
          ? this.opts.clock.now() + this.config.flushTimeoutMs
          : undefined;
      if (deadline !== undefined) this.flusher.startBackground(deadline, inv ? 'invoke' : 'background');
    });
  }

  private limits() {
    return {
      sizeLimitBytes: this.config.batchMaxBytes,
      maxAgeMs: this.config.maxAgeMs,
      batchAgeMs: this.config.batchAgeMs,
    };
  }

  private policyState(now: number) {
    return {
      now,
      buffer: { bytes: this.buffer.bytes(), oldestAcceptedAt: this.buffer.oldestAcceptedAt() },
      lastFlushAt: this.flusher.lastFlushAt,
      predictedGapMs: this.predictor.predictGap(now),
    };
  }

  /**
   * Data the relay makes itself (platform telemetry, self-telemetry) enters the buffer and the ledger
   * here: received, and what a full buffer evicts or refuses counted as dropped, like ingest does.
   */
  private admitOwn(signal: Signal, body: Uint8Array, items: number): void {
    const res = this.buffer.add(signal, [{ body, items }]);
    this.stats.received[signal] += items;
    for (const [s, n] of Object.entries(res.dropped) as [Signal, number][])
      this.stats.drop('buffer_full', s, n);
    this.stats.drop('buffer_full', signal, res.rejectedOwn);
  }

  private maybeEmitSelfTelemetry(force: boolean): void {
    if (!this.config.selfTelemetry || this.loop) return;
    const now = this.opts.clock.now();
    if (!force && now - this.lastSelfEmitAt < SELF_TELEMETRY_INTERVAL_MS) return;
    const nowNs = BigInt(now) * 1_000_000n;
    try {
      const { body, points } = encodeSelfMetrics(
        this.stats,
        {
          functionName: this.opts.functionName,
          functionVersion: this.opts.functionVersion,
          region: this.opts.env.AWS_REGION,
          extensionVersion: RELAY_VERSION,
        },
        this.startNs,
        nowNs,
        this.lastSelfEmitNs,
        breakerReadings(this.delivery.state?.()),
      );
      // Walked like any request: nothing unvalidated reaches a batch, our own encoding included.
      validateExportRequest('metrics', body);
      this.admitOwn('metrics', body, points);
      this.stats.flushDurationsMs.length = 0;
      this.stats.postRuntimeMs.length = 0;
    } catch (err) {
      this.opts.log.warn('self-telemetry could not be encoded; skipped', { error: err });
    }
    this.lastSelfEmitAt = now;
    this.lastSelfEmitNs = nowNs;
  }
}
