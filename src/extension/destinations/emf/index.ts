// The emf destination: metrics as CloudWatch Embedded Metric Format lines on stdout, which Lambda
// sends to the function's log group, where CloudWatch extracts the metrics. No API call, no
// credentials. Loaded only when selected.
import { decodeMetrics } from '../model.js';
import { type LineSink, stdoutSink } from '../output.js';
import { settingReader } from '../read.js';
import type { Destination, DestinationContext, DestinationModule } from '../types.js';
import { DeltaState, type EmfOptions, toEmfObjects } from './encoder.js';
import { EMF_DIMENSIONS, EMF_NAMESPACE, EMF_RESOLUTION } from './settings.js';

export function createDestination(ctx: DestinationContext, sink: LineSink = stdoutSink): Destination {
  const read = settingReader(ctx);
  const dims = read(EMF_DIMENSIONS);
  const opts: EmfOptions = {
    namespace: read(EMF_NAMESPACE),
    dimensionKeys: dims
      ? dims
          .split(',')
          .map((d) => d.trim())
          .filter(Boolean)
      : undefined,
    storageResolution: read(EMF_RESOLUTION) === '1' ? 1 : 60,
  };
  let state = new DeltaState();
  return {
    name: 'emf',
    signals: new Set(['metrics']),
    async export(signal, body) {
      if (signal !== 'metrics') return { kind: 'failed', reason: `emf takes metrics only, not ${signal}` };
      const next = state.fork();
      const objects = toEmfObjects(await decodeMetrics(body), next, opts);
      for (const o of objects) sink(JSON.stringify(o));
      state = next;
      return { kind: 'success' };
    },
    resetConnections() {},
    close() {},
  };
}

export default { createDestination } satisfies DestinationModule;
