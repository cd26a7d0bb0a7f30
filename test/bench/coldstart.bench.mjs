// Extension cold start: time from launching dist/layer/extensions/otel-relay to its first
// event/next (what Lambda waits for before Init can end), and its RSS at that moment, against
// `node -e 0` (the floor of any Node.js extension). Uses a minimal in-process Extensions +
// Telemetry API so only the extension's own work is measured.
// The floor and the extension start with the same environment and the same node binary: an inherited
// variable such as NODE_EXTRA_CA_CERTS costs tens of ms per Node start, and must not sit on one side.
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import http from 'node:http';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const launcher = join(root, 'dist/layer/extensions/otel-relay');
const RUNS = Number(process.env.BENCH_COLDSTART_RUNS ?? 15);

/** The environment both sides start with: what the extension needs, nothing inherited beyond PATH. */
function launchEnv(apiPort) {
  return {
    PATH: process.env.PATH ?? '',
    AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${apiPort}`,
    OTEL_RELAY_HTTP_PORT: '0',
    OTEL_RELAY_GRPC_PORT: '0',
    OTEL_RELAY_SELF_TELEMETRY: 'false',
    OTEL_RELAY_LOG_LEVEL: 'off',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
  };
}

/** The node the launcher execs (`node` on PATH), so the floor runs the same binary. */
function nodeOnPath() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'node');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this PATH entry.
    }
  }
  throw new Error('coldstart bench: no node on PATH, which the extension launcher execs');
}

/** CPU time of the process's main thread in ms (/proc/<pid>/schedstat): robust to a loaded machine. */
function cpuMs(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

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
  let cpu;
  const { server, port } = await fakeApi(() => {
    rss ??= rssKb(pid);
    cpu ??= cpuMs(pid);
    firstNext(performance.now());
  });
  const t0 = performance.now();
  const child = spawn(launcher, [], { env: launchEnv(port), stdio: 'ignore' });
  pid = child.pid;
  const exited = new Promise((r) => child.on('exit', r));
  const t1 = await Promise.race([reached, new Promise((r) => setTimeout(() => r(undefined), 10_000))]);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  child.kill('SIGKILL');
  server.close();
  return {
    ms: t1 === undefined ? undefined : t1 - t0,
    rssMb: rss === undefined ? undefined : rss / 1024,
    cpuMs: cpu,
  };
}

async function nodeFloorOnce() {
  const t0 = performance.now();
  const out = await new Promise((resolve) => {
    const script =
      "const fs=require('fs');process.stdout.write(JSON.stringify({rss:process.memoryUsage().rss,cpu:Number(fs.readFileSync('/proc/self/schedstat','utf8').split(' ')[0])/1e6}))";
    // Port 9 (discard): the floor never calls the API, it only needs the same variables.
    const c = spawn(nodeOnPath(), ['-e', script], { env: launchEnv(9), stdio: ['ignore', 'pipe', 'ignore'] });
    let s = '';
    c.stdout.on('data', (d) => {
      s += d;
    });
    c.on('exit', () => resolve(s));
  });
  const parsed = JSON.parse(out);
  return { ms: performance.now() - t0, rssMb: parsed.rss / 1024 / 1024, cpuMs: parsed.cpu };
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
  const stat = (xs, key) => ({
    p50: pct(
      xs.map((x) => x[key]),
      50,
    ),
    p90: pct(
      xs.map((x) => x[key]),
      90,
    ),
  });
  const diff = (a, b) => Math.round((a - b) * 10) / 10;
  const results = {
    runs: RUNS,
    extensionFirstNextMs: stat(ext, 'ms'),
    extensionCpuMs: stat(ext, 'cpuMs'),
    extensionRssMb: stat(ext, 'rssMb'),
    nodeFloorMs: stat(floor, 'ms'),
    nodeFloorCpuMs: stat(floor, 'cpuMs'),
    nodeFloorRssMb: stat(floor, 'rssMb'),
  };
  results.overFloorMs = diff(results.extensionFirstNextMs.p50, results.nodeFloorMs.p50);
  results.overFloorCpuMs = diff(results.extensionCpuMs.p50, results.nodeFloorCpuMs.p50);
  results.overFloorRssMb = diff(results.extensionRssMb.p50, results.nodeFloorRssMb.p50);
  const row = (what, ms, cpu, rss) => ({
    what,
    wallP50Ms: ms.p50,
    wallP90Ms: ms.p90,
    mainThreadCpuP50Ms: cpu.p50,
    rssP50Mb: rss.p50,
  });
  results.node = nodeOnPath();
  results.environment = Object.keys(launchEnv(0));
  return {
    name: 'coldstart',
    results,
    table: [
      row('node -e 0 (floor)', results.nodeFloorMs, results.nodeFloorCpuMs, results.nodeFloorRssMb),
      row(
        'otel-relay launch → first next',
        results.extensionFirstNextMs,
        results.extensionCpuMs,
        results.extensionRssMb,
      ),
      {
        what: 'difference (goals: ≤ 15 ms wall and CPU, ≤ 5 MB)',
        wallP50Ms: results.overFloorMs,
        wallP90Ms: '',
        mainThreadCpuP50Ms: results.overFloorCpuMs,
        rssP50Mb: results.overFloorRssMb,
      },
    ],
  };
}
