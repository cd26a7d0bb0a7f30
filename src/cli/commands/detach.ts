// `lambda-otel-relay detach`: remove the relay layer and its environment variables from functions.

import { parseLayerVersionArn } from '../lambda/arn.js';
import {
  type CommandDeps,
  parse,
  parseTimeout,
  processIo,
  regionOption,
  report,
  selectorFrom,
  selectorOptions,
} from '../lambda/cli.js';
import { applyPlan, hasSelector, type Outcome, selectFunctions } from '../lambda/functions.js';
import { DEFAULT_LAYER_NAME } from '../lambda/layers.js';
import { planDetach } from '../lambda/plan.js';
import { openSession } from '../lambda/session.js';
import { UsageError } from '../usage.js';

const HELP = `usage: lambda-otel-relay detach [FUNCTION...] [options]

Removes the relay layer (any version) and the relay's environment variables (OTEL_RELAY_*,
OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS) from functions. Other layers keep their order.

functions (at least one of):
  FUNCTION, -f, --function NAME|ARN   a function by name or ARN (repeatable)
  --prefix PREFIX                     functions whose name starts with PREFIX (repeatable: any of them)
  --tag KEY=VALUE                     functions with this tag (repeatable: all of them)
  (--prefix and --tag together select functions that match both)

  --layer ARN          the relay layer, if published under another name (any version of it matches)
  --layer-name NAME    the relay layer's name (default: ${DEFAULT_LAYER_NAME})
  --keep-env           leave the environment variables as they are
  --dry-run            print what would change, change nothing
  --timeout SECONDS    how long to wait for each update to apply (default 120)
  --region REGION      AWS region (default: AWS_REGION / profile)`;

const options = {
  ...regionOption,
  ...selectorOptions,
  layer: { type: 'string' },
  'layer-name': { type: 'string' },
  'keep-env': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  timeout: { type: 'string' },
} as const;

export async function detach(argv: string[], deps: CommandDeps): Promise<number> {
  const { values, positionals } = parse(argv, options, HELP);
  if (values.help) {
    deps.io.out(HELP);
    return 0;
  }
  const selector = selectorFrom(values, positionals);
  if (!hasSelector(selector))
    throw new UsageError(`name at least one function, --prefix or --tag\n\n${HELP}`);
  const layerRef = values.layer === undefined ? undefined : parseLayerVersionArn(values.layer);
  if (values.layer !== undefined && !layerRef) {
    throw new UsageError(`--layer ${values.layer} is not a layer version ARN (…:layer:NAME:VERSION)`);
  }
  const relay = layerRef ?? { name: values['layer-name'] ?? DEFAULT_LAYER_NAME };
  const timeoutMs = parseTimeout(values.timeout, 120);

  const session = await openSession({ region: values.region, clock: deps.clock });
  const { functions, problems } = await selectFunctions(session, selector);
  const outcomes: Outcome[] = [];
  for (const fn of functions) {
    outcomes.push(
      await applyPlan(
        session,
        fn.arn,
        (current) => planDetach(current, relay, { keepEnv: values['keep-env'] === true }),
        {
          dryRun: values['dry-run'] === true,
          timeoutMs,
        },
      ),
    );
  }
  return report(deps.io, outcomes, problems);
}

export function run(argv: string[]): Promise<number> {
  return detach(argv, { io: processIo });
}
