// Builds the delivery the flusher uses from the selected destinations. The default (OTLP for every
// signal) is one delivery chain around the extension's own exporter, exactly as without fan-out: no
// destination code is loaded and nothing is decoded. Any other selection loads each named destination
// lazily and fans batches out to them (fanout.ts).
import type { Signal } from '../../otlp/index.js';
import { DESTINATIONS, loadProcessors } from '../destinations/index.js';
import type {
  Clock,
  Delivery,
  DeliveryContext,
  DeliveryFactory,
  Logger,
  SignalExporter,
} from '../export/types.js';
import { createDelivery as createFallbackDelivery } from '../fallback/index.js';
import { processorsConfigured } from '../processors/settings.js';
import type { RelayConfig } from '../settings/types.js';
import type { RelayStats } from '../telemetry/stats.js';
import { createFanOut, type Route } from './fanout.js';

export { createFanOut, type Route, recordInLine } from './fanout.js';

const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

export interface PipelineContext {
  config: RelayConfig;
  /** The OTLP exporter (the `otlp` destination). */
  exporter: SignalExporter;
  env: Readonly<Record<string, string | undefined>>;
  clock: Clock;
  log: Logger;
  stats: RelayStats;
  createDelivery?: DeliveryFactory;
  onConfigProblem?: (problem: string) => void;
}

/** True for the default selection: OTLP, alone, for every signal. */
export function isDefaultSelection(routes: RelayConfig['routes']): boolean {
  return SIGNALS.every((s) => routes[s].length === 1 && routes[s][0] === 'otlp');
}

export async function buildDelivery(ctx: PipelineContext): Promise<Delivery> {
  const delivery = await buildDestinations(ctx);
  if (!processorsConfigured(ctx.env)) return delivery;
  // Loaded only when a processor is configured: without one no batch is ever decoded.
  try {
    const { createProcessors, withProcessors } = await loadProcessors();
    return withProcessors(delivery, createProcessors(ctx), ctx.log);
  } catch (err) {
    ctx.log.error('the processors could not be set up; batches go to their destinations unprocessed', {
      error: err instanceof Error ? err.message : String(err),
    });
    return delivery;
  }
}

async function buildDestinations(ctx: PipelineContext): Promise<Delivery> {
  const { config, stats, log } = ctx;
  const factory = ctx.createDelivery ?? createFallbackDelivery;
  const chain = (exporter: SignalExporter, destination?: string): Delivery => {
    const dc: DeliveryContext = {
      exporter,
      env: ctx.env,
      fallback: config.fallback,
      clock: ctx.clock,
      log,
      onConfigProblem: ctx.onConfigProblem,
      onSpilledSettled: (signal, state, items) =>
        destination === undefined && isDefaultSelection(config.routes)
          ? stats.settleSpilled(signal, state, items)
          : // With several destinations the top-level line keeps its first verdict; the move shows per destination.
            stats.settleSpilled(signal, state, items, stats.destination(destination ?? 'otlp'), false),
    };
    if (destination) dc.destination = destination;
    return factory(dc);
  };
  if (isDefaultSelection(config.routes)) return chain(ctx.exporter);

  const names = [...new Set(SIGNALS.flatMap((s) => config.routes[s]))];
  const routes: Route[] = [];
  for (const name of names) {
    const signals = new Set(SIGNALS.filter((s) => config.routes[s].includes(name)));
    if (name === 'otlp') {
      // Unmarked: the OTLP destination's spill keeps the layout the replay CLI and awss3receiver read.
      routes.push({ name, signals, delivery: chain(ctx.exporter) });
      continue;
    }
    const entry = DESTINATIONS[name];
    try {
      if (!entry?.load) throw new Error(`no destination is named ${name}`);
      const mod = await entry.load();
      const destination = await mod.createDestination({
        env: ctx.env,
        clock: ctx.clock,
        log,
        onConfigProblem: ctx.onConfigProblem,
      });
      routes.push({
        name,
        signals,
        delivery: chain(destination, name),
        ...(destination.shutdown && { shutdown: destination.shutdown.bind(destination) }),
        close: () => destination.close(),
      });
    } catch (err) {
      log.error(
        `destination ${name} could not be set up; ${[...signals].join(', ')} are not sent to it (the other destinations are unaffected)`,
        { error: err },
      );
    }
  }
  return createFanOut({
    routes,
    stats,
    log,
    clock: ctx.clock,
    maxPendingBytes: Math.floor(config.bufferMaxBytes / 2 / Math.max(1, routes.length)),
    discard: new Set(SIGNALS.filter((s) => config.routes[s].length === 0)),
  });
}
