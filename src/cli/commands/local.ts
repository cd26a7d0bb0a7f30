// `lambda-otel-relay local`: run a handler and layers in the local Lambda emulator.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type LocalRunOptions, runLocal } from '../../local/index.js';
import { UsageError } from '../usage.js';

const USAGE = `usage: lambda-otel-relay local --code <dir> --handler <file.export> [options]

  --code <dir>            the function code (LAMBDA_TASK_ROOT)
  --handler <file.export> e.g. index.handler (ESM .mjs / type:module, or CommonJS)
  --layer <dir>           a layer directory laid over /opt (repeatable, in order)
  --event <file>          JSON event for every invocation (default {})
  --count <n>             number of invocations (default 1)
  --interval-ms <ms>      pause between invocations; the environment stays frozen (default 0)
  --timeout-ms <ms>       function timeout (default 3000)
  --memory-mb <mb>        memory size reported to the function (default 128)
  --env <K=V>             customer environment variable (repeatable)
  --mode <mode>           on-demand (default), managed-instances or snap-start
  --snapshot-ms <ms>      snap-start only: how long the snapshot stops every process before the
                          restore (default 1000)
  --max-concurrency <n>   managed-instances only: concurrent invocations (default 4)
  --node <path>           node binary for the runtime and extensions (default: this node)
  --tmp-dir <dir>         the environment's /tmp, kept after the run (default: a temporary one)
  --cost-model <model>    lambda (default): CPU in proportion to memory (1,769 MB = 1 vCPU; Init on up
                          to 2 vCPUs), the memory size enforced, Max Memory Used from the cgroup;
                          none: full speed
  --cpu-period-ms <ms>    the CPU quota's period under the cost model (default 20)
  --network <mode>        host (default: the host's network, private /opt, /tmp and /etc/hosts) or
                          isolated (its own network; the host is $OTEL_RELAY_EMULATOR_HOST inside)
  --json                  one JSON object per line on stdout (invocations, then the shutdown)
  --timeline <file.svg>   draw each invocation's phases (init, runtime, post-runtime, frozen) and the
                          relay's flushes, exports and spills on one time axis (OTEL_RELAY_LOG_LEVEL=debug
                          for every flush and export, not only the ones that log by default)

Function and extension output goes to stderr, labelled; stdout carries only results.
Exit code: 0 when every invocation succeeded, 1 otherwise, 2 for a usage error.`;

function positiveInt(name: string, value: string | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new UsageError(
      `--${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got "${value}"`,
    );
  }
  return n;
}

export function parseLocalArgs(argv: string[]): LocalRunOptions | 'help' {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${USAGE}`, { cause: err });
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (!v.code) throw new UsageError(`--code is required\n\n${USAGE}`);
  if (!v.handler) throw new UsageError(`--handler is required\n\n${USAGE}`);
  const mode = v.mode ?? 'on-demand';
  if (mode !== 'on-demand' && mode !== 'managed-instances' && mode !== 'snap-start') {
    throw new UsageError(`--mode must be on-demand, managed-instances or snap-start, got "${mode}"`);
  }
  if (v['snapshot-ms'] !== undefined && mode !== 'snap-start') {
    throw new UsageError(`--snapshot-ms applies to --mode snap-start only (the mode is ${mode})`);
  }
  const costModel = v['cost-model'] ?? 'lambda';
  if (costModel !== 'lambda' && costModel !== 'none') {
    throw new UsageError(`--cost-model must be lambda or none, got "${costModel}"`);
  }
  const network = v.network ?? 'host';
  if (network !== 'host' && network !== 'isolated') {
    throw new UsageError(`--network must be host or isolated, got "${network}"`);
  }
  const env: Record<string, string> = {};
  for (const kv of v.env ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env expects K=V, got "${kv}"`);
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  let event: unknown = {};
  if (v.event) {
    let text: string;
    try {
      text = readFileSync(v.event, 'utf8');
    } catch (err) {
      throw new UsageError(`--event ${v.event} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    try {
      event = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`--event ${v.event} is not JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  const options: LocalRunOptions = {
    codeDir: v.code,
    handler: v.handler,
    layers: v.layer ?? [],
    event,
    count: positiveInt('count', v.count, 1),
    intervalMs: positiveInt('interval-ms', v['interval-ms'], 0, true),
    timeoutMs: positiveInt('timeout-ms', v['timeout-ms'], 3_000),
    memoryMb: positiveInt('memory-mb', v['memory-mb'], 128),
    env,
    mode,
    json: v.json ?? false,
    costModel,
    network,
  };
  if (v['cpu-period-ms'] !== undefined) {
    if (costModel === 'none') throw new UsageError('--cpu-period-ms applies to --cost-model lambda only');
    options.cpuPeriodMs = positiveInt('cpu-period-ms', v['cpu-period-ms'], 20);
  }
  if (v['snapshot-ms'] !== undefined)
    options.snapStart = { snapshotMs: positiveInt('snapshot-ms', v['snapshot-ms'], 1_000, true) };
  if (v['max-concurrency'] !== undefined)
    options.maxConcurrency = positiveInt('max-concurrency', v['max-concurrency'], 4);
  if (v.node) options.nodePath = v.node;
  if (v['tmp-dir']) options.tmpDir = v['tmp-dir'];
  return options;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      code: { type: 'string' },
      handler: { type: 'string' },
      layer: { type: 'string', multiple: true },
      event: { type: 'string' },
      count: { type: 'string' },
      'interval-ms': { type: 'string' },
      'timeout-ms': { type: 'string' },
      'memory-mb': { type: 'string' },
      env: { type: 'string', multiple: true },
      mode: { type: 'string' },
      'snapshot-ms': { type: 'string' },
      'max-concurrency': { type: 'string' },
      node: { type: 'string' },
      'tmp-dir': { type: 'string' },
      'cost-model': { type: 'string' },
      'cpu-period-ms': { type: 'string' },
      network: { type: 'string' },
      json: { type: 'boolean' },
      timeline: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** `--timeline <file.svg>`, checked before the run so a bad path fails before anything starts. */
export function timelinePath(argv: string[]): string | undefined {
  const path = parse(argv).values.timeline;
  if (path === undefined) return undefined;
  if (!path.endsWith('.svg')) throw new UsageError(`--timeline ${path} must name an .svg file`);
  return path;
}

export async function run(argv: string[]): Promise<number> {
  const options = parseLocalArgs(argv);
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const timeline = timelinePath(argv);
  // Loaded only when asked for: a plain run does not pay for the SVG writer.
  const recorder = timeline ? new (await import('../timeline/index.js')).TimelineRecorder() : undefined;
  const code = await runLocal(
    recorder
      ? {
          ...options,
          onOutput: (line) => {
            recorder.onOutput(line);
            options.onOutput?.(line);
          },
          onInvocation: (result, i) => {
            recorder.onInvocation(result, i);
            options.onInvocation?.(result, i);
          },
        }
      : options,
    {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
    },
  );
  if (timeline && recorder) {
    const { renderTimeline } = await import('../timeline/index.js');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(timeline, renderTimeline(recorder.model()));
    process.stderr.write(`timeline: ${timeline}\n`);
  }
  return code;
}
