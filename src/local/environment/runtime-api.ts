// The Runtime API (/2018-06-01): the runtime's long poll for the next event,
// its response or error for an invocation, and its init error.
import type { ApiRequest, Reply } from '../api-server.js';
import { round3 } from '../clock.js';
import { normaliseErrorType, parseJson } from '../wire.js';
import type { Invocation, Sandbox } from './sandbox.js';

/** GET /runtime/invocation/next: ends the current invoke's runtime part (runtimeDone) and parks the runtime. */
export async function runtimeNext(env: Sandbox, req: ApiRequest, reply: Reply): Promise<void> {
  const runtime = env.runtime;
  if (!runtime || env.phase === 'shutdown' || env.phase === 'dead') {
    reply.error(403, 'InvalidStateTransition', 'the runtime is being shut down');
    return;
  }
  // Function logs written before this call must be records before runtimeDone / initRuntimeDone.
  await runtime.drain();
  if (env.mode === 'managed-instances') {
    const next = env.queued.shift();
    if (next) reply.raw(200, next.event, invocationHeaders(next));
    else env.runtimeParked.push(reply);
    if (!env.runtimeReady) {
      env.runtimeReady = true;
      env.registrationOpen = false;
    }
    env.poke();
    return;
  }
  if (env.runtimeParked.some((r) => !r.done)) {
    reply.error(403, 'InvalidStateTransition', 'the runtime already waits in /next');
    return;
  }
  const inv = env.current;
  if (env.phase === 'invoke' && inv && inv.runtimeNextAt === undefined && inv.releasedAt !== undefined) {
    if (!inv.response) {
      reply.error(403, 'InvalidStateTransition', `invocation ${inv.requestId} has no response or error yet`);
      return;
    }
    inv.runtimeNextAt = req.receivedAt;
    inv.runtimeDoneEmitted = true;
    const r = inv.response;
    const releasedAt = inv.releasedAt;
    env.relay.emit('platform.runtimeDone', {
      requestId: inv.requestId,
      status: r.status,
      ...(r.errorType ? { errorType: r.errorType } : {}),
      metrics: { durationMs: round3(req.receivedAt - releasedAt), producedBytes: r.bytes },
      spans: [
        {
          name: 'responseLatency',
          start: new Date(releasedAt).toISOString(),
          durationMs: round3(r.startedAt - releasedAt),
        },
        {
          name: 'responseDuration',
          start: new Date(r.startedAt).toISOString(),
          durationMs: round3(r.receivedAt - r.startedAt),
        },
        {
          name: 'runtimeOverhead',
          start: new Date(r.receivedAt).toISOString(),
          durationMs: round3(req.receivedAt - r.receivedAt),
        },
      ],
      tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
    });
  }
  if (!env.runtimeReady) {
    env.runtimeReady = true;
    // Internal extensions may register until the runtime's first /next.
    env.registrationOpen = false;
  }
  const queued = env.queued.shift();
  if (queued) reply.raw(200, queued.event, invocationHeaders(queued));
  else env.runtimeParked.push(reply);
  env.poke();
}

/** POST /runtime/invocation/{id}/response|error, streamed responses and their error trailers included. */
export function runtimeResult(env: Sandbox, id: string, kind: string, req: ApiRequest, reply: Reply): void {
  const inv = env.inflight.get(id);
  if (!inv || inv.releasedAt === undefined) {
    reply.error(400, 'InvalidRequestID', `Invalid request ID: ${id} is not the invocation in progress`);
    return;
  }
  if (inv.response) {
    if (inv.timedOut && env.mode === 'managed-instances') env.inflight.delete(id);
    reply.error(
      403,
      'InvalidStateTransition',
      `invocation ${id} already has a ${inv.response.status === 'success' ? 'response' : 'error'}`,
    );
    return;
  }
  const base = { startedAt: req.startedAt, receivedAt: req.receivedAt, bytes: req.body.length };
  if (kind === 'response') {
    const mode = req.headers['lambda-runtime-function-response-mode'];
    if (mode !== undefined && mode !== 'streaming') {
      reply.error(400, 'InvalidFunctionResponseMode', `response mode ${String(mode)} is not supported`);
      return;
    }
    if (req.tooLarge) {
      reply.error(
        413,
        'RequestEntityTooLarge',
        'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
      );
      inv.response = {
        ...base,
        status: 'error',
        errorType: 'Function.ResponseSizeTooLarge',
        body: {
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
        },
      };
    } else {
      const trailerType = req.trailers['lambda-runtime-function-error-type'];
      if (mode === 'streaming' && trailerType) {
        const raw = req.trailers['lambda-runtime-function-error-body'];
        inv.response = {
          ...base,
          status: 'error',
          errorType: normaliseErrorType(trailerType),
          body: parseJson(raw ? Buffer.from(raw, 'base64').toString('utf8') : ''),
        };
      } else {
        inv.response = { ...base, status: 'success', body: parseJson(req.body.toString('utf8')) };
      }
      reply.json(202, { status: 'OK' });
    }
  } else {
    inv.response = {
      ...base,
      status: 'error',
      errorType: normaliseErrorType(req.headers['lambda-runtime-function-error-type']),
      body: parseJson(req.body.toString('utf8')),
    };
    reply.json(202, { status: 'OK' });
  }
  const r = inv.response;
  if (r) inv.opts.onResponse?.({ status: r.status, body: r.body });
  if (inv.timedOut) env.inflight.delete(id);
  env.poke();
}

