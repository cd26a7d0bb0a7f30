// The relay layer under AWS's own Runtime Interface Emulator: the second check (after the local
// emulator's conformance tests) that what the layer expects of the Extensions and Runtime APIs is what
// AWS implements. The RIE has no Telemetry API (its /telemetry answers without ever delivering), so
// the relay must work from the Extensions API alone: register, INVOKE, SHUTDOWN, export.
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaEnvironment } from '../../../src/local/index.js';
import { type CollectorPeer, startCollector } from '../../helpers/collector.js';
import { freePort } from '../../helpers/ports.js';
import { type RiePeer, startRie } from '../../helpers/rie.js';

const root = resolve(import.meta.dirname, '../../..');

describe('the relay layer under the Runtime Interface Emulator', () => {
  let collector: CollectorPeer;
  let rie: RiePeer;

  beforeAll(async () => {
    collector = await startCollector();
    rie = await startRie({
      layer: join(root, 'dist/layer'),
      codeDir: join(root, 'test/fixtures/extension/function'),
      handler: 'index.handler',
      env: {
        OTEL_RELAY_HTTP_PORT: String(await freePort()),
        OTEL_RELAY_GRPC_PORT: String(await freePort()),
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.httpEndpoint,
        OTEL_RELAY_LOG_LEVEL: 'debug',
      },
    });
  });

  afterAll(async () => {
    await rie?.stop();
    await collector?.stop();
  });

  it('registers, gets INVOKE for each invoke and SHUTDOWN at the end, and exports every span', async () => {
    // Act: two invokes (the first runs Init, which waits for the relay's registration).
    const sent: string[] = [];
    for (const tag of ['rie-1', 'rie-2']) {
      const r = await rie.invoke({ tag, spans: 3 });
      expect(r.status, r.body).toBe(200);
      const body = JSON.parse(r.body) as { spanIds: string[] };
      expect(body.spanIds).toHaveLength(3);
      sent.push(...body.spanIds);
    }

    // Assess: the RIE saw the relay register under its file name, and the relay saw both invokes.
    const logs = rie.logs();
    expect(logs).toMatch(/External agent otel-relay .*registered/i);
    const invocations = logs.split('\n').filter((l) => l.includes('"msg":"invocation"'));
    expect(invocations).toHaveLength(2);

    // Act: SIGTERM; the RIE resets the sandbox, which sends SHUTDOWN, and the relay flushes before exiting.
    await rie.stop(15_000);

    // Assess: the relay received SHUTDOWN (the RIE's reason for a SIGTERM is SandboxTerminated, where
    // Lambda says spindown), and every span reached the collector exactly once.
    expect(rie.logs()).toMatch(/"msg":"otel-relay shut down","reason":"sandboxterminated"/);
    const received = await collector.waitFor((r) => r.spans().length >= sent.length, 15_000);
    const ids = received.spans().map((s) => s.spanId);
    expect(ids.sort()).toEqual([...sent].sort());
  });
});

/** The probe's records (test/fixtures/peers/probe-layer), by step; events in order. */
function probeRecords(output: string): Map<string, Record<string, unknown>> {
  const records = output
    .split('\n')
    .map((l) => /PROBE (\{.*\})\s*$/.exec(l)?.[1])
    .filter((j): j is string => j !== undefined)
    .map((j) => JSON.parse(j) as Record<string, unknown>);
  let events = 0;
  return new Map(
    records.map((r) => [
      r.step === 'event' ? `event[${events++}] ${String(r.eventType)}` : String(r.step),
      r,
    ]),
  );
}

/** Every `step.field` where the two implementations answered differently, with both answers. */
function differences(
  ours: Map<string, Record<string, unknown>>,
  theirs: Map<string, Record<string, unknown>>,
): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  for (const step of new Set([...ours.keys(), ...theirs.keys()])) {
    const x = ours.get(step) ?? {};
    const y = theirs.get(step) ?? {};
    for (const field of new Set([...Object.keys(x), ...Object.keys(y)])) {
      if (JSON.stringify(x[field]) !== JSON.stringify(y[field]))
        out[`${step}.${field}`] = [x[field], y[field]];
    }
  }
  return out;
}

/**
 * Where the local emulator and the RIE answer differently, and why. docs/benchmarks.md lists the same;
 * a new difference fails the test until it is understood and added to both.
 */
