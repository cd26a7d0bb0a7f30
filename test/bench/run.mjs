#!/usr/bin/env node
// `npm run bench [-- --json] [-- --only name,name]`: runs every test/bench/*.bench.mjs and prints their
// results as one JSON document (--json) or as tables. Each bench module exports
//   export async function run(): Promise<{ name: string, results: object, table: Array<Record<string, unknown>> }>
// `results` is the machine-readable part; `table` rows are what a person reads. Benches measure and report:
// they never pass or fail on a number.
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const json = process.argv.includes('--json');
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.slice('--only='.length).split(',')) : undefined;

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => !only || only.has(f.replace(/\.bench\.mjs$/, '')))
  .sort();

const doc = {
  machine: {
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    platform: `${os.platform()}-${os.arch()}`,
  },
  startedAt: new Date().toISOString(),
  benches: {},
};

for (const f of files) {
  const mod = await import(pathToFileURL(join(here, f)).href);
  const started = Date.now();
  const out = await mod.run();
  doc.benches[out.name] = { ...out.results, wallMs: Date.now() - started };
  if (!json) {
    console.log(`\n## ${out.name}`);
    console.table(out.table);
  }
}

if (json) console.log(JSON.stringify(doc, null, 2));
else if (files.length === 0) console.log('no benchmarks found in test/bench/*.bench.mjs');
