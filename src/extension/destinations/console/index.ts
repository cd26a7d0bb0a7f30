// The console destination: each batch as one OTLP/JSON line on stdout (the shape of the OTLP
// file exporter), which Lambda keeps in the function's CloudWatch Logs stream. For debugging, and
// for pipelines that read CloudWatch Logs. Loaded only when selected.
import { decode } from '../model.js';
import { type LineSink, stdoutSink } from '../output.js';
import type { Destination, DestinationContext, DestinationModule } from '../types.js';

export function createDestination(_ctx: DestinationContext, sink: LineSink = stdoutSink): Destination {
  return {
    name: 'console',
    signals: new Set(['traces', 'metrics', 'logs']),
    async export(signal, body) {
      sink(JSON.stringify(await decode(signal, body)));
      return { kind: 'success' };
    },
    resetConnections() {},
    close() {},
  };
}

export default { createDestination } satisfies DestinationModule;
