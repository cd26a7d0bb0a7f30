// setupOtelRelay(): registers OpenTelemetry tracer, meter and logger providers that export OTLP/HTTP
// protobuf to the local extension (loopback, keep-alive, no compression: bytes on loopback are cheaper
// than gzip's CPU). The SDK packages are imported dynamically, so importing this package costs nothing
// for functions that bring their own SDK. Exports are batched in the function and pushed at the end of
// each invocation by the middleware's local flush, so an invocation makes one request per signal.
import { type Attributes, context, propagation, type TracerProvider, trace } from '@opentelemetry/api';
import { localEndpoint, parseEndpoint } from './config.js';
import { InvocationContextManager } from './context-manager.js';
import { RelayLog } from './log.js';
import { propagatorsFromEnv } from './propagators.js';
import { lambdaResourceAttributes } from './semconv.js';
import type { Flushable } from './types.js';
import { withoutUpstreamExporterEnv } from './upstream-env.js';

export interface SetupOptions {
  /** Base URL of the extension. Default `http://127.0.0.1:${OTEL_RELAY_HTTP_PORT ?? 4318}`. */
  endpoint?: string;
  /** `service.name`; default OTEL_SERVICE_NAME, else the function name. */
  serviceName?: string;
  /** Extra resource attributes (OTEL_RESOURCE_ATTRIBUTES is read as well). */
  resourceAttributes?: Attributes;
  /** Which signals to set up. Default: all three. */
  signals?: { traces?: boolean; metrics?: boolean; logs?: boolean };
  /** Timeout of one export request to the extension, in ms. Default 1000. */
  exportTimeoutMs?: number;
  /** Metrics are pushed at every invocation's flush; this is the background interval. Default 60000. */
  metricExportIntervalMs?: number;
}

/** What setupOtelRelay registered. `forceFlush` pushes all three signals to the extension. */
export interface OtelRelaySdk extends Flushable {
  readonly endpoint: URL;
  readonly tracerProvider: TracerProvider;
  /** False when another tracer provider was registered first; ours then is not the global one. */
  readonly registered: boolean;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

let installed: Promise<OtelRelaySdk> | undefined;

/**
 * Registers tracer, meter and logger providers exporting to the local otel-relay extension. Call it
 * once at module scope; later calls return the same SDK. `otelRelay()` and `wrapHandler()` call it
 * themselves when no tracer provider is registered.
 *
 * @example
 * import { setupOtelRelay, wrapHandler } from 'lambda-otel-relay/middleware';
 * await setupOtelRelay({ serviceName: 'orders-api' });
 * export const handler = wrapHandler(async (event) => ({ statusCode: 200 }));
 */
export function setupOtelRelay(options: SetupOptions = {}): Promise<OtelRelaySdk> {
  installed ??= install(options).catch((err: unknown) => {
    installed = undefined;
    throw new Error(
      'setupOtelRelay: could not load the OpenTelemetry SDK packages (@opentelemetry/sdk-trace-base, ' +
        'sdk-metrics, sdk-logs, exporter-*-otlp-proto, resources, core, api-logs); install or bundle them ' +
        'with the function. Until then spans are not recorded.',
      { cause: err },
    );
  });
  return installed;
}

/** The SDK setupOtelRelay registered in this process, if it has finished. */
export function installedSdk(): Promise<OtelRelaySdk> | undefined {
  return installed;
}

type ResourcesModule = typeof import('@opentelemetry/resources');

/**
 * The function's resource. Precedence, lowest first: the SDK defaults, the Lambda environment
 * (service.name = the function name), OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, then options.
 * So `OTEL_RESOURCE_ATTRIBUTES=service.name=...` beats the function name, as the SDK specification says.
 */
export function buildResource(
  resources: ResourcesModule,
  options: Pick<SetupOptions, 'serviceName' | 'resourceAttributes'> = {},
  env: NodeJS.ProcessEnv = process.env,
) {
  const explicit: Attributes = { ...options.resourceAttributes };
  if (options.serviceName) explicit['service.name'] = options.serviceName;
  return resources
    .defaultResource()
    .merge(resources.resourceFromAttributes(lambdaResourceAttributes(env)))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }))
    .merge(resources.resourceFromAttributes(explicit));
}

