// Reading, selecting and updating functions. Every loop here is bounded in count and every wait in
// time: a CLI that hangs on a stuck update is worse than one that says what it left behind.
import type { FunctionConfiguration, ListFunctionsCommandOutput } from '@aws-sdk/client-lambda';
import { UsageError } from '../usage.js';
import { functionQualifier, parseFunctionArn } from './arn.js';
import type { Clock } from './clock.js';
import { awsErrorName, explainAwsError, LambdaCommandError } from './errors.js';
import { type Change, type FunctionState, type Plan, RefusedError } from './plan.js';
import type { LambdaSession } from './session.js';

/** ListFunctions pages of 50: at most 20,000 functions, more than any one region's quota by default. */
const MAX_LIST_PAGES = 400;

export function toFunctionState(cfg: FunctionConfiguration, region: string): FunctionState {
  return {
    name: cfg.FunctionName ?? '?',
    arn: cfg.FunctionArn ?? '?',
    region,
    runtime: cfg.Runtime,
    packageType: cfg.PackageType === 'Image' ? 'Image' : 'Zip',
    layers: (cfg.Layers ?? []).map((l) => l.Arn ?? '').filter(Boolean),
    environment: { ...(cfg.Environment?.Variables ?? {}) },
    revisionId: cfg.RevisionId,
    lastUpdateStatus: cfg.LastUpdateStatus,
    lastUpdateStatusReason: cfg.LastUpdateStatusReason,
  };
}

export async function readFunction(session: LambdaSession, nameOrArn: string): Promise<FunctionState> {
  try {
    const cfg = await session.client.send(
      new session.sdk.GetFunctionConfigurationCommand({ FunctionName: nameOrArn }),
    );
    return toFunctionState(cfg, session.region);
  } catch (err) {
    throw explainAwsError(err, {
      action: 'GetFunctionConfiguration',
      target: nameOrArn,
      region: session.region,
    });
  }
}

/**
 * Names and ARNs are taken as given. Prefixes and tags narrow together: a listed function must start
 * with one of the prefixes (when any is given) and carry every tag (when any is given).
 */
export interface FunctionSelector {
  names: string[];
  prefixes: string[];
  tags: Record<string, string>;
  /** No selector at all: every function in the region (status only). */
  all?: boolean;
}

export interface Selection {
  functions: FunctionState[];
  /** Selectors that matched nothing or could not be read, one clear message each. */
  problems: { target: string; error: Error }[];
}

export function hasSelector(s: FunctionSelector): boolean {
  return s.names.length > 0 || s.prefixes.length > 0 || Object.keys(s.tags).length > 0;
}

export async function listAllFunctions(session: LambdaSession): Promise<FunctionState[]> {
  const out: FunctionState[] = [];
  let marker: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    let res: ListFunctionsCommandOutput;
    try {
      res = await session.client.send(new session.sdk.ListFunctionsCommand({ Marker: marker, MaxItems: 50 }));
    } catch (err) {
      throw explainAwsError(err, {
        action: 'ListFunctions',
        target: 'the functions',
        region: session.region,
      });
    }
    for (const cfg of res.Functions ?? []) out.push(toFunctionState(cfg, session.region));
    marker = res.NextMarker;
    if (!marker) return out;
  }
  throw new LambdaCommandError(
    `ListFunctions returned more than ${MAX_LIST_PAGES} pages; narrow the selection`,
  );
}

async function tagsOf(session: LambdaSession, fn: FunctionState): Promise<Record<string, string>> {
  try {
    const res = await session.client.send(new session.sdk.ListTagsCommand({ Resource: fn.arn }));
    return res.Tags ?? {};
  } catch (err) {
    throw explainAwsError(err, { action: 'ListTags', target: fn.name, region: session.region });
  }
}

/** Names, ARNs, prefixes and tags; a function matched twice is listed once. */
export async function selectFunctions(
  session: LambdaSession,
  selector: FunctionSelector,
): Promise<Selection> {
  const byArn = new Map<string, FunctionState>();
  const problems: Selection['problems'] = [];
  for (const name of selector.names) {
    const arn = parseFunctionArn(name);
    if (arn && arn.region !== session.region) {
      problems.push({
        target: name,
        error: new UsageError(
          `${name} is in ${arn.region} but this run uses ${session.region}; pass --region ${arn.region}`,
        ),
      });
      continue;
    }
    const qualifier = functionQualifier(name);
    if (qualifier !== undefined && qualifier !== '$LATEST') {
      // Published versions are immutable, and an alias points at one: only $LATEST takes layers.
      problems.push({
        target: name,
        error: new UsageError(
          `${name} names version or alias ${qualifier}, which cannot change; give the function without ` +
            `":${qualifier}" to update $LATEST, then publish a version`,
        ),
      });
      continue;
    }
    try {
      const fn = await readFunction(session, name);
      byArn.set(fn.arn, fn);
    } catch (err) {
      problems.push({ target: name, error: err as Error });
    }
  }
  const byList = selector.all || selector.prefixes.length > 0 || Object.keys(selector.tags).length > 0;
  if (byList) {
    const wantedTags = Object.entries(selector.tags);
    let matchedAny = false;
    for (const fn of await listAllFunctions(session)) {
      if (selector.prefixes.length > 0 && !selector.prefixes.some((p) => fn.name.startsWith(p))) continue;
      if (wantedTags.length > 0) {
        const tags = await tagsOf(session, fn);
        if (!wantedTags.every(([k, v]) => tags[k] === v)) continue;
      }
      matchedAny = true;
      if (!byArn.has(fn.arn)) byArn.set(fn.arn, fn);
    }
    if (!matchedAny && !selector.all) {
      const what = [
        ...selector.prefixes.map((p) => `prefix ${p}`),
        ...Object.entries(selector.tags).map(([k, v]) => `tag ${k}=${v}`),
      ].join(' and ');
      problems.push({
        target: what,
        error: new LambdaCommandError(`no function in ${session.region} matches ${what}`),
      });
    }
  }
  return { functions: [...byArn.values()], problems };
}

