// The setup the middleware's unit tests share: a context manager and an in-memory tracer provider
// registered globally for the file, and a fresh "invocation done" receiver for every test.
import { type ContextManager, context, trace } from '@opentelemetry/api';
import { afterEach, beforeAll, beforeEach } from 'vitest';
import {
  type DoneReceiver,
  inMemoryTracing,
  startDoneReceiver,
  type Tracing,
} from '../../fixtures/middleware/harness.js';

export interface InvocationHarness {
  tracing: Tracing;
  /** The current test's receiver. */
  readonly receiver: DoneReceiver;
}

/** Registers the hooks; call it once at the top of a test file. */
export function useInvocationHarness(contextManager: ContextManager): InvocationHarness {
  const tracing = inMemoryTracing();
  let current: DoneReceiver | undefined;
  beforeAll(() => {
    context.setGlobalContextManager(contextManager);
    trace.setGlobalTracerProvider(tracing.provider);
  });
  // A receiver per test: hand-offs still running from an earlier test (after-response) go to its own.
  beforeEach(async () => {
    tracing.exporter.reset();
    current = await startDoneReceiver();
  });
  afterEach(async () => {
    await current?.close();
  });
  return {
    tracing,
    get receiver() {
      if (!current) throw new Error('the done receiver exists only while a test runs');
      return current;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
