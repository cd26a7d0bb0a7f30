// Types for peers.mjs, which stays plain JavaScript because deps.mjs runs it before anything is built.

export interface PythonVenv {
  dir: string;
  python: string;
  motoServer: string;
}

export interface RunStepOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  verbose?: boolean;
  label: string;
}

export const OTELCOL_BUILDER_VERSION: string;
export const NODE_VERSIONS: { 22: string; 24: string };

export function cacheDir(): string;
export function pythonVenvDir(): string;
export function ensurePythonVenv(opts?: { verbose?: boolean }): Promise<PythonVenv>;
export function collectorDir(): string;
export function ensureCollector(opts?: { verbose?: boolean }): Promise<string>;
export function ensureNodeBinary(major: 20 | 22 | 24, opts?: { verbose?: boolean }): Promise<string>;
export function runStep(command: string, args: string[], opts: RunStepOptions): Promise<string>;
export function preparePeers(opts?: {
  peers?: PeerEntry[];
  log?: (line: string) => void;
}): Promise<PeerOutcome[]>;

export interface PeerEntry {
  name: string;
  cpu: boolean;
  prepare: () => Promise<string | { skipped: string }>;
}
export interface PeerOutcome {
  name: string;
  ms: number;
  ready?: string;
  skipped?: string;
  error?: Error;
}
export const PEERS: PeerEntry[];
export function cpuJobs(): number;
export function shortHash(...parts: Array<string | Buffer>): string;
export function ensureCached(
  dir: string,
  waitMs: number,
  build: (dir: string) => Promise<void>,
): Promise<string>;
