// Which instrumentations the zero-code wrapper turns on, and when. Names follow the OpenTelemetry
// Node.js convention (the package name without `@opentelemetry/instrumentation-`):
// OTEL_NODE_ENABLED_INSTRUMENTATIONS replaces the default set, OTEL_NODE_DISABLED_INSTRUMENTATIONS
// removes from it. http and undici (fetch) patch modules the runtime has already loaded, so they start
// at Init. Every other instrumentation is constructed only when the function first requires a module
// it patches, so a function pays at Init only for what it uses.
import { createRequire } from 'node:module';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { RelayLog } from '../middleware/log.js';

export type InstrumentationName =
  | 'http'
  | 'undici'
  | 'aws-sdk'
  | 'pg'
  | 'ioredis'
  | 'redis'
  | 'mysql2'
  | 'mongodb'
  | 'kafkajs';

/** On unless disabled. */
export const DEFAULT_INSTRUMENTATIONS: readonly InstrumentationName[] = ['http', 'undici', 'aws-sdk'];
/** Off unless named in OTEL_NODE_ENABLED_INSTRUMENTATIONS. */
export const OPT_IN_INSTRUMENTATIONS: readonly InstrumentationName[] = [
  'pg',
  'ioredis',
  'redis',
  'mysql2',
  'mongodb',
  'kafkajs',
];
const KNOWN = new Set<string>([...DEFAULT_INSTRUMENTATIONS, ...OPT_IN_INSTRUMENTATIONS]);

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim().replace(/^@opentelemetry\/instrumentation-/, ''))
    .filter(Boolean);
}

/** The instrumentations to turn on for this environment; unknown names are logged once. */
export function selectInstrumentations(
  env: Record<string, string | undefined>,
  log: RelayLog,
): InstrumentationName[] {
  const enabled = env.OTEL_NODE_ENABLED_INSTRUMENTATIONS?.trim()
    ? list(env.OTEL_NODE_ENABLED_INSTRUMENTATIONS)
    : [...DEFAULT_INSTRUMENTATIONS];
  const disabled = new Set(list(env.OTEL_NODE_DISABLED_INSTRUMENTATIONS));
  for (const name of [...enabled, ...disabled]) {
    if (!KNOWN.has(name)) {
      log.once(
        `unknown-instrumentation-${name}`,
        'warn',
        `zero-code: instrumentation "${name}" is not in this layer (known: ${[...KNOWN].join(', ')}); ignored`,
      );
    }
  }
  return [...new Set(enabled)].filter((n): n is InstrumentationName => KNOWN.has(n) && !disabled.has(n));
}

/** host:port pairs of the platform's own loopback traffic, which must not become CLIENT spans. */
export function platformHosts(env: Record<string, string | undefined>): Set<string> {
  const hosts = new Set<string>();
  if (env.AWS_LAMBDA_RUNTIME_API) hosts.add(env.AWS_LAMBDA_RUNTIME_API);
  const port = env.OTEL_RELAY_HTTP_PORT || '4318';
  for (const h of ['127.0.0.1', 'localhost', 'sandbox.localdomain']) hosts.add(`${h}:${port}`);
  return hosts;
}

type Factory = () => Instrumentation;

/** The modules whose first `require` turns an instrumentation on. */
const TRIGGERS: Record<Exclude<InstrumentationName, 'http' | 'undici'>, string[]> = {
  'aws-sdk': ['@aws-sdk/', '@smithy/'],
  pg: ['pg', 'pg-pool'],
  ioredis: ['ioredis'],
  redis: ['redis', '@redis/client'],
  mysql2: ['mysql2'],
  mongodb: ['mongodb'],
  kafkajs: ['kafkajs'],
};

function matches(request: string, trigger: string): boolean {
  if (trigger.endsWith('/')) return request.startsWith(trigger);
  return request === trigger || request.startsWith(`${trigger}/`);
}

interface ModuleInternals {
  _load(request: string, parent: unknown, isMain: boolean): unknown;
  prototype: { require(this: unknown, request: string): unknown };
}

/**
 * Turns on the selected instrumentations: `eager` ones now, the others on the first require of a
 * module they patch. `factories` builds each instrumentation (the code is loaded only by the call).
 * Returns the names turned on so far, for tests and the log.
 */
export function installInstrumentations(
  selected: readonly InstrumentationName[],
  factories: Record<InstrumentationName, Factory>,
  onEnable: (name: InstrumentationName, instrumentation: Instrumentation) => void,
): { active: () => InstrumentationName[] } {
  const active: InstrumentationName[] = [];
  const enable = (name: InstrumentationName) => {
    active.push(name);
    onEnable(name, factories[name]());
  };
  const pending = new Map<string, InstrumentationName>();
  for (const name of selected) {
    if (name === 'http' || name === 'undici') enable(name);
    else for (const t of TRIGGERS[name]) pending.set(t, name);
  }
  if (pending.size > 0) {
    const Module = createRequire(import.meta.url)('node:module') as ModuleInternals;
    const load = Module._load;
    Module._load = function otelRelayLazyInstrumentation(request, parent, isMain) {
      if (pending.size > 0) {
        let hit: InstrumentationName | undefined;
        for (const [t, name] of pending) if (matches(request, t)) hit = name;
        if (hit) {
          for (const [t, name] of pending) if (name === hit) pending.delete(t);
          enable(hit);
          // The instrumentation's require hook is installed now; this require has to pass through it.
          if (parent) return Module.prototype.require.call(parent, request);
        }
      }
      return load.call(this, request, parent, isMain);
    };
  }
  return { active: () => [...active] };
}
