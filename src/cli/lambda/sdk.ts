// The AWS SDK is loaded at run time from node_modules rather than bundled into dist/cli.mjs: only
// publish/attach/detach/status need it, the bundle stays small for `local` and `demo`, and the SDK's
// CommonJS internals (require('node:https')) cannot run inside an ESM bundle anyway. A specifier held
// in a variable is what keeps esbuild from inlining it. It is a runtime dependency of the package.
export type LambdaSdk = typeof import('@aws-sdk/client-lambda');

const SDK_MODULE = '@aws-sdk/client-lambda';

export async function loadLambdaSdk(): Promise<LambdaSdk> {
  return (await import(SDK_MODULE)) as LambdaSdk;
}
