import { ensurePythonVenv } from '../setup/peers.mjs';
import { PeerProcess, pollUntil } from './peer-process.js';

/** A real moto server (S3 and the other AWS APIs it emulates) on a free loopback port. */
export interface MotoServer {
  /** `http://127.0.0.1:PORT`. */
  endpoint: string;
  region: string;
  /**
   * AWS_* variables that point an AWS SDK client at this server with dummy credentials. The JS SDK
   * has no variable for path-style S3 addressing: clients must set `forcePathStyle: true` themselves.
   */
  env: Record<string, string>;
  /** Forgets every bucket and object (moto's reset API), for reusing one server across tests. */
  reset(): Promise<void>;
  stop(): Promise<void>;
  /** Sends a signal without waiting, to test how others cope with S3 vanishing. */
  kill(signal?: NodeJS.Signals): void;
  logs(): string;
}

export interface MotoServerOptions {
  region?: string;
  /** How long to wait for the server to answer; the first start after a cold venv is slower. */
  startTimeoutMs?: number;
}

/**
 * Starts moto_server from the project's cached venv (created on first use) on an ephemeral port
 * and waits, with a deadline, until it answers HTTP.
 */
export async function startMotoServer(opts: MotoServerOptions = {}): Promise<MotoServer> {
  const region = opts.region ?? 'us-east-1';
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  const venv = await ensurePythonVenv();
  // Port 0: the OS picks a free port and werkzeug prints the one it bound, so no port can clash.
  const proc = new PeerProcess({
    name: 'moto',
    command: venv.motoServer,
    args: ['-H', '127.0.0.1', '-p', '0'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let endpoint: string;
  try {
    const m = await proc.waitForOutput(/Running on (http:\/\/127\.0\.0\.1:\d+)/, timeoutMs);
    endpoint = m[1] as string;
    await pollUntil(
      `moto at ${endpoint}`,
      async () => (await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2_000) })).ok,
      { timeoutMs },
    );
  } catch (err) {
    await proc.stop();
    throw err instanceof Error && err.message.startsWith('moto') ? err : proc.failure('did not start', err);
  }
  const env: Record<string, string> = {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: 'testing',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ENDPOINT_URL_S3: endpoint,
    // Nothing here may wander off to the instance metadata service looking for credentials.
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  return {
    endpoint,
    region,
    env,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, {
        method: 'POST',
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw proc.failure(`reset answered HTTP ${res.status}`);
    },
    stop: () => proc.stop(),
    kill: (signal) => proc.kill(signal),
    logs: () => proc.logs(),
  };
}
