// OTLP/HTTP from the function to the extension over loopback TCP against a Unix domain socket in /tmp:
// the function-side request latency (keep-alive, 4 KiB protobuf-sized body) and the CPU per request of
// each side, the receiver in its own process as in Lambda. Alternated rounds, medians with min-max.
// It decides whether a socket next to 4317/4318 is worth adding.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROUNDS = Number(process.env.BENCH_TRANSPORT_ROUNDS ?? 6);
const REQUESTS = Number(process.env.BENCH_TRANSPORT_REQUESTS ?? 2000);
const body = Buffer.alloc(4096, 7);

const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => { Buffer.concat(chunks); res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(); });
});
const where = process.argv[1];
const ready = () => process.stdout.write(JSON.stringify(server.address()) + '\\n');
if (where === 'tcp') server.listen(0, '127.0.0.1', ready); else server.listen(where, ready);
`;

const cpuMs = (pid) => {
  const [utime, stime] = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ').slice(11, 13);
  return (Number(utime) + Number(stime)) * 10;
};

async function round(kind) {
  const sock = join(tmpdir(), `otel-relay-bench-${process.pid}.sock`);
  rmSync(sock, { force: true });
  const child = spawn(process.execPath, ['-e', SERVER, kind === 'tcp' ? 'tcp' : sock], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const address = await new Promise((resolve) =>
    child.stdout.once('data', (d) => resolve(JSON.parse(String(d)))),
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const target = kind === 'tcp' ? { host: '127.0.0.1', port: address.port } : { socketPath: sock };
  const post = () =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          ...target,
          agent,
          method: 'POST',
          path: '/v1/traces',
          headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
        },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  for (let i = 0; i < 200; i++) await post();
  const latencies = [];
  const client0 = process.cpuUsage();
  const server0 = cpuMs(child.pid);
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    await post();
    latencies.push(performance.now() - t);
  }
  const client = process.cpuUsage(client0);
  const server = cpuMs(child.pid) - server0;
  agent.destroy();
  child.kill();
  rmSync(sock, { force: true });
  latencies.sort((a, b) => a - b);
  return {
    p50Us: latencies[latencies.length >> 1] * 1000,
    p99Us: latencies[Math.floor(latencies.length * 0.99)] * 1000,
    clientCpuUs: (client.user + client.system) / REQUESTS,
    serverCpuUs: (server * 1000) / REQUESTS,
  };
}

const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const r = (x) => Math.round(x * 10) / 10;
  return { median: r(s[s.length >> 1]), min: r(s[0]), max: r(s.at(-1)) };
};

export async function run() {
  const samples = { tcp: [], unix: [] };
  for (let i = 0; i < ROUNDS; i++)
    for (const k of i % 2 ? ['unix', 'tcp'] : ['tcp', 'unix']) samples[k].push(await round(k));
  const results = {};
  for (const k of ['tcp', 'unix']) {
    results[k] = Object.fromEntries(
      ['p50Us', 'p99Us', 'clientCpuUs', 'serverCpuUs'].map((m) => [m, stat(samples[k].map((x) => x[m]))]),
    );
  }
  const cell = (s) => `${s.median} (${s.min}–${s.max})`;
  return {
    name: 'transport',
    results: { rounds: ROUNDS, requests: REQUESTS, bodyBytes: body.length, ...results },
    table: ['tcp', 'unix'].map((k) => ({
      transport: k === 'tcp' ? 'loopback TCP' : 'Unix socket in /tmp',
      'request p50 µs': cell(results[k].p50Us),
      'request p99 µs': cell(results[k].p99Us),
      'function CPU µs/request': cell(results[k].clientCpuUs),
      'receiver CPU µs/request': cell(results[k].serverCpuUs),
    })),
  };
}
