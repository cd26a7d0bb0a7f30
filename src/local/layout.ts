// What the environment looks like from inside: /opt (layers laid over each other), the extensions
// found there, and the environment variables of the runtime and of extensions.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Builds `optDir` as the union of the layers, in order (a later layer's file wins), out of symlinks:
 * a launcher in one layer may exec files of another through /opt-relative paths, as in Lambda.
 */
export function mergeLayers(layers: readonly string[], optDir: string): void {
  rmSync(optDir, { recursive: true, force: true });
  mkdirSync(optDir, { recursive: true });
  for (const layer of layers) {
    const dir = resolve(layer);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new Error(`layer ${layer} is not a directory: nothing from it can be mounted on /opt`);
    }
    overlay(dir, optDir);
  }
}

function overlay(src: string, dst: string): void {
  for (const entry of readdirSync(src)) {
    const from = join(src, entry);
    const to = join(dst, entry);
    const fromIsDir = statSync(from).isDirectory();
    if (!existsSync(to) && !isDanglingLink(to)) {
      symlinkSync(from, to);
      continue;
    }
    const toIsDir = statSync(to).isDirectory();
    if (fromIsDir && toIsDir) {
      // Two layers share a directory: turn the earlier symlink into a real directory of links.
      if (lstatSync(to).isSymbolicLink()) {
        const earlier = readlinkSync(to);
        rmSync(to);
        mkdirSync(to);
        overlay(earlier, to);
      }
      overlay(from, to);
    } else {
      rmSync(to, { recursive: true, force: true });
      symlinkSync(from, to);
    }
  }
}

function isDanglingLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Every top-level non-directory in /opt/extensions, in the order Lambda launches them (alphabetical). */
export function discoverExtensions(optDir: string): { name: string; path: string }[] {
  const dir = join(optDir, 'extensions');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, path: join(dir, name) }))
    .filter((e) => {
      try {
        return !statSync(e.path).isDirectory();
      } catch {
        // A dangling link is still a file Lambda would try to exec, and fail on.
        return true;
      }
    });
}

/** Variables the runtime has but extensions do not get (Extensions API reference). */
export const EXTENSION_EXCLUDED_VARIABLES = [
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_XRAY_CONTEXT_MISSING',
  'AWS_XRAY_DAEMON_ADDRESS',
  'LAMBDA_RUNTIME_DIR',
  'LAMBDA_TASK_ROOT',
  '_AWS_XRAY_DAEMON_ADDRESS',
  '_AWS_XRAY_DAEMON_PORT',
  '_HANDLER',
] as const;

export interface VariableInputs {
  functionName: string;
  functionVersion: string;
  memoryMb: number;
  region: string;
  initializationType: string;
  runtimeApi: string;
  codeDir: string;
  optDir: string;
  tmpDir: string;
  handler: string;
  nodePath: string;
  /** Major version of nodePath: AWS_EXECUTION_ENV and the layer NODE_PATH depend on it. */
  nodeMajor: number;
  runtimeDir: string;
  maxConcurrency?: number;
  customer: Record<string, string>;
  logStreamName: string;
  /** The host as the environment reaches it (OTEL_RELAY_EMULATOR_HOST): where its peers listen. */
  emulatorHost: string;
}

/**
 * Customer values may name the host as `$OTEL_RELAY_EMULATOR_HOST` (or `${OTEL_RELAY_EMULATOR_HOST}`),
 * e.g. an exporter endpoint: an isolated environment's host address is only known once it starts.
 */
export function expandEmulatorHost(customer: Record<string, string>, host: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(customer)) {
    out[k] = value.replace(
      /\$\{OTEL_RELAY_EMULATOR_HOST\}|\$OTEL_RELAY_EMULATOR_HOST(?![A-Za-z0-9_])/g,
      host,
    );
  }
  return out;
}

