// Shared helpers of the emulator conformance tests: fixture paths, layers made of the probe
// extension, a probe server that collects what extensions report, and cleanup of every environment.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach } from 'vitest';
import { LambdaEnvironment, type LocalFunctionConfig } from '../../../src/local/index.js';

export const FIXTURES = resolve(import.meta.dirname, '../../fixtures/emulator');
export const fn = (name: string): string => join(FIXTURES, 'functions', name);
const PROBE_EXTENSION = join(FIXTURES, 'extensions', 'probe-extension.mjs');

export interface ProbeMessage {
  ext: string;
  kind: string;
  // biome-ignore lint/suspicious/noExplicitAny: reports are free-form JSON from the fixture
  data: any;
  t: number;
}

export interface Probe {
  port: number;
  messages: ProbeMessage[];
  of(ext: string, kind?: string): ProbeMessage[];
  /** What the extension reported about the first event of this type it received (INVOKE/SHUTDOWN). */
  // biome-ignore lint/suspicious/noExplicitAny: reports are free-form JSON from the fixture
  event(ext: string, eventType: string): any;
  waitFor(pred: (m: ProbeMessage) => boolean, timeoutMs?: number): Promise<ProbeMessage>;
}

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  const all = cleanups.splice(0);
  for (const c of all.reverse()) await c();
});

export async function probeServer(): Promise<Probe> {
  const messages: ProbeMessage[] = [];
  const listeners = new Set<() => void>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      messages.push(JSON.parse(body) as ProbeMessage);
      for (const l of [...listeners]) l();
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return {
    port: (server.address() as AddressInfo).port,
    messages,
    of: (ext, kind) => messages.filter((m) => m.ext === ext && (kind === undefined || m.kind === kind)),
    event: (ext, eventType) =>
      messages.find((m) => m.ext === ext && m.kind === 'event' && m.data.event.eventType === eventType)?.data,
    waitFor: (pred, timeoutMs = 10_000) =>
      new Promise((resolveWait, reject) => {
        const hit = messages.find(pred);
        if (hit) return resolveWait(hit);
        const check = (): void => {
          const m = messages.find(pred);
          if (m) {
            listeners.delete(check);
            clearTimeout(timer);
            resolveWait(m);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `probe: no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages.map((m) => `${m.ext}:${m.kind}`))}`,
            ),
          );
        }, timeoutMs);
        listeners.add(check);
      }),
  };
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A layer whose extensions/<name> launchers run the probe extension with the given behaviour. */
export function probeLayer(extensions: Record<string, Record<string, unknown>>): string {
  const dir = tempDir('layer-');
  mkdirSync(join(dir, 'extensions'));
  for (const [name, config] of Object.entries(extensions)) {
    writeExecutable(
      join(dir, 'extensions', name),
      `#!/bin/sh\nexec node ${PROBE_EXTENSION} '${JSON.stringify(config).replaceAll("'", "'\\''")}' "$0"\n`,
    );
  }
  return dir;
}

export function writeExecutable(path: string, text: string, mode = 0o755): void {
  writeFileSync(path, text);
  chmodSync(path, mode);
}

/** Starts an environment that is always disposed after the test. */
export async function startEnv(config: LocalFunctionConfig): Promise<LambdaEnvironment> {
  const tmp = config.tmpDir ?? tempDir('lambda-tmp-');
  const env = await LambdaEnvironment.start({ ...config, tmpDir: tmp });
  cleanups.push(() => env.dispose());
  return env;
}

/** The ESM fixture function, which most conformance tests run. */
export const ESM_FUNCTION = { codeDir: fn('esm'), handler: 'index.handler' } as const;

/** Starts the ESM fixture function (or `config.codeDir`) without extensions. */
export function startFunction(config: Partial<LocalFunctionConfig> = {}): Promise<LambdaEnvironment> {
  return startEnv({ ...ESM_FUNCTION, ...config });
}

/**
 * Starts the ESM fixture function (or `config.codeDir`) with one layer of probe extensions, each
 * reporting to a fresh probe server: `extensions` maps a name to the probe's behaviour, minus the port.
 */
export async function startWithProbes(
  extensions: Record<string, Record<string, unknown>>,
  config: Partial<Omit<LocalFunctionConfig, 'layers'>> = {},
): Promise<{ env: LambdaEnvironment; probe: Probe }> {
  const probe = await probeServer();
  const reporting: Record<string, Record<string, unknown>> = {};
  for (const [name, behaviour] of Object.entries(extensions))
    reporting[name] = { probe: probe.port, ...behaviour };
  const env = await startEnv({ ...ESM_FUNCTION, ...config, layers: [probeLayer(reporting)] });
  return { env, probe };
}

/** The errorType of an API error body as a probe reported it. */
export const errorTypeOf = (reply: { body: string }): unknown =>
  (JSON.parse(reply.body) as { errorType?: unknown }).errorType;

export const types = (env: LambdaEnvironment, requestId?: string): string[] =>
  env.telemetry
    .filter((r) => {
      if (requestId === undefined) return true;
      const rec = r.record as { requestId?: string } | string;
      return typeof rec === 'object' && rec !== null && rec.requestId === requestId;
    })
    .map((r) => r.type);

/** The kernel's state letter of a process (`T` = stopped), from /proc/<pid>/stat. */
export const processState = (pid: number): string =>
  readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? '?';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
