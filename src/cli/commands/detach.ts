// `lambda-otel-relay detach`: remove the relay layer and its environment variables from functions.

import { parseLayerVersionArn } from '../lambda/arn.js';
import { type CommandDeps, parse, processInterrupt, processIo } from '../lambda/cli.js';
import { DEFAULT_LAYER_NAME } from '../lambda/layers.js';
import { planDetach } from '../lambda/plan.js';
import { openSession } from '../lambda/session.js';
import { SELECTOR_HELP, updateFunctions, updateOptions, updateRequest } from '../lambda/update.js';
import { UsageError } from '../usage.js';

const HELP = `usage: lambda-otel-relay detach [FUNCTION...] [options]

Removes the relay layer (any version) and the relay's environment variables (OTEL_RELAY_*,
OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS) from functions that carry the relay; values
attach replaced are put back. Functions without the relay layer are skipped and left alone. Other
layers keep their order.

${SELECTOR_HELP}

  --layer ARN          the relay layer, if published under another name (any version of it matches)
  --layer-name NAME    the relay layer's name (default: ${DEFAULT_LAYER_NAME})
  --keep-env           leave the environment variables as they are
  --dry-run            print what would change, change nothing
  --concurrency N      functions updated at once (default 4, at most 20)
  --json               one JSON line per function as it completes, then a summary line
  --timeout SECONDS    how long to wait for each update to apply (default 120)
  --region REGION      AWS region (default: AWS_REGION / profile)`;

const options = { ...updateOptions, 'keep-env': { type: 'boolean' } } as const;

export async function detach(argv: string[], deps: CommandDeps): Promise<number> {
  const { values, positionals } = parse(argv, options, HELP);
  if (values.help) {
    deps.io.out(HELP);
    return 0;
  }
  const { selector, apply, bulk } = updateRequest(values, positionals, HELP);
  const layerRef = values.layer === undefined ? undefined : parseLayerVersionArn(values.layer);
  if (values.layer !== undefined && !layerRef) {
    throw new UsageError(`--layer ${values.layer} is not a layer version ARN (…:layer:NAME:VERSION)`);
  }
  const relay = layerRef ?? { name: values['layer-name'] ?? DEFAULT_LAYER_NAME };

  const session = await openSession({ region: values.region, clock: deps.clock });
  const keepEnv = values['keep-env'] === true;
  return updateFunctions(
    session,
    selector,
    (current) => planDetach(current, relay, { keepEnv }),
    apply,
    deps.io,
    bulk,
    deps.interrupt,
  );
}

export function run(argv: string[]): Promise<number> {
  return detach(argv, { io: processIo, interrupt: processInterrupt() });
}