/** POST /runtime/init/error: Init fails with the runtime's error type. */
export function runtimeInitErrorCall(env: Sandbox, req: ApiRequest, reply: Reply): void {
  if (env.phase !== 'init' || env.runtimeReady) {
    reply.error(403, 'InvalidStateTransition', 'init/error is only accepted during init');
    return;
  }
  const errorType = normaliseErrorType(req.headers['lambda-runtime-function-error-type']);
  env.runtimeInitError = errorType;
  const body = parseJson(req.body.toString('utf8')) as { errorMessage?: string } | undefined;
  env.failure ??= { errorType, message: String(body?.errorMessage ?? errorType) };
  reply.json(202, { status: 'OK' });
  env.poke();
}

/**
 * GET /runtime/restore/next (SnapStart only): the runtime has run its before-snapshot hooks and is ready
 * (Init's initRuntimeDone); the call is held across the snapshot and answered when the Restore phase starts.
 */
export async function runtimeRestoreNext(env: Sandbox, _req: ApiRequest, reply: Reply): Promise<void> {
  const runtime = env.runtime;
  if (env.mode !== 'snap-start') {
    reply.error(403, 'InvalidStateTransition', 'restore/next is only accepted in SnapStart mode');
    return;
  }
  if (!runtime || env.phase !== 'init' || env.runtimeReady) {
    reply.error(403, 'InvalidStateTransition', 'restore/next is only accepted once, at the end of Init');
    return;
  }
  // Function logs written before this call must be records before initRuntimeDone.
  await runtime.drain();
  env.restoreParked = reply;
  env.runtimeReady = true;
  env.registrationOpen = false;
  env.poke();
}

/** POST /runtime/restore/error (SnapStart only): an after-restore hook failed; the Restore phase fails. */
export function runtimeRestoreError(env: Sandbox, req: ApiRequest, reply: Reply): void {
  if (env.mode !== 'snap-start' || env.phase !== 'restore') {
    reply.error(403, 'InvalidStateTransition', 'restore/error is only accepted during the Restore phase');
    return;
  }
  const errorType = normaliseErrorType(req.headers['lambda-runtime-function-error-type']);
  const body = parseJson(req.body.toString('utf8')) as { errorMessage?: string } | undefined;
  env.failure ??= { errorType, message: String(body?.errorMessage ?? errorType) };
  reply.json(202, { status: 'OK' });
  env.poke();
}

/** Hands the event to a parked /next, or queues it for the next one. */
export function releaseToRuntime(env: Sandbox, inv: Invocation): void {
  while (env.runtimeParked.length) {
    const reply = env.runtimeParked.shift() as Reply;
    if (reply.done) continue;
    reply.raw(200, inv.event, invocationHeaders(inv));
    return;
  }
  env.queued.push(inv);
}

function invocationHeaders(inv: Invocation): Record<string, string> {
  const h: Record<string, string> = {
    'Content-Type': 'application/json',
    'Lambda-Runtime-Aws-Request-Id': inv.requestId,
    'Lambda-Runtime-Deadline-Ms': String(inv.deadlineMs),
    'Lambda-Runtime-Invoked-Function-Arn': inv.arn,
    'Lambda-Runtime-Trace-Id': inv.traceId,
  };
  if (inv.opts.clientContext !== undefined)
    h['Lambda-Runtime-Client-Context'] = JSON.stringify(inv.opts.clientContext);
  if (inv.opts.identity !== undefined)
    h['Lambda-Runtime-Cognito-Identity'] = JSON.stringify(inv.opts.identity);
  if (inv.opts.tenantId !== undefined) h['Lambda-Runtime-Aws-Tenant-Id'] = inv.opts.tenantId;
  return h;
}