const KNOWN_DIFFERENCES: Record<string, { emulator: unknown; rie: unknown; reason: string }> = {
  'register.body': {
    emulator: ['accountId', 'functionName', 'functionVersion', 'handler'],
    rie: ['functionName', 'functionVersion', 'handler'],
    reason:
      'Lambda adds accountId when the extension sends Lambda-Extension-Accept-Feature: accountId; the RIE ignores that header',
  },
  'telemetry-subscribe.status': {
    emulator: 200,
    rie: 202,
    reason: 'the RIE has no Telemetry API: it accepts the subscription with 202 and never delivers anything',
  },
  'telemetry-subscribe.body': {
    emulator: 'OK',
    rie: ['errorMessage', 'errorType'],
    reason: 'the RIE answers the subscription with an error body saying the Telemetry API is not supported',
  },
  'event[1] SHUTDOWN.shutdownReason': {
    emulator: 'spindown',
    rie: 'SandboxTerminated',
    reason:
      'the RIE ends on SIGTERM with a reset named SandboxTerminated; Lambda sends spindown, timeout or failure, as the emulator does',
  },
};

/**
 * Extension variables only one side sets, and why. The RIE passes its own process environment on,
 * so its configuration (LAMBDA_TASK_ROOT, AWS_LAMBDA_FUNCTION_TIMEOUT) is not compared.
 */
const VARIABLES_ONLY_EMULATOR = {
  AWS_DEFAULT_REGION: 'Lambda sets it beside AWS_REGION; the RIE sets only what it is given',
  AWS_LAMBDA_INITIALIZATION_TYPE:
    'Lambda sets it (on-demand, provisioned-concurrency, snap-start); the RIE does not',
  LANG: 'Lambda sets en_US.UTF-8; the RIE passes on what it is given',
  TZ: 'Lambda sets :UTC; the RIE passes on what it is given',
};
const VARIABLES_ONLY_RIE = {
  AWS_ACCESS_KEY_ID:
    'the RIE invents placeholder credentials; the emulator gives none (the function brings its own)',
  AWS_SECRET_ACCESS_KEY: 'as AWS_ACCESS_KEY_ID',
  AWS_SESSION_TOKEN: 'as AWS_ACCESS_KEY_ID',
  AWS_LAMBDA_LOG_GROUP_NAME:
    'Lambda gives it to the runtime only, not to extensions; the RIE gives it to both',
  AWS_LAMBDA_LOG_STREAM_NAME: 'as AWS_LAMBDA_LOG_GROUP_NAME',
  AWS_LAMBDA_METADATA_API: 'the RIE serves a metadata endpoint that the emulator does not emulate',
  AWS_LAMBDA_METADATA_TOKEN: 'as AWS_LAMBDA_METADATA_API',
};
const RIE_CONFIGURATION = ['LAMBDA_TASK_ROOT', 'AWS_LAMBDA_FUNCTION_TIMEOUT'];

describe('the Extensions API as the emulator and the RIE answer it', () => {
  it('differs from the RIE only where the differences are known and explained', async () => {
    const layer = join(root, 'test/fixtures/peers/probe-layer');
    const codeDir = join(root, 'test/fixtures/peers/function');

    // Act: the same probe extension and function under AWS's implementation ...
    const rie = await startRie({ layer, codeDir, handler: 'index.handler' });
    try {
      const r = await rie.invoke({ spans: 0 });
      expect(r.status, r.body).toBe(200);
    } finally {
      await rie.stop(15_000);
    }
    // ... and under the local emulator.
    const env = await LambdaEnvironment.start({ codeDir, handler: 'index.handler', layers: [layer] });
    let emulatorOutput: string;
    try {
      const r = await env.invoke({ spans: 0 });
      expect(r.status, env.output()).toBe('success');
      await env.shutdown();
    } finally {
      emulatorOutput = env.output();
      await env.dispose();
    }
    const ours = probeRecords(emulatorOutput);
    const theirs = probeRecords(rie.logs());

    // Assess: both ran the whole probe (register, subscribe, INVOKE, SHUTDOWN) ...
    const steps = ['environment', 'register', 'register-invalid-event', 'telemetry-subscribe'];
    const events = ['event[0] INVOKE', 'event[1] SHUTDOWN'];
    expect([...ours.keys()], emulatorOutput).toEqual([...steps, ...events]);
    expect([...theirs.keys()], rie.logs()).toEqual([...steps, ...events]);
    // ... and answered alike except where known.
    const found = differences(ours, theirs);
    const variables = found['environment.variables'] as [string[], string[]] | undefined;
    delete found['environment.variables'];
    expect(found).toEqual(
      Object.fromEntries(Object.entries(KNOWN_DIFFERENCES).map(([k, v]) => [k, [v.emulator, v.rie]])),
    );
    const [mine, rieVars] = variables ?? [[], []];
    expect(mine.filter((v) => !rieVars.includes(v)).sort()).toEqual(
      Object.keys(VARIABLES_ONLY_EMULATOR).sort(),
    );
    expect(rieVars.filter((v) => !mine.includes(v) && !RIE_CONFIGURATION.includes(v)).sort()).toEqual(
      Object.keys(VARIABLES_ONLY_RIE).sort(),
    );
  });
});