export function runtimeVariables(v: VariableInputs): Record<string, string> {
  const major = v.nodeMajor;
  const host = process.env;
  const env: Record<string, string> = {
    PATH: [dirname(v.nodePath), '/usr/local/bin', '/usr/bin', '/bin', join(v.optDir, 'bin')].join(':'),
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    LD_LIBRARY_PATH: [join(v.optDir, 'lib'), '/lib64', '/usr/lib64'].join(':'),
    // /tmp in a mount namespace, else the environment's own directory: os.tmpdir() reads TMPDIR.
    TMPDIR: v.tmpDir,
    HOME: v.tmpDir,
    NODE_PATH: [
      join(v.optDir, `nodejs/node${major}/node_modules`),
      join(v.optDir, 'nodejs/node_modules'),
    ].join(':'),
    AWS_REGION: v.region,
    AWS_DEFAULT_REGION: v.region,
    AWS_LAMBDA_FUNCTION_NAME: v.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: v.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(v.memoryMb),
    AWS_LAMBDA_INITIALIZATION_TYPE: v.initializationType,
    AWS_LAMBDA_RUNTIME_API: v.runtimeApi,
    AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${major}.x`,
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${v.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: v.logStreamName,
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
    _AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129',
    _AWS_XRAY_DAEMON_PORT: '2000',
    LAMBDA_TASK_ROOT: v.codeDir,
    LAMBDA_RUNTIME_DIR: v.runtimeDir,
    _HANDLER: v.handler,
    OTEL_RELAY_EMULATOR_HOST: v.emulatorHost,
  };
  // The function's credentials: the caller's, when it has any (local runs talk to local peers).
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const) {
    const value = host[k];
    if (value !== undefined) env[k] = value;
  }
  if (v.maxConcurrency !== undefined) env.AWS_LAMBDA_MAX_CONCURRENCY = String(v.maxConcurrency);
  // Customer variables win, except the few the platform itself depends on (reserved in Lambda).
  return {
    ...env,
    ...expandEmulatorHost(v.customer, v.emulatorHost),
    AWS_LAMBDA_RUNTIME_API: v.runtimeApi,
    AWS_LAMBDA_INITIALIZATION_TYPE: v.initializationType,
    LAMBDA_TASK_ROOT: v.codeDir,
    _HANDLER: v.handler,
    TMPDIR: v.tmpDir,
  };
}

/**
 * An extension gets the function's variables minus the documented exclusions; like RIE, every
 * `_`-prefixed name is dropped too, and AWS_LAMBDA_MAX_CONCURRENCY is for the runtime alone.
 */
export function extensionVariables(runtimeEnv: Record<string, string>): Record<string, string> {
  const excluded = new Set<string>(EXTENSION_EXCLUDED_VARIABLES);
  excluded.add('AWS_LAMBDA_MAX_CONCURRENCY');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(runtimeEnv)) {
    if (excluded.has(k) || k.startsWith('_')) continue;
    env[k] = v;
  }
  return env;
}

/** Log stream name in Lambda's format: YYYY/MM/DD/[version]<32 hex>. */
export function logStreamName(version: string, epochMs: number, hex: string): string {
  const d = new Date(epochMs).toISOString().slice(0, 10).replaceAll('-', '/');
  return `${d}/[${version}]${hex}`;
}

const majors = new Map<string, number>();

/** The major version of a node binary (asked once per binary; this process's own is known). */
export function nodeMajorOf(nodePath: string): number {
  if (nodePath === process.execPath) return Number(process.versions.node.split('.')[0]);
  let major = majors.get(nodePath);
  if (major === undefined) {
    let out: string;
    try {
      out = execFileSync(nodePath, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 10_000 });
    } catch (err) {
      throw new Error(`nodePath ${nodePath} cannot be run: ${(err as Error).message}`, { cause: err });
    }
    major = Number(out.trim().split('.')[0]);
    majors.set(nodePath, major);
  }
  return major;
}