export interface UpdateWaitOptions {
  clock: Clock;
  timeoutMs: number;
}

/**
 * Polls until Lambda has applied the last update (LastUpdateStatus leaves InProgress). A function
 * cannot take the next update before that, and "attached" should mean the next cold start has it.
 */
export async function waitUntilUpdated(
  read: () => Promise<{ lastUpdateStatus: string | undefined; reason?: string | undefined }>,
  name: string,
  { clock, timeoutMs }: UpdateWaitOptions,
): Promise<void> {
  const deadline = clock.now() + timeoutMs;
  let delay = 250;
  for (;;) {
    const { lastUpdateStatus, reason } = await read();
    if (lastUpdateStatus === 'Failed') {
      throw new LambdaCommandError(
        `Lambda reports the update of ${name} failed: ${reason ?? 'no reason given'}; ` +
          'the function keeps its previous configuration',
      );
    }
    if (lastUpdateStatus !== 'InProgress') return;
    const left = deadline - clock.now();
    if (left <= 0) {
      throw new LambdaCommandError(
        `${name} was still updating after ${Math.round(timeoutMs / 1000)} s; the change was submitted and ` +
          'may still apply (check with `lambda-otel-relay status`)',
      );
    }
    await clock.sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, 2_000);
  }
}

export type Outcome =
  | { name: string; result: 'changed' | 'unchanged' | 'would-change'; changes: Change[] }
  | { name: string; result: 'skipped'; reason: string }
  | { name: string; result: 'failed'; error: Error };

export interface ApplyOptions {
  dryRun: boolean;
  timeoutMs: number;
  /** How many times a conflicting concurrent update is retried before giving up. */
  maxAttempts?: number;
}

const CONFLICTS = new Set(['ResourceConflictException', 'PreconditionFailedException']);

/**
 * Read, plan, write with the read's RevisionId, wait. A conflict (another update in progress, or the
 * function changed since we read it) starts over from a fresh read, so a concurrent change is merged,
 * never overwritten.
 */
export async function applyPlan(
  session: LambdaSession,
  fnArn: string,
  makePlan: (fn: FunctionState) => Plan,
  options: ApplyOptions,
): Promise<Outcome> {
  const maxAttempts = options.maxAttempts ?? 6;
  const wait = { clock: session.clock, timeoutMs: options.timeoutMs };
  let name = fnArn;
  try {
    for (let attempt = 1; ; attempt++) {
      let fn = await readFunction(session, fnArn);
      name = fn.name;
      if (fn.lastUpdateStatus === 'InProgress' && !options.dryRun) {
        // Someone else's update is being applied; whether it then succeeds or fails, ours can follow.
        await waitUntilUpdated(
          async () => ({
            lastUpdateStatus:
              (await readFunction(session, fnArn)).lastUpdateStatus === 'InProgress' ? 'InProgress' : 'Done',
          }),
          fn.name,
          wait,
        );
        fn = await readFunction(session, fnArn);
      }
      const plan = makePlan(fn);
      if (plan.skip !== undefined) return { name, result: 'skipped', reason: plan.skip };
      if (plan.changes.length === 0) return { name, result: 'unchanged', changes: [] };
      if (options.dryRun) return { name, result: 'would-change', changes: plan.changes };
      try {
        await session.client.send(
          new session.sdk.UpdateFunctionConfigurationCommand({
            FunctionName: fn.arn,
            Layers: plan.layers,
            Environment: { Variables: plan.environment },
            RevisionId: fn.revisionId,
          }),
        );
      } catch (err) {
        const errName = awsErrorName(err);
        if (errName && CONFLICTS.has(errName) && attempt < maxAttempts) {
          await session.clock.sleep(Math.min(500 * 2 ** (attempt - 1), 5_000));
          continue;
        }
        if (errName && CONFLICTS.has(errName)) {
          throw new LambdaCommandError(
            `${fn.name} kept changing under us (${errName} ${attempt} times); nothing was changed, try again`,
            { cause: err },
          );
        }
        throw explainAwsError(err, {
          action: 'UpdateFunctionConfiguration',
          target: fn.name,
          region: session.region,
        });
      }
      await waitUntilUpdated(
        async () => {
          const now = await readFunction(session, fnArn);
          return { lastUpdateStatus: now.lastUpdateStatus, reason: now.lastUpdateStatusReason };
        },
        fn.name,
        wait,
      );
      return { name, result: 'changed', changes: plan.changes };
    }
  } catch (err) {
    if (err instanceof RefusedError || err instanceof LambdaCommandError || err instanceof UsageError) {
      return { name, result: 'failed', error: err };
    }
    return {
      name,
      result: 'failed',
      error: new LambdaCommandError(`${name}: ${String(err)}`, { cause: err }),
    };
  }
}
