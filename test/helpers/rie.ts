import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ensureRie } from '../setup/peers/rie.mjs';
import { PeerProcess, pollUntil } from './peer-process.js';
import { freePort } from './ports.js';

const root = resolve(import.meta.dirname, '../..');

export interface RieOptions {
  /** The directory mounted at /opt (the layer: extensions/<name> and what they run). */
  layer: string;
  /** The function code (LAMBDA_TASK_ROOT). */
  codeDir: string;
  /** "file.export". */
  handler: string;
  /** Customer variables (the RIE hands them to the runtime and to extensions). */
  env?: Record<string, string>;
  /** Seconds (AWS_LAMBDA_FUNCTION_TIMEOUT). Default 10. */
  timeoutS?: number;
  startTimeoutMs?: number;
}

export interface RiePeer {
  /** The RIE's invoke endpoint (the one a container image exposes on 8080). */
  invokeUrl: string;
  /**
   * Invokes the function with a trace header (as Lambda's frontend always passes one); resolves with
   * the HTTP status and the body as the RIE returns it.
   */
  invoke(event: unknown, timeoutMs?: number): Promise<{ status: number; body: string }>;
  /** Everything the RIE, the runtime and the extensions wrote (they share the RIE's output). */
  logs(): string;
  waitForLogs(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** SIGTERM: the RIE resets the sandbox, which sends SHUTDOWN to extensions, then exits. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Whether this process may create a mount namespace (the RIE runs extensions from the fixed path
 * /opt/extensions, so the layer is bind-mounted there in a private namespace). Where it may not, the
 * RIE check cannot run here: startRie throws saying so (the test fails; it never skips).
 */
function mountNamespaceError(): string | undefined {
  const probe = spawnSync('unshare', ['--mount', '--propagation', 'private', 'true'], { encoding: 'utf8' });
  if (probe.error) return `unshare could not start: ${probe.error.message}`;
  if (probe.status !== 0) return `unshare --mount failed: ${probe.stderr.trim()}`;
  return undefined;
}

/**
 * Starts AWS's Runtime Interface Emulator (built on first use, see test/setup/peers/rie.mjs) on free
 * loopback ports, with `layer` at /opt in a private mount namespace and the local emulator's Node.js
 * runtime (dist/local/runtime.mjs, run by this node) as the bootstrap.
 */
export async function startRie(opts: RieOptions): Promise<RiePeer> {
  const binary = await ensureRie();
  const nsError = mountNamespaceError();
  if (nsError) {
    throw new Error(`rie: the layer must be at /opt/extensions, which needs a mount namespace: ${nsError}`);
  }
  const apiPort = await freePort();
  const riePort = await freePort();
  // Inside the namespace: mount the layer on /opt (only this process tree sees it), then become the RIE.
  const script = 'mount --bind "$0" /opt && exec "$@"';
  const proc = new PeerProcess({
    name: 'rie',
    command: 'unshare',
    args: [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      resolve(opts.layer),
      binary,
      '--log-level',
      'debug',
      '--runtime-api-address',
      `127.0.0.1:${apiPort}`,
      '--runtime-interface-emulator-address',
      `127.0.0.1:${riePort}`,
      // The bootstrap command; the RIE takes its last argument as the handler.
      process.execPath,
      join(root, 'dist/local/runtime.mjs'),
      opts.handler,
    ],
    cwd: opts.codeDir,
    env: {
      PATH: process.env.PATH ?? '',
      LAMBDA_TASK_ROOT: resolve(opts.codeDir),
      _HANDLER: opts.handler,
      AWS_LAMBDA_FUNCTION_NAME: 'rie-check',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_LAMBDA_FUNCTION_TIMEOUT: String(opts.timeoutS ?? 10),
      AWS_REGION: 'us-east-1',
      ...opts.env,
    },
  });
  const invokeUrl = `http://127.0.0.1:${riePort}/2015-03-31/functions/function/invocations`;
  // The RIE starts its servers without saying so; it is up when its invoke port accepts a connection.
  try {
    await pollUntil(
      `rie on port ${riePort}`,
      async () => {
        if (!proc.running) return true;
        return fetch(`http://127.0.0.1:${riePort}/`).then(
          () => true,
          () => false,
        );
      },
      { timeoutMs: opts.startTimeoutMs ?? 20_000 },
    );
    if (!proc.running) throw proc.failure('exited before it served invokes');
  } catch (err) {
    await proc.stop();
    throw proc.failure('did not start', err);
  }

  return {
    invokeUrl,
    async invoke(event, timeoutMs = 30_000) {
      const traceId = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Sampled=0`;
      const res = await fetch(invokeUrl, {
        method: 'POST',
        headers: { 'X-Amzn-Trace-Id': traceId },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: res.status, body: await res.text() };
    },
    logs: () => proc.logs(),
    async waitForLogs(pattern, timeoutMs) {
      await proc.waitForOutput(pattern, timeoutMs);
      return proc.logs();
    },
    stop: (timeoutMs) => proc.stop(timeoutMs),
  };
}
