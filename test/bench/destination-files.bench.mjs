// What a destination that loads only when selected costs when it is selected: the size of its file in
// the layer (otel-relay/destinations/<name>.js, client library inside) and the time Node takes to
// load it, in a fresh process with a clean environment (median and min of RUNS). The default
// configuration reads none of these files.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const dir = join(root, 'dist/layer/otel-relay/destinations');
const RUNS = 11;

function loadMs(file) {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    times.push(
      Number(execFileSync(process.execPath, ['-e', script], { env: { PATH: process.env.PATH ?? '' } })),
    );
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(RUNS / 2)], min: times[0] };
}

export async function run() {
  if (!existsSync(dir)) {
    return {
      name: 'destination-files',
      results: {},
      table: [{ destination: 'none in dist/layer (run npm run build:layer with destinations registered)' }],
    };
  }
  const results = {};
  const table = [];
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.js'))
    .sort()) {
    const name = f.slice(0, -3);
    const bytes = statSync(join(dir, f)).size;
    const ms = loadMs(join(dir, f));
    results[name] = { bytes, loadMsMedian: ms.median, loadMsMin: ms.min };
    table.push({
      destination: name,
      kib: Math.round(bytes / 102.4) / 10,
      'load ms (median)': Math.round(ms.median * 10) / 10,
      'load ms (min)': Math.round(ms.min * 10) / 10,
    });
  }
  return { name: 'destination-files', results, table };
}
