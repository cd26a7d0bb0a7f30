// Routes each call of AWS_LAMBDA_RUNTIME_API to its handler: Runtime, Extensions or Telemetry API.
import type { ApiRequest, Reply } from '../api-server.js';
import { extensionError, extensionNext, register } from './extensions-api.js';
import {
  runtimeInitErrorCall,
  runtimeNext,
  runtimeRestoreError,
  runtimeRestoreNext,
  runtimeResult,
} from './runtime-api.js';
import type { Sandbox } from './sandbox.js';
import { subscribe } from './telemetry-api.js';

/** Answers one API call; an unknown call gets 404. */
export function route(env: Sandbox, req: ApiRequest, reply: Reply): void {
  const { method, path } = req;
  const call = `${method} ${path}`;
  const result = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
  if (call === 'GET /2018-06-01/runtime/invocation/next') void runtimeNext(env, req, reply);
  else if (call === 'POST /2018-06-01/runtime/init/error') runtimeInitErrorCall(env, req, reply);
  else if (call === 'GET /2018-06-01/runtime/restore/next') runtimeRestoreNext(env, req, reply);
  else if (call === 'POST /2018-06-01/runtime/restore/error') runtimeRestoreError(env, req, reply);
  else if (result && method === 'POST') {
    runtimeResult(env, decodeURIComponent(result[1] as string), result[2] as string, req, reply);
  } else if (call === 'POST /2020-01-01/extension/register') register(env, req, reply);
  else if (call === 'GET /2020-01-01/extension/event/next') extensionNext(env, req, reply);
  else if (call === 'POST /2020-01-01/extension/init/error') extensionError(env, 'init', req, reply);
  else if (call === 'POST /2020-01-01/extension/exit/error') extensionError(env, 'exit', req, reply);
  else if (call === 'PUT /2022-07-01/telemetry') subscribe(env, req, reply);
  else reply.error(404, 'NotFound', `${call} is not an API of the Lambda execution environment`);
}
