// Extension cold start: time from launching dist/layer/extensions/otel-relay to its first
// event/next (what Lambda waits for before Init can end), and its RSS at that moment, against
// `node -e 0` (the floor of any Node.js extension). Uses a minimal in-process Extensions +
// Telemetry API so only the extension's own work is measured.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const launcher = join(root, 'dist/layer/extensions/otel-relay');
const RUNS = Number(process.env.BENCH_COLDSTART_RUNS ?? 15);

function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** A fake Lambda API that resolves when the first event/next arrives, then sends SHUTDOWN. */
async function fakeApi(onFirstNext) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.endsWith('/extension/register')) {
        res
          .writeHead(200, { 'lambda-extension-identifier': '11111111-2222-3333-4444-555555555555' })
          .end('{}');
      } else if (req.url?.endsWith('/telemetry')) {
        res.writeHead(200).end('"OK"');
      } else if (req.url?.endsWith('/event/next')) {
        onFirstNext();
        res.writeHead(200).end(
          JSON.stringify({
            eventType: 'SHUTDOWN',
            shutdownReason: 'spindown',
            deadlineMs: Date.now() + 2000,
          }),
        );
      } else res.writeHead(404).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: server.address().port };
}

async function launchOnce() {
  let firstNext;
  const reached = new Promise((r) => {
    firstNext = r;
  });
  let pid = 0;
  let rss;
  const { server, port } = await fakeApi(() => {
    rss ??= rssKb(pid);
    firstNext(performance.now());
  });
  const t0 = performance.now();
  const child = spawn(launcher, [], {
    env: {
      PATH: process.env.PATH,
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
      OTEL_RELAY_HTTP_PORT: '0',
      OTEL_RELAY_GRPC_PORT: '0',
      OTEL_RELAY_SELF_TELEMETRY: 'false',
      OTEL_RELAY_LOG_LEVEL: 'off',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    },
    stdio: 'ignore',
  });
  pid = child.pid;
  const exited = new Promise((r) => child.on('exit', r));
  const t1 = await Promise.race([reached, new Promise((r) => setTimeout(() => r(undefined), 10_000))]);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  child.kill('SIGKILL');
  server.close();
  return { ms: t1 === undefined ? undefined : t1 - t0, rssMb: rss === undefined ? undefined : rss / 1024 };
}

async function nodeFloorOnce() {
  const t0 = performance.now();
  const out = await new Promise((resolve) => {
    const c = spawn(process.execPath, ['-e', 'process.stdout.write(String(process.memoryUsage().rss))'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let s = '';
    c.stdout.on('data', (d) => {
      s += d;
    });
    c.on('exit', () => resolve(s));
  });
  return { ms: performance.now() - t0, rssMb: Number(out) / 1024 / 1024 };
}

const pct = (xs, p) => {
  const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] * 10) / 10 : null;
};

export async function run() {
  const ext = [];
  const floor = [];
  for (let i = 0; i < RUNS; i++) {
    floor.push(await nodeFloorOnce());
    ext.push(await launchOnce());
  }
  const results = {
    runs: RUNS,
    extensionFirstNextMs: {
      p50: pct(
        ext.map((x) => x.ms),
        50,
      ),
      p90: pct(
        ext.map((x) => x.ms),
        90,
      ),
    },
    extensionRssMb: {
      p50: pct(
        ext.map((x) => x.rssMb),
        50,
      ),
    },
    nodeFloorMs: {
      p50: pct(
        floor.map((x) => x.ms),
        50,
      ),
      p90: pct(
        floor.map((x) => x.ms),
        90,
      ),
    },
    nodeFloorRssMb: {
      p50: pct(
        floor.map((x) => x.rssMb),
        50,
      ),
    },
  };
  results.overFloorMs = Math.round((results.extensionFirstNextMs.p50 - results.nodeFloorMs.p50) * 10) / 10;
  results.overFloorRssMb = Math.round((results.extensionRssMb.p50 - results.nodeFloorRssMb.p50) * 10) / 10;
  return {
    name: 'coldstart',
    results,
    table: [
      {
        what: 'node -e 0 (floor)',
        p50Ms: results.nodeFloorMs.p50,
        p90Ms: results.nodeFloorMs.p90,
        rssMb: results.nodeFloorRssMb.p50,
      },
      {
        what: 'otel-relay launch → first next',
        p50Ms: results.extensionFirstNextMs.p50,
        p90Ms: results.extensionFirstNextMs.p90,
        rssMb: results.extensionRssMb.p50,
      },
      {
        what: 'difference (goal ≤ 15 ms, ≤ 15 MB)',
        p50Ms: results.overFloorMs,
        p90Ms: '',
        rssMb: results.overFloorRssMb,
      },
    ],
  };
}
