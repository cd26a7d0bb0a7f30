#!/usr/bin/env node
// `npm run bench [-- --json] [-- --only name,name | --only=name,name]`: runs every test/bench/*.bench.mjs
// (or the named ones) and prints their results as one JSON document (--json) or as tables. Each bench
// module exports
//   export async function run(): Promise<{ name: string, results: object, table: Array<Record<string, unknown>> }>
// `results` is the machine-readable part; `table` rows are what a person reads. Benches measure and report:
// they never pass or fail on a number.
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));

/** Bench names: the files test/bench/<name>.bench.mjs. */
export function benchNames() {
  return readdirSync(here)
    .filter((f) => f.endsWith('.bench.mjs'))
    .map((f) => f.replace(/\.bench\.mjs$/, ''))
    .sort();
}

/**
 * The runner's arguments. `--only` takes a comma-separated list in either form (`--only a,b` or
 * `--only=a,b`, repeatable); a name that is not a bench is an error rather than a silent empty run.
 * @returns {{ json: boolean, names: string[] }}
 */
export function parseBenchArgs(argv, available = benchNames()) {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, only: { type: 'string', multiple: true } },
    strict: true,
  });
  if (values.only === undefined) return { json: values.json === true, names: available };
  const wanted = values.only
    .flatMap((v) => v.split(','))
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const unknown = wanted.filter((n) => !available.includes(n));
  if (unknown.length > 0 || wanted.length === 0) {
    throw new Error(
      `--only ${values.only.join(',')}: ${unknown.length > 0 ? `no bench named ${unknown.join(', ')}` : 'no names'}; ` +
        `benches: ${available.join(', ')}`,
    );
  }
  return { json: values.json === true, names: available.filter((n) => wanted.includes(n)) };
}

async function main() {
  let args;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${err.message}`);
    return 2;
  }
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
  for (const name of args.names) {
    const mod = await import(pathToFileURL(join(here, `${name}.bench.mjs`)).href);
    const started = Date.now();
    const out = await mod.run();
    doc.benches[out.name] = { ...out.results, wallMs: Date.now() - started };
    if (!args.json) {
      console.log(`\n## ${out.name}`);
      console.table(out.table);
    }
  }
  if (args.json) console.log(JSON.stringify(doc, null, 2));
  else if (args.names.length === 0) console.log('no benchmarks found in test/bench/*.bench.mjs');
  return 0;
}

// Run only as the entry point, so tests can import the argument parser.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await main();
