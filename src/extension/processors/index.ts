// The processors module: builds each signal's chain from OTEL_RELAY_PROCESSORS (or the per-signal
// OTEL_RELAY_<SIGNAL>_PROCESSORS), in the order given. Loaded with a dynamic import only when
// processorsConfigured() says a chain exists.
import { DestinationSettingError } from '../destinations/read.js';
import type { Signal } from '../export/types.js';
import { createAttributesProcessor } from './attributes/index.js';
import { createFilterProcessor } from './filter/index.js';
import { splitList } from './parse.js';
import { createRateLimitProcessor } from './ratelimit/index.js';
import { createRedactProcessor } from './redact/index.js';
import { createSampleProcessor } from './sample/index.js';
import { PROCESSOR_NAMES, type ProcessorName, processorList, processorsVariable } from './settings.js';
import type { Processor, ProcessorContext, ProcessorsModule } from './types.js';

const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

/** Each signal's ordered processor names. @throws DestinationSettingError naming the variable. */
export function processorChains(env: ProcessorContext['env']): Record<Signal, ProcessorName[]> {
  const out = {} as Record<Signal, ProcessorName[]>;
  for (const signal of SIGNALS) {
    const raw = processorList(env, signal);
    const names = raw === undefined || raw === 'none' ? [] : splitList(raw.toLowerCase());
    for (const n of names)
      if (!(PROCESSOR_NAMES as readonly string[]).includes(n))
        throw new DestinationSettingError(
          `${env[processorsVariable(signal)] ? processorsVariable(signal) : 'OTEL_RELAY_PROCESSORS'}: unknown processor ${JSON.stringify(n)}; expected ${PROCESSOR_NAMES.join(', ')}`,
        );
    out[signal] = names as ProcessorName[];
  }
  return out;
}

/**
 * The configured processors, in order. One instance per name serves every signal that lists it
 * (its `signals` say which), so a rate limit or a sampler keeps one state.
 */
export function createProcessors(ctx: ProcessorContext): Processor[] {
  const chains = processorChains(ctx.env);
  const order: ProcessorName[] = [];
  for (const s of SIGNALS) for (const n of chains[s]) if (!order.includes(n)) order.push(n);
  const factories: Record<ProcessorName, (signals: ReadonlySet<Signal>) => Processor> = {
    filter: (s) => createFilterProcessor(ctx, s),
    redact: (s) => createRedactProcessor(ctx, s),
    sample: (s) => createSampleProcessor(ctx, s),
    ratelimit: (s) => createRateLimitProcessor(ctx, s, ctx.clock),
    attributes: (s) => createAttributesProcessor(ctx, s),
  };
  return order.map((name) => factories[name](new Set(SIGNALS.filter((s) => chains[s].includes(name)))));
}

export default { createProcessors } satisfies ProcessorsModule;
