// Extension cold start: from launching the extension to its `register` (what holds the runtime's start)
// and to its first event/next (what Init waits for), with its main-thread CPU and RSS at that moment,
// against `node -e 0` (the floor of any Node.js extension) started with the same environment. Variants
// run in alternation, so a noisy machine affects them alike; each reports the median and its spread.
// Uses a minimal in-process Extensions + Telemetry API so only the extension's own work is measured.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const launcher = join(root, 'dist/layer/extensions/otel-relay');
const bundle = join(root, 'dist/layer/otel-relay/extension.js');
const RUNS = Number(process.env.BENCH_COLDSTART_RUNS ?? 15);

/**
 * What is compared. The launcher rows are what Lambda runs; the `node …` rows start the bundle without
 * the launcher (node registers itself), to measure one Node flag or setting at a time against the same
 * start. BENCH_COLDSTART_VARIANTS=name,name selects rows.
 */
const VARIANTS = [
  { what: 'node -e 0 (floor)', floor: true },
  { what: 'otel-relay (launcher registers)', command: launcher, args: [] },
  {
    what: 'otel-relay (node registers)',
    command: launcher,
    args: [],
    env: { OTEL_RELAY_LAUNCHER_REGISTER: 'false' },
  },
];
// BENCH_COLDSTART_BASELINE=<a dist/layer directory built from another commit>: its launcher runs as one
// more row, alternated with this build's, for before/after numbers of one change.
const baseline = process.env.BENCH_COLDSTART_BASELINE;
if (baseline)
  VARIANTS.push({ what: `baseline ${baseline}`, command: join(baseline, 'extensions/otel-relay'), args: [] });
/** Flag rows for `BENCH_COLDSTART_FLAGS=1`: each against the same bundle without flags. */
const FLAG_VARIANTS = [
  { what: 'node extension.js', command: process.execPath, args: [bundle] },
  {
    what: 'node --max-semi-space-size=1',
    command: process.execPath,
    args: ['--max-semi-space-size=1', bundle],
  },
  { what: 'node --v8-pool-size=0', command: process.execPath, args: ['--v8-pool-size=0', bundle] },
  { what: 'node --no-lazy', command: process.execPath, args: ['--no-lazy', bundle] },
  { what: 'node --max-lazy', command: process.execPath, args: ['--max-lazy', bundle] },
  { what: 'node --single-threaded', command: process.execPath, args: ['--single-threaded', bundle] },
  { what: 'node --no-opt', command: process.execPath, args: ['--no-opt', bundle] },
];

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

/** A fake Lambda API: notes when register and the first event/next arrive, then sends SHUTDOWN. */
async function fakeApi(onRegister, onFirstNext) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.endsWith('/extension/register')) {
        onRegister();
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

/**
 * The environment both the extension and the floor start with. Nothing is inherited from the caller:
 * a variable such as NODE_EXTRA_CA_CERTS costs every Node start tens of ms, and the floor must pay
 * exactly what the extension pays.
 */
function launchEnv(port) {
  return {
    PATH: process.env.PATH,
    AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
    OTEL_RELAY_HTTP_PORT: '0',
    OTEL_RELAY_GRPC_PORT: '0',
    OTEL_RELAY_SELF_TELEMETRY: 'false',
    OTEL_RELAY_LOG_LEVEL: 'off',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
  };
}

async function launchOnce(v) {
  let firstNext;
  const reached = new Promise((r) => {
    firstNext = r;
  });
  let pid = 0;
  let rss;
  let cpu;
  let registeredAt;
  const { server, port } = await fakeApi(
    () => {
      registeredAt ??= performance.now();
    },
    () => {
      rss ??= rssKb(pid);
      cpu ??= cpuMs(pid);
      firstNext(performance.now());
    },
  );
  const t0 = performance.now();
  const child = spawn(v.command, v.args, { env: { ...launchEnv(port), ...v.env }, stdio: 'ignore' });
  pid = child.pid;
  const exited = new Promise((r) => child.on('exit', r));
  const t1 = await Promise.race([reached, new Promise((r) => setTimeout(() => r(undefined), 10_000))]);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  child.kill('SIGKILL');
  server.close();
  return {
    registerMs: registeredAt === undefined ? undefined : registeredAt - t0,
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
    const c = spawn(process.execPath, ['-e', script], {
      env: launchEnv(9),
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let s = '';
    c.stdout.on('data', (d) => {
      s += d;
    });
    c.on('exit', () => resolve(s));
  });
  const parsed = JSON.parse(out);
  return { ms: performance.now() - t0, rssMb: parsed.rss / 1024 / 1024, cpuMs: parsed.cpu };
}

const round = (x) => (x === undefined || x === null ? null : Math.round(x * 10) / 10);
/** Median with min-max spread. */
function stat(xs) {
  const s = xs.filter((x) => x !== undefined).sort((a, b) => a - b);
  if (s.length === 0) return { p50: null, min: null, max: null };
  return { p50: round(s[Math.floor((s.length - 1) / 2)]), min: round(s[0]), max: round(s.at(-1)) };
}

export async function run() {
  const all = process.env.BENCH_COLDSTART_FLAGS === '1' ? [VARIANTS[0], ...FLAG_VARIANTS] : VARIANTS;
  const wanted = process.env.BENCH_COLDSTART_VARIANTS?.split(',');
  const variants = wanted ? all.filter((v, i) => i === 0 || wanted.some((w) => v.what.includes(w))) : all;
  const samples = variants.map(() => []);
  for (let i = 0; i < RUNS; i++) {
    // Alternated, and the order rotated each round, so neither side always runs first.
    for (let k = 0; k < variants.length; k++) {
      const j = (k + i) % variants.length;
      const v = variants[j];
      samples[j].push(v.floor ? await nodeFloorOnce() : await launchOnce(v));
    }
  }
  const floor = {
    ms: stat(samples[0].map((x) => x.ms)),
    cpuMs: stat(samples[0].map((x) => x.cpuMs)),
    rssMb: stat(samples[0].map((x) => x.rssMb)),
  };
  const rows = variants.map((v, j) => {
    const xs = samples[j];
    const r = {
      what: v.what,
      registerMs: v.floor ? null : stat(xs.map((x) => x.registerMs)),
      firstNextMs: stat(xs.map((x) => x.ms)),
      cpuMs: stat(xs.map((x) => x.cpuMs)),
      rssMb: stat(xs.map((x) => x.rssMb)),
    };
    if (!v.floor) {
      r.overFloorMs = round(r.firstNextMs.p50 - floor.ms.p50);
      r.overFloorCpuMs = round(r.cpuMs.p50 - floor.cpuMs.p50);
      r.overFloorRssMb = round(r.rssMb.p50 - floor.rssMb.p50);
    }
    return r;
  });
  const spread = (s) => (s ? `${s.p50} (${s.min}–${s.max})` : '');
  return {
    name: 'coldstart',
    results: { runs: RUNS, node: process.version, variants: rows },
    table: rows.map((r) => ({
      what: r.what,
      'register ms': spread(r.registerMs),
      'first next ms': spread(r.firstNextMs),
      'CPU ms': spread(r.cpuMs),
      'RSS MB': spread(r.rssMb),
      'over floor (ms, CPU ms, MB)':
        r.overFloorMs === undefined ? '' : `${r.overFloorMs}, ${r.overFloorCpuMs}, ${r.overFloorRssMb}`,
    })),
  };
}