async function install(options: SetupOptions): Promise<OtelRelaySdk> {
  const log = new RelayLog();
  const endpoint = options.endpoint ? parseEndpoint(options.endpoint) : localEndpoint(process.env, log);
  const base = endpoint.origin;
  const timeoutMillis = options.exportTimeoutMs ?? 1000;
  const signals = { traces: true, metrics: true, logs: true, ...options.signals };
  // Explicit url/compression/timeout win over the OTEL_EXPORTER_OTLP_* variables, which in a function
  // with the layer describe the extension's upstream, not us. Headers from them would still be merged
  // in, so each exporter is constructed with those variables hidden.
  const exporterConfig = (signal: string) => ({
    url: `${base}/v1/${signal}`,
    // CompressionAlgorithm.NONE; the enum lives in otlp-exporter-base, which is not worth a load here.
    compression: 'none' as never,
    timeoutMillis,
    keepAlive: true,
  });
  const localExporter = <T>(
    signal: string,
    Exporter: new (config: ReturnType<typeof exporterConfig>) => T,
  ): T => withoutUpstreamExporterEnv(() => new Exporter(exporterConfig(signal)));

  // Registered before the first await: the middleware may enter an invocation context while the SDK
  // packages are still loading (first invocation right after init).
  context.setGlobalContextManager(new InvocationContextManager());

  const [core, resources, sdkTrace, traceExporter] = await Promise.all([
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-proto'),
  ]);

  const resource = buildResource(resources, options);

  propagation.setGlobalPropagator(
    new core.CompositePropagator({
      propagators: propagatorsFromEnv(process.env.OTEL_PROPAGATORS, core, log),
    }),
  );

  const tracerProvider = new sdkTrace.BasicTracerProvider({
    resource,
    spanProcessors: [
      new sdkTrace.BatchSpanProcessor(localExporter('traces', traceExporter.OTLPTraceExporter), {
        // Large enough that an invocation's spans go out in one request at the local flush.
        maxExportBatchSize: 1024,
        maxQueueSize: 8192,
        scheduledDelayMillis: 5000,
        exportTimeoutMillis: timeoutMillis,
      }),
    ],
  });
  const flushables: Flushable[] = [];
  const shutdowns: Array<() => Promise<unknown>> = [];
  if (signals.traces) {
    flushables.push(tracerProvider);
    shutdowns.push(() => tracerProvider.shutdown());
  }
  const registered = signals.traces ? trace.setGlobalTracerProvider(tracerProvider) : false;
  if (signals.traces && !registered) {
    log.write(
      'warn',
      'setupOtelRelay: a tracer provider was already registered; it stays the global one, and spans made ' +
        'through it are exported wherever it exports them',
    );
  }

  if (signals.metrics) {
    const [{ metrics }, sdkMetrics, metricExporter] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-metrics'),
      import('@opentelemetry/exporter-metrics-otlp-proto'),
    ]);
    const meterProvider = new sdkMetrics.MeterProvider({
      resource,
      readers: [
        new sdkMetrics.PeriodicExportingMetricReader({
          exporter: localExporter('metrics', metricExporter.OTLPMetricExporter),
          exportIntervalMillis: options.metricExportIntervalMs ?? 60_000,
          exportTimeoutMillis: timeoutMillis,
        }),
      ],
    });
    metrics.setGlobalMeterProvider(meterProvider);
    flushables.push(meterProvider);
    shutdowns.push(() => meterProvider.shutdown());
  }

  if (signals.logs) {
    const [apiLogs, sdkLogs, logExporter] = await Promise.all([
      import('@opentelemetry/api-logs'),
      import('@opentelemetry/sdk-logs'),
      import('@opentelemetry/exporter-logs-otlp-proto'),
    ]);
    const loggerProvider = new sdkLogs.LoggerProvider({
      resource,
      processors: [
        new sdkLogs.BatchLogRecordProcessor(localExporter('logs', logExporter.OTLPLogExporter), {
          maxExportBatchSize: 1024,
          maxQueueSize: 8192,
          scheduledDelayMillis: 5000,
          exportTimeoutMillis: timeoutMillis,
        }),
      ],
    });
    apiLogs.logs.setGlobalLoggerProvider(loggerProvider);
    flushables.push(loggerProvider);
    shutdowns.push(() => loggerProvider.shutdown());
  }

  return {
    endpoint,
    tracerProvider,
    registered,
    async forceFlush() {
      await Promise.all(flushables.map((f) => f.forceFlush()));
    },
    async shutdown() {
      await Promise.all(shutdowns.map((s) => s()));
    },
  };
}
