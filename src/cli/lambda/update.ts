// What attach and detach share: the options and help of a command that changes functions, the
// function selector they insist on (neither ever touches every function in a region by default), and
// the loop that applies one plan to each selected function and reports every outcome.
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from '../usage.js';
import {
  type CommandIo,
  parseTimeout,
  printOutcome,
  printSummary,
  regionOption,
  selectorFrom,
  selectorOptions,
} from './cli.js';
import {
  type ApplyOptions,
  applyPlan,
  type FunctionSelector,
  hasSelector,
  type Outcome,
  selectFunctions,
} from './functions.js';
import type { FunctionState, Plan } from './plan.js';
import type { LambdaSession } from './session.js';

/** The help lines of the function selector, as attach and detach print them. */
export const SELECTOR_HELP = `functions (at least one of):
  FUNCTION, -f, --function NAME|ARN   a function by name or ARN (repeatable)
  --prefix PREFIX                     functions whose name starts with PREFIX (repeatable: any of them)
  --tag KEY=VALUE                     functions with this tag (repeatable: all of them)
  (--prefix and --tag together select functions that match both)`;

/** The options every updating command takes; each adds its own. */
export const updateOptions = {
  ...regionOption,
  ...selectorOptions,
  layer: { type: 'string' },
  'layer-name': { type: 'string' },
  'dry-run': { type: 'boolean' },
  timeout: { type: 'string' },
  concurrency: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

interface UpdateValues {
  function?: string[] | undefined;
  prefix?: string[] | undefined;
  tag?: string[] | undefined;
  'dry-run'?: boolean | undefined;
  timeout?: string | undefined;
  concurrency?: string | undefined;
  json?: boolean | undefined;
}

/** Updates in flight at once by default; each is mostly waiting for Lambda to apply it. */
export const DEFAULT_CONCURRENCY = 4;
/** Above this, Lambda's control-plane rate limits answer with throttling instead of speed. */
export const MAX_CONCURRENCY = 20;

/** How a bulk run prints and how wide it goes. */
export interface BulkOptions {
  concurrency: number;
  json: boolean;
}

/** The selector and apply options of a parsed updating command; a usage error without a selector. */
export function updateRequest(
  values: UpdateValues,
  positionals: string[],
  help: string,
): { selector: FunctionSelector; apply: ApplyOptions; bulk: BulkOptions } {
  const selector = selectorFrom(values, positionals);
  if (!hasSelector(selector))
    throw new UsageError(`name at least one function, --prefix or --tag\n\n${help}`);
  const concurrency = values.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new UsageError(
      `--concurrency ${values.concurrency} must be a whole number from 1 to ${MAX_CONCURRENCY}`,
    );
  }
  return {
    selector,
    apply: { dryRun: values['dry-run'] === true, timeoutMs: parseTimeout(values.timeout, 120) },
    bulk: { concurrency, json: values.json === true },
  };
}

/**
 * Applies `makePlan` to the selected functions, `concurrency` at a time (each update is waited for,
 * and a failure stays with its function). Each outcome is printed as it completes, then a summary.
 * After `interrupt` no function is started; the ones in flight finish and the summary names the rest.
 */
export async function updateFunctions(
  session: LambdaSession,
  selector: FunctionSelector,
  makePlan: (fn: FunctionState) => Plan,
  apply: ApplyOptions,
  io: CommandIo,
  bulk: BulkOptions = { concurrency: DEFAULT_CONCURRENCY, json: false },
  interrupt?: AbortSignal,
): Promise<number> {
  const { functions, problems } = await selectFunctions(session, selector);
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < functions.length && !interrupt?.aborted) {
      const fn = functions[next++]!;
      const outcome = await applyPlan(session, fn.arn, makePlan, apply);
      outcomes.push(outcome);
      printOutcome(io, outcome, bulk.json);
    }
  };
  await Promise.all(Array.from({ length: Math.min(bulk.concurrency, functions.length) }, worker));
  const notStarted = functions.slice(next).map((f) => f.name);
  return printSummary(
    io,
    { outcomes, problems, notStarted, interrupted: interrupt?.aborted === true },
    bulk.json,
  );
}
