// Pure planning for attach and detach: from a function's current configuration and what the user
// asked for, the configuration to write and a diff to show. No AWS calls here, so every rule
// (order kept, upgrade in place, the 5-layer limit, idempotence) is unit-tested directly.
import { parseLayerVersionArn } from './arn.js';
import { COMPATIBLE_RUNTIMES } from './layers.js';
import {
  displayValue,
  hasExportTarget,
  isRelayVariable,
  PREVIOUS_ENV,
  RELAY_ENV,
  type RelaySettings,
  readPrevious,
} from './settings.js';
import { checkExecWrapper, EXEC_WRAPPER_ENV, isZeroCodeWrapper, ZERO_CODE_WRAPPER } from './zero-code.js';

/** Lambda refuses a function configuration with more layers than this. */
export const MAX_LAYERS = 5;

/** The parts of a function's configuration that attach/detach read or write. */
export interface FunctionState {
  name: string;
  arn: string;
  region: string;
  runtime: string | undefined;
  packageType: 'Zip' | 'Image';
  layers: string[];
  environment: Record<string, string>;
  revisionId: string | undefined;
  lastUpdateStatus: string | undefined;
  lastUpdateStatusReason?: string | undefined;
}

export type Change =
  | { kind: 'layer-add'; to: string }
  | { kind: 'layer-upgrade'; from: string; to: string }
  | { kind: 'layer-remove'; from: string }
  | { kind: 'env-set'; name: string; from: string | undefined; to: string }
  | { kind: 'env-remove'; name: string; from: string };

export interface Plan {
  layers: string[];
  environment: Record<string, string>;
  changes: Change[];
  /** Set when the function is left alone on purpose (not an error), with the reason. */
  skip?: string;
}

/** A function attach/detach will not touch, and why, in words for the user. */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
}

/** Which layers on a function are the relay: same layer (any version), or a layer of the same name. */
export function relayLayerMatcher(relay: { layerArn?: string; name: string }): (arn: string) => boolean {
  return (arn) => {
    const ref = parseLayerVersionArn(arn);
    if (!ref) return false;
    return ref.layerArn === relay.layerArn || ref.name === relay.name;
  };
}

export function checkCanTakeLayers(fn: FunctionState, options: { anyRuntime?: boolean } = {}): void {
  if (fn.packageType === 'Image') {
    throw new RefusedError(
      `${fn.name} is a container-image function (PackageType Image) and Lambda does not support layers on it; ` +
        'copy dist/layer/ into the image at /opt/ instead. Nothing was changed.',
    );
  }
  const runtime = fn.runtime ?? '';
  if (
    !options.anyRuntime &&
    runtime.startsWith('nodejs') &&
    !COMPATIBLE_RUNTIMES.includes(runtime as never)
  ) {
    // The extension runs on the function's own node binary, and the bundle targets Node.js 20.
    throw new RefusedError(
      `${fn.name} runs ${runtime}, older than the Node.js 20 the relay extension needs; move it to a ` +
        `supported runtime first (aws lambda update-function-configuration --function-name ${fn.name} ` +
        '--runtime nodejs22.x), then attach. Nothing was changed.',
    );
  }
  if (!options.anyRuntime && !runtime.startsWith('nodejs')) {
    throw new RefusedError(
      `${fn.name} runs ${fn.runtime ?? 'an unknown runtime'}, which has no Node.js for the relay extension ` +
        '(it supports nodejs20.x, nodejs22.x, nodejs24.x); pass --any-runtime if the function ships Node.js itself. ' +
        'Nothing was changed.',
    );
  }
}

