// Shared setup of the extension's integration tests: the built layer (dist/layer) and the fixture
// function in the local emulator, exporting to the real OpenTelemetry Collector.
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { LambdaEnvironment, type LocalFunctionConfig } from '../../../src/local/index.js';
import {
  type CollectorOptions,
  type CollectorPeer,
  type Received,
  startCollector,
} from '../../helpers/collector.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { freePort } from '../../helpers/ports.js';

export const repoRoot = resolve(import.meta.dirname, '../../..');
export const layerDir = resolve(repoRoot, 'dist/layer');
export const functionDir = resolve(repoRoot, 'test/fixtures/extension/function');

export interface RelayEnv {
  env: LambdaEnvironment;
  httpPort: number;
  grpcPort: number;
}

export interface RelayEnvOptions {
  flush?: string;
  /** How the fixture function's SDK exports: OTLP/HTTP protobuf (default), OTLP/HTTP JSON, OTLP/gRPC. */
  protocol?: 'proto' | 'json' | 'grpc';
  env?: Record<string, string>;
  config?: Partial<LocalFunctionConfig>;
}

export async function startRelayEnv(collector: CollectorPeer, o: RelayEnvOptions = {}): Promise<RelayEnv> {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const env = await LambdaEnvironment.start({
    codeDir: functionDir,
    handler: 'index.handler',
    layers: [layerDir],
    timeoutMs: 10_000,
    functionName: `relay-it-${randomUUID().slice(0, 8)}`,
    ...o.config,
    env: {
      OTEL_RELAY_HTTP_PORT: String(httpPort),
      OTEL_RELAY_GRPC_PORT: String(grpcPort),
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpEndpoint,
      OTEL_RELAY_FLUSH: o.flush ?? 'adaptive',
      FIXTURE_PROTOCOL: o.protocol ?? 'proto',
      ...o.env,
    },
  });
  return { env, httpPort, grpcPort };
}

export interface RelaySuite {
  /** The real collector, started once for the describe block (read it inside tests and hooks). */
  readonly collector: CollectorPeer;
  /**
   * Starts the relay's emulated environment for the current test; whatever a test started is disposed
   * after it, and its output is printed when it failed.
   */
  start(o?: RelayEnvOptions): Promise<RelayEnv>;
}

/**
 * The lifecycle every suite of this folder shares: one real collector per describe block, one
 * emulated environment per test (or several in turn), both printed on failure.
 */
export function useRelaySuite(options: { collector?: CollectorOptions } = {}): RelaySuite {
  let collector: CollectorPeer | undefined;
  let started: RelayEnv[] = [];
  // Kept past afterEach: failure hooks run after it and print what the last environment said.
  let last: RelayEnv | undefined;
  beforeAll(async () => {
    collector = await startCollector(options.collector);
  });
  afterAll(async () => {
    await collector?.stop();
  });
  afterEach(async () => {
    // dispose() is safe on an environment the test already shut down or disposed.
    await Promise.all(started.map((r) => r.env.dispose()));
    started = [];
  });
  printLogsOnFailure('otelcol', () => collector);
  printLogsOnFailure('emulator', () => (last ? { logs: () => last?.env.output() ?? '' } : undefined));
  return {
    get collector(): CollectorPeer {
      if (!collector) throw new Error('the collector is not started (use suite.collector inside tests)');
      return collector;
    },
    async start(o = {}) {
      const relay = await startRelayEnv(this.collector, o);
      started.push(relay);
      last = relay;
      return relay;
    },
  };
}

export interface SentIds {
  spanIds: string[];
  logs: string[];
  points: string[];
}

export function collect(into: SentIds, response: unknown): void {
  const r = response as Partial<SentIds>;
  into.spanIds.push(...(r.spanIds ?? []));
  into.logs.push(...(r.logs ?? []));
  into.points.push(...(r.points ?? []));
}

export const emptyIds = (): SentIds => ({ spanIds: [], logs: [], points: [] });

/** Counts occurrences of each sent id in what the collector received. */
export function occurrences(received: Received, sent: SentIds) {
  const count = (xs: string[]) => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
    return m;
  };
  const spans = count(received.spans().map((s) => s.spanId));
  const logs = count(received.logRecords().map((l) => String(l.body)));
  const points = count(
    received
      .dataPoints()
      .filter((p) => p.metric === 'fixture.work')
      .map((p) => String(p.attributes['point.id'])),
  );
  return {
    spans: sent.spanIds.map((id) => spans.get(id) ?? 0),
    logs: sent.logs.map((id) => logs.get(id) ?? 0),
    points: sent.points.map((id) => points.get(id) ?? 0),
  };
}

/** Waits until every sent id arrived, then asserts each arrived exactly once. */
export async function expectExactlyOnce(collector: CollectorPeer, sent: SentIds, timeoutMs = 20_000) {
  const received = await collector.waitFor((r) => {
    const o = occurrences(r, sent);
    return [...o.spans, ...o.logs, ...o.points].every((n) => n >= 1);
  }, timeoutMs);
  const o = occurrences(received, sent);
  expect(o.spans.filter((n) => n !== 1)).toEqual([]);
  expect(o.logs.filter((n) => n !== 1)).toEqual([]);
  expect(o.points.filter((n) => n !== 1)).toEqual([]);
  return received;
}

/** Export requests (collector file lines) that carried any of these spans. */
export function requestsWithSpans(received: Received, spanIds: string[]): number {
  const ids = new Set(spanIds);
  return new Set(
    received
      .spans()
      .filter((s) => ids.has(s.spanId))
      .map((s) => s.request),
  ).size;
}
