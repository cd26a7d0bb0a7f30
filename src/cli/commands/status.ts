// `lambda-otel-relay status`: which functions run the relay, which version, with what settings.

import { parseLayerVersionArn } from '../lambda/arn.js';
import {
  type CommandDeps,
  parse,
  processIo,
  regionOption,
  selectorFrom,
  selectorOptions,
} from '../lambda/cli.js';
import { hasSelector, selectFunctions } from '../lambda/functions.js';
import { DEFAULT_LAYER_NAME } from '../lambda/layers.js';
import { type FunctionState, relayLayerMatcher } from '../lambda/plan.js';
import { openSession } from '../lambda/session.js';
import { displayValue, RELAY_ENV } from '../lambda/settings.js';
import { UsageError } from '../usage.js';

const HELP = `usage: lambda-otel-relay status [FUNCTION...] [options]

A table of functions (default: every function in the region) with the relay layer version they run
and the relay settings. Header values are never printed, nor credentials inside endpoint URLs.

  FUNCTION, -f, --function NAME|ARN, --prefix PREFIX, --tag KEY=VALUE   narrow the list
  --attached           only functions that have the relay layer
  --layer-name NAME    the relay layer's name (default: ${DEFAULT_LAYER_NAME})
  --json               one JSON document instead of the table
  --region REGION      AWS region (default: AWS_REGION / profile)`;

const options = {
  ...regionOption,
  ...selectorOptions,
  attached: { type: 'boolean' },
  'layer-name': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export interface FunctionStatus {
  function: string;
  runtime: string;
  layer: string | null;
  layerVersion: number | null;
  endpoint: string | null;
  flush: string | null;
  fallback: string | null;
  headers: 'inline' | 'secret' | null;
  lastUpdateStatus: string | null;
}

export function describeFunction(fn: FunctionState, layerName: string): FunctionStatus {
  const isRelay = relayLayerMatcher({ name: layerName });
  const layer = fn.layers.find(isRelay) ?? null;
  const env = fn.environment;
  const endpoint = env[RELAY_ENV.endpoint];
  return {
    function: fn.name,
    runtime: fn.packageType === 'Image' ? 'image' : (fn.runtime ?? '?'),
    layer,
    layerVersion: layer ? (parseLayerVersionArn(layer)?.version ?? null) : null,
    endpoint: endpoint === undefined ? null : displayValue(RELAY_ENV.endpoint, endpoint),
    flush: env[RELAY_ENV.flush] ?? null,
    fallback: env[RELAY_ENV.fallbackS3Uri] ?? null,
    headers: env[RELAY_ENV.headersSecretArn] ? 'secret' : env[RELAY_ENV.headers] ? 'inline' : null,
    lastUpdateStatus: fn.lastUpdateStatus ?? null,
  };
}

export function renderTable(rows: FunctionStatus[]): string[] {
  const header = ['FUNCTION', 'RUNTIME', 'RELAY', 'FLUSH', 'ENDPOINT', 'FALLBACK', 'HEADERS', 'UPDATE'];
  const cells = rows.map((r) => [
    r.function,
    r.runtime,
    r.layerVersion === null ? '-' : `v${r.layerVersion}`,
    r.flush ?? (r.layer ? 'adaptive (default)' : '-'),
    r.endpoint ?? '-',
    r.fallback ?? '-',
    r.headers ?? '-',
    r.lastUpdateStatus ?? '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)];
}

export async function status(argv: string[], deps: CommandDeps): Promise<number> {
  const { values, positionals } = parse(argv, options, HELP);
  if (values.help) {
    deps.io.out(HELP);
    return 0;
  }
  const selector = selectorFrom(values, positionals);
  const layerName = values['layer-name'] ?? DEFAULT_LAYER_NAME;
  if (!/^[A-Za-z0-9_-]+$/.test(layerName))
    throw new UsageError(`--layer-name ${layerName} is not a layer name`);
  const session = await openSession({ region: values.region, clock: deps.clock });
  const { functions, problems } = await selectFunctions(session, {
    ...selector,
    all: !hasSelector(selector),
  });
  let rows = functions
    .map((fn) => describeFunction(fn, layerName))
    .sort((a, b) => a.function.localeCompare(b.function));
  if (values.attached) rows = rows.filter((r) => r.layer !== null);
  if (values.json) {
    deps.io.out(JSON.stringify({ region: session.region, functions: rows }, null, 2));
  } else if (rows.length === 0) {
    deps.io.out(`no ${values.attached ? 'function with the relay' : 'function'} in ${session.region}`);
  } else {
    for (const line of renderTable(rows)) deps.io.out(line);
  }
  for (const p of problems) deps.io.err(`${p.target}: ${p.error.message}`);
  return problems.length > 0 ? 1 : 0;
}

export function run(argv: string[]): Promise<number> {
  return status(argv, { io: processIo });
}
