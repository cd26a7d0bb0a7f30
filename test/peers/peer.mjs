#!/usr/bin/env node
// Runs a test peer by hand, in the foreground, from the same cache the tests use (building it first
// if needed). Ctrl-C stops it.
//   node test/peers/peer.mjs paths                           where every prepared peer lives (JSON)
//   node test/peers/peer.mjs collector [HTTP_PORT GRPC_PORT]  OTLP in, every item printed (debug, detailed)
//   node test/peers/peer.mjs moto [PORT]                      S3 (and the rest of moto) on 127.0.0.1
// Ports default to 0 for moto (it prints the one it got) and to 4318/4317 for the collector, which
// cannot report a port it chose itself.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCollector, ensureNodeBinary, ensurePythonVenv } from '../setup/peers.mjs';

const [what, ...rest] = process.argv.slice(2);

function run(command, args) {
  const child = spawn(command, args, { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (what === 'paths') {
  const venv = await ensurePythonVenv({ verbose: true });
  const out = {
    collector: await ensureCollector({ verbose: true }),
    motoServer: venv.motoServer,
    python: venv.python,
    node20: await ensureNodeBinary(20),
    node22: await ensureNodeBinary(22, { verbose: true }),
    node24: await ensureNodeBinary(24, { verbose: true }),
  };
  console.log(JSON.stringify(out, null, 2));
} else if (what === 'collector') {
  const [http = '4318', grpc = '4317'] = rest;
  const binary = await ensureCollector({ verbose: true });
  const config = join(mkdtempSync(join(tmpdir(), 'otelcol-manual-')), 'config.yaml');
  writeFileSync(
    config,
    `receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:${http}" }
      grpc: { endpoint: "127.0.0.1:${grpc}" }
exporters:
  debug: { verbosity: detailed }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
    metrics: { receivers: [otlp], exporters: [debug] }
    logs: { receivers: [otlp], exporters: [debug] }
`,
  );
  console.error(
    `peer: collector on http://127.0.0.1:${http} (OTLP/HTTP) and 127.0.0.1:${grpc} (gRPC); config ${config}`,
  );
  run(binary, ['--config', config]);
} else if (what === 'moto') {
  const venv = await ensurePythonVenv({ verbose: true });
  run(venv.motoServer, ['-H', '127.0.0.1', '-p', rest[0] ?? '0']);
} else {
  console.error('usage: node test/peers/peer.mjs paths | collector [HTTP_PORT GRPC_PORT] | moto [PORT]');
  process.exit(2);
}
