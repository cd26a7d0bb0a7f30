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

export function cacheDir(): string;
export function pythonVenvDir(): string;
export function ensurePythonVenv(opts?: { verbose?: boolean }): Promise<PythonVenv>;
export function runStep(command: string, args: string[], opts: RunStepOptions): Promise<string>;
export function preparePeers(): Promise<void>;
