// Loading the function's handler from `_HANDLER` the way the Node.js managed runtime does:
// `[dir/]module.export[.nested]`, the module resolved against LAMBDA_TASK_ROOT with `.js`, `.mjs`,
// `.cjs` (a `.js` file is ESM when the nearest package.json says "type": "module"), else by Node's
// resolution (a package in node_modules). Errors carry the runtime's error names, so a bad handler
// reports the same Init error with the wrapper as without it.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export class HandlerLoadError extends Error {
  constructor(kind: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = `Runtime.${kind}`;
  }
}

export interface HandlerName {
  /** The module path relative to the task root, without extension. */
  module: string;
  /** The export path (`handler`, or `nested.handler`). */
  exportPath: string[];
}

/** Splits `dir/sub/module.export.nested` as the runtime does (the first dot after the last slash). */
export function parseHandlerName(handler: string): HandlerName {
  const slash = handler.lastIndexOf('/');
  const rest = handler.slice(slash + 1);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot === rest.length - 1) {
    throw new HandlerLoadError('MalformedHandlerName', `'${handler}' is not a valid handler name.`);
  }
  return {
    module: handler.slice(0, slash + 1) + rest.slice(0, dot),
    exportPath: rest.slice(dot + 1).split('.'),
  };
}

function isModulePackage(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: string }).type === 'module';
      } catch {
        return false;
      }
    }
    if (dirname(d) === d) return false;
  }
}

async function loadModule(taskRoot: string, moduleName: string): Promise<unknown> {
  const base = resolve(taskRoot, moduleName);
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => existsSync(f));
  const req = createRequire(join(taskRoot, 'noop.js'));
  if (file?.endsWith('.mjs') || (file?.endsWith('.js') && isModulePackage(dirname(file)))) {
    return import(pathToFileURL(file).href);
  }
  if (file) return req(file);
  // No file: a module name resolved by Node (e.g. a package in node_modules).
  let resolved: string;
  try {
    resolved = req.resolve(moduleName);
  } catch (cause) {
    throw new HandlerLoadError('ImportModuleError', `Error: Cannot find module '${moduleName}'`, { cause });
  }
  return import(pathToFileURL(resolved).href);
}

/** Imports the handler module and returns the handler function `handler` names. */
export async function loadHandler(taskRoot: string, handler: string): Promise<unknown> {
  const name = parseHandlerName(handler);
  let mod: unknown;
  try {
    mod = await loadModule(taskRoot, name.module);
  } catch (err) {
    if (err instanceof HandlerLoadError) throw err;
    if (err instanceof SyntaxError) {
      throw new HandlerLoadError('UserCodeSyntaxError', `${err.name}: ${err.message}`, { cause: err });
    }
    const code = (err as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new HandlerLoadError('ImportModuleError', `Error: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  }
  let target: unknown = mod;
  for (const key of name.exportPath) {
    target = target === null || target === undefined ? undefined : (target as Record<string, unknown>)[key];
  }
  if (typeof target !== 'function') {
    throw new HandlerLoadError('HandlerNotFound', `${handler} is undefined or not exported`);
  }
  return target;
}
