// One invoke on Lambda Managed Instances: invokes run concurrently on the
// runtime's workers, the environment never freezes, a timeout is reported but not enforced.
import { round3 } from '../clock.js';
import type { InvocationResult, InvocationStatus, InvokeOptions } from '../types.js';
import { toInvocationError } from '../wire.js';
import { EnvironmentTerminatedError, TooManyRequestsError } from './errors.js';
import { emitStart, newInvocation, release } from './invoke.js';
import type { Sandbox } from './sandbox.js';

/** One invoke on a runtime worker; rejected when every worker is busy. */
export async function invokeManaged(
  env: Sandbox,
  event: unknown,
  opts: InvokeOptions,
): Promise<InvocationResult> {
  if (env.needsInit) {
    throw new EnvironmentTerminatedError(
      `init failed (${env.initResult?.errorType ?? env.initResult?.status}); a Managed Instances environment is not repaired`,
    );
  }
  if (env.inflight.size >= env.maxConcurrency) {
    throw new TooManyRequestsError(
      `all ${env.maxConcurrency} runtime workers are busy (AWS_LAMBDA_MAX_CONCURRENCY); the invoke was rejected`,
    );
  }
  const inv = newInvocation(env, event, opts);
  const deadline = inv.start + env.cfg.timeoutMs;
  env.inflight.set(inv.requestId, inv);
  emitStart(env, inv);
  release(env, inv);
  // The timeout is reported, not enforced: the code keeps running and its worker stays busy.
  await env.until(() => inv.response !== undefined || env.terminated, deadline);
  const endAt = env.clock.now();
  let status: InvocationStatus;
  let errorType: string | undefined;
  if (inv.response) {
    status = inv.response.status;
    errorType = inv.response.errorType;
  } else if (env.terminated) {
    status = 'failure';
    errorType = env.failure?.errorType ?? 'Runtime.ExitError';
    env.inflight.delete(inv.requestId);
  } else {
    status = 'timeout';
    inv.timedOut = true;
    errorType = 'Sandbox.Timedout';
  }
  if (inv.response) env.inflight.delete(inv.requestId);
  const durationMs = round3((inv.response?.receivedAt ?? endAt) - inv.start);
  const spans = inv.response
    ? [
        {
          name: 'responseLatency',
          start: new Date(inv.releasedAt ?? inv.start).toISOString(),
          durationMs: round3(inv.response.startedAt - (inv.releasedAt ?? inv.start)),
        },
        {
          name: 'responseDuration',
          start: new Date(inv.response.startedAt).toISOString(),
          durationMs: round3(inv.response.receivedAt - inv.response.startedAt),
        },
      ]
    : [];
  env.relay.emit('platform.report', {
    requestId: inv.requestId,
    status,
    ...(errorType && status !== 'success' && status !== 'timeout' ? { errorType } : {}),
    metrics: { durationMs },
    spans,
    tracing: { type: 'X-Amzn-Trace-Id', value: inv.traceId },
  });
  const result: InvocationResult = {
    requestId: inv.requestId,
    status,
    durationMs,
    postRuntimeMs: 0,
    billedDurationMs: Math.ceil(durationMs),
    maxMemoryUsedMB: env.maxMemoryMb(),
  };
  if (inv.response) {
    result.responseMs = round3(inv.response.receivedAt - inv.start);
    if (inv.response.status === 'success') result.response = inv.response.body;
    else result.error = toInvocationError(inv.response.body, inv.response.errorType);
  } else if (status === 'timeout') {
    result.error = {
      errorType: 'Sandbox.Timedout',
      errorMessage: `Task timed out after ${(env.cfg.timeoutMs / 1000).toFixed(2)} seconds`,
    };
  } else {
    result.error = {
      errorType: errorType ?? 'Runtime.ExitError',
      errorMessage: env.failure?.message ?? 'environment terminated',
    };
  }
  if (errorType) result.errorType = errorType;
  return result;
}
