// What attach and detach share: the options and help of a command that changes functions, the
// function selector they insist on (neither ever touches every function in a region by default), and
// the loop that applies one plan to each selected function and reports every outcome.
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from '../usage.js';
import { type CommandIo, parseTimeout, regionOption, report, selectorFrom, selectorOptions } from './cli.js';
import {
  type ApplyOptions,
  applyPlan,
  type FunctionSelector,
  hasSelector,
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
} as const satisfies NonNullable<ParseArgsConfig['options']>;

interface UpdateValues {
  function?: string[] | undefined;
  prefix?: string[] | undefined;
  tag?: string[] | undefined;
  'dry-run'?: boolean | undefined;
  timeout?: string | undefined;
}

/** The selector and apply options of a parsed updating command; a usage error without a selector. */
export function updateRequest(
  values: UpdateValues,
  positionals: string[],
  help: string,
): { selector: FunctionSelector; apply: ApplyOptions } {
  const selector = selectorFrom(values, positionals);
  if (!hasSelector(selector))
    throw new UsageError(`name at least one function, --prefix or --tag\n\n${help}`);
  return {
    selector,
    apply: { dryRun: values['dry-run'] === true, timeoutMs: parseTimeout(values.timeout, 120) },
  };
}

/**
 * Applies `makePlan` to every selected function, one after the other (each update is waited for, and
 * a failure stays with its function), prints each outcome and returns the exit code.
 */
export async function updateFunctions(
  session: LambdaSession,
  selector: FunctionSelector,
  makePlan: (fn: FunctionState) => Plan,
  apply: ApplyOptions,
  io: CommandIo,
): Promise<number> {
  const { functions, problems } = await selectFunctions(session, selector);
  const outcomes = [];
  for (const fn of functions) outcomes.push(await applyPlan(session, fn.arn, makePlan, apply));
  return report(io, outcomes, problems);
}
