// Coexistence with the zero-code wrapper (/opt/otel-relay-handler). The wrapper traces every invocation
// itself, so an otelRelay() or wrapHandler() in the function's code (its own copy of this package, in
// ESM or CommonJS) must not trace it a second time. The wrapper sets a process-wide mark, shared
// across copies through the global symbol registry, before it loads the function's module.

const MARK = Symbol.for('lambda-otel-relay.zero-code');

/** Set by the zero-code wrapper before it loads the handler module. */
export function markZeroCode(): void {
  (globalThis as Record<symbol, unknown>)[MARK] = true;
}

/** True when the zero-code wrapper traces the invocations of this process. */
export function zeroCodeActive(): boolean {
  return (globalThis as Record<symbol, unknown>)[MARK] === true;
}
