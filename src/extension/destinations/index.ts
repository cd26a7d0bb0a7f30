// Every destination the relay can send to, by the name used in OTEL_RELAY_<SIGNAL>_EXPORTER. Each line
// maps a name to the signals it takes and a loader; the loader is a dynamic import, so a destination's
// code is loaded only when it is selected and the default cold start never pays for it. `otlp` is
// built in (the extension's own OTLP exporter). Add one line per destination.
import type { Signal } from '../export/types.js';
import type { DestinationModule } from './types.js';

export interface DestinationEntry {
  readonly signals: readonly Signal[];
  /** Undefined for the built-in `otlp` destination. */
  readonly load?: () => Promise<DestinationModule>;
}

const ALL: readonly Signal[] = ['traces', 'metrics', 'logs'];

export const DESTINATIONS: Readonly<Record<string, DestinationEntry>> = {
  otlp: { signals: ALL },
  console: { signals: ALL, load: () => import('./console/index.js') },
  file: { signals: ALL, load: () => import('./file/index.js') },
  zipkin: { signals: ['traces'], load: () => import('./zipkin/index.js') },
  awsxray: { signals: ['traces'], load: () => import('./awsxray/index.js') },
  awslogs: { signals: ['logs'], load: () => import('./awslogs/index.js') },
  emf: { signals: ['metrics'], load: () => import('./emf/index.js') },
  prometheusremotewrite: { signals: ['metrics'], load: () => import('./prometheusremotewrite/index.js') },
  pushgateway: { signals: ['metrics'], load: () => import('./pushgateway/index.js') },
  kafka: { signals: ALL, load: () => import('./kafka/index.js') },
  redis: { signals: ALL, load: () => import('./redis/index.js') },
  postgres: { signals: ALL, load: () => import('./postgres/index.js') },
};

/** The names a signal may be routed to (its OTEL_RELAY_<SIGNAL>_EXPORTER values, besides `none`). */
export function destinationNames(signal: Signal): string[] {
  return Object.entries(DESTINATIONS)
    .filter(([, d]) => d.signals.includes(signal))
    .map(([name]) => name);
}

export type { Destination, DestinationContext, DestinationModule } from './types.js';

/**
 * The processors (not a destination): loaded only when one is configured, and shipped by the layer
 * build as a separate file like a destination.
 */
export const loadProcessors = (): Promise<typeof import('./processors/index.js')> =>
  import('./processors/index.js');