export function planAttach(
  fn: FunctionState,
  layerVersionArn: string,
  settings: RelaySettings,
  options: { anyRuntime?: boolean; zeroCode?: boolean } = {},
): Plan {
  checkCanTakeLayers(fn, options);
  if (options.zeroCode) checkExecWrapper(fn.name, fn.environment, (m) => new RefusedError(m));
  const target = parseLayerVersionArn(layerVersionArn);
  if (!target) throw new RefusedError(`${layerVersionArn} is not a layer version ARN`);
  if (target.region !== fn.region) {
    throw new RefusedError(
      `layer ${layerVersionArn} is in ${target.region} but ${fn.name} is in ${fn.region}; ` +
        'Lambda only attaches layers from the same region (publish it there first). Nothing was changed.',
    );
  }
  const isRelay = relayLayerMatcher(target);
  const changes: Change[] = [];

  // The first relay entry is replaced where it stands so the other layers keep their order (layer
  // order decides which files win in /opt); any duplicate relay entry would run a second extension.
  const layers: string[] = [];
  let placed = false;
  for (const arn of fn.layers) {
    if (!isRelay(arn)) {
      layers.push(arn);
    } else if (!placed) {
      layers.push(layerVersionArn);
      placed = true;
      if (arn !== layerVersionArn) changes.push({ kind: 'layer-upgrade', from: arn, to: layerVersionArn });
    } else {
      changes.push({ kind: 'layer-remove', from: arn });
    }
  }
  if (!placed) {
    layers.push(layerVersionArn);
    changes.push({ kind: 'layer-add', to: layerVersionArn });
  }
  if (layers.length > MAX_LAYERS) {
    throw new RefusedError(
      `${fn.name} already has ${fn.layers.length} layers; adding the relay would make ${layers.length} and ` +
        `Lambda allows ${MAX_LAYERS}. Nothing was changed.`,
    );
  }

  const environment = { ...fn.environment };
  const set = (name: string, value: string | undefined) => {
    if (value === undefined || environment[name] === value) return;
    changes.push({ kind: 'env-set', name, from: environment[name], to: value });
    environment[name] = value;
  };
  const remove = (name: string) => {
    const from = environment[name];
    if (from === undefined) return;
    changes.push({ kind: 'env-remove', name, from });
    delete environment[name];
  };
  if (options.zeroCode) set(EXEC_WRAPPER_ENV, ZERO_CODE_WRAPPER);
  set(RELAY_ENV.endpoint, settings.endpoint);
  set(RELAY_ENV.flush, settings.flush);
  set(RELAY_ENV.fallbackS3Uri, settings.fallbackS3Uri);
  // Headers come either inline or from a secret; setting one retires the other so the two never disagree.
  if (settings.headers !== undefined) {
    set(RELAY_ENV.headers, settings.headers);
    remove(RELAY_ENV.headersSecretArn);
  }
  if (settings.headersSecretArn !== undefined) {
    set(RELAY_ENV.headersSecretArn, settings.headersSecretArn);
    remove(RELAY_ENV.headers);
  }
  if (!hasExportTarget(environment)) {
    throw new RefusedError(
      `${fn.name} would have no endpoint to export to (no OTEL_EXPORTER_OTLP_ENDPOINT), so the relay ` +
        'would send to localhost, where nothing listens in Lambda; pass --endpoint ' +
        'https://your-collector:4318. Nothing was changed.',
    );
  }
  // First attach only: what it replaced, for detach to restore. A relay already there means the
  // current values are the relay's own, and the record made then stays as it is.
  const carried = fn.layers.some(isRelay);
  if (!carried) {
    const replaced: Record<string, string> = { ...readPrevious(fn.environment[PREVIOUS_ENV]) };
    for (const c of changes) {
      if (
        (c.kind === 'env-set' || c.kind === 'env-remove') &&
        c.from !== undefined &&
        !(c.name in replaced)
      ) {
        replaced[c.name] = c.from;
      }
    }
    if (Object.keys(replaced).length > 0) set(PREVIOUS_ENV, JSON.stringify(replaced));
  }
  return { layers, environment, changes };
}

export function planDetach(
  fn: FunctionState,
  relay: { layerArn?: string; name: string },
  options: { keepEnv?: boolean } = {},
): Plan {
  const isRelay = relayLayerMatcher(relay);
  const changes: Change[] = [];
  if (!fn.layers.some(isRelay)) {
    // Its OTEL_* variables belong to whatever instruments it (ADOT, a vendor layer): not ours to remove.
    return {
      layers: fn.layers,
      environment: fn.environment,
      changes,
      skip: `does not carry the relay layer (${relay.name}); left alone`,
    };
  }
  const layers = fn.layers.filter((arn) => {
    if (!isRelay(arn)) return true;
    changes.push({ kind: 'layer-remove', from: arn });
    return false;
  });
  const environment = { ...fn.environment };
  if (!options.keepEnv) {
    const previous = readPrevious(fn.environment[PREVIOUS_ENV]);
    for (const [name, value] of Object.entries(fn.environment)) {
      if (!(isRelayVariable(name) || isZeroCodeWrapper(name, value)) || name in previous) continue;
      changes.push({ kind: 'env-remove', name, from: value });
      delete environment[name];
    }
    // What attach replaced goes back as it was.
    for (const [name, value] of Object.entries(previous)) {
      if (environment[name] === value) continue;
      changes.push({ kind: 'env-set', name, from: environment[name], to: value });
      environment[name] = value;
    }
  }
  return { layers, environment, changes };
}

/** One line per change, the way `--dry-run` prints it; credentials never appear. */
export function describeChanges(changes: readonly Change[]): string[] {
  return changes.map(describeChange);
}

function describeChange(c: Change): string {
  switch (c.kind) {
    case 'layer-add':
      return `+ layer ${c.to}`;
    case 'layer-upgrade':
      return `~ layer ${c.from} -> ${c.to}`;
    case 'layer-remove':
      return `- layer ${c.from}`;
    case 'env-set':
      return c.from === undefined
        ? `+ env ${c.name}=${displayValue(c.name, c.to)}`
        : `~ env ${c.name}=${displayValue(c.name, c.from)} -> ${displayValue(c.name, c.to)}`;
    case 'env-remove':
      return `- env ${c.name}=${displayValue(c.name, c.from)}`;
  }
}
