// OTLP/HTTP protobuf to AWS's own OTLP endpoints (X-Ray for traces, CloudWatch Logs for logs), signed
// with SigV4 from the function's role (the credentials Lambda puts in the environment). The batch's
// bytes go out untouched: no decode.
import { defaultCredentialProvider, regionFromEnv, signRequest } from '../../aws/index.js';
import type { Signal } from '../export/types.js';
import type { Setting } from '../settings/registry.js';
import { sendOnce } from './http.js';
import { type Env, requireUrl, settingReader } from './read.js';
import type { Destination, DestinationContext } from './types.js';

export interface AwsOtlpSpec {
  name: string;
  signal: Signal;
  /** SigV4 service name: `xray` or `logs`. */
  service: string;
  endpoint: Setting<string | undefined>;
  timeout: Setting<number>;
  /** Headers the endpoint needs besides the signature (e.g. the log group), read from settings. */
  headers?: (env: Env) => Record<string, string>;
}

/** The regional endpoint, `https://<service>.<region>.amazonaws.com/v1/<signal>`, unless overridden. */
export function defaultEndpoint(service: string, signal: Signal, env: Env): string {
  return `https://${service}.${regionFromEnv(env)}.amazonaws.com/v1/${signal}`;
}

export function createAwsOtlpDestination(ctx: DestinationContext, spec: AwsOtlpSpec): Destination {
  const env = ctx.env;
  const read = settingReader(ctx);
  const url = requireUrl(
    read(spec.endpoint) ?? defaultEndpoint(spec.service, spec.signal, env),
    spec.endpoint,
    spec.name,
  );
  const timeoutMs = read(spec.timeout);
  const region = regionFromEnv(env);
  const extra = spec.headers?.(env) ?? {};
  const credentials = defaultCredentialProvider(env, () => ctx.clock.now());
  return {
    name: spec.name,
    signals: new Set([spec.signal]),
    async export(signal, body, budget) {
      if (signal !== spec.signal)
        return { kind: 'failed', reason: `${spec.name} takes ${spec.signal} only, not ${signal}` };
      let creds: Awaited<ReturnType<typeof credentials>>;
      try {
        creds = await credentials({
          timeoutMs: Math.max(1, budget.deadline - ctx.clock.now()),
          signal: budget.abort,
        });
      } catch (err) {
        return {
          kind: 'retryable',
          notThisFlush: true,
          reason: `${spec.name}: no AWS credentials to sign with (${(err as Error).message}); the batch is kept`,
        };
      }
      const signed = signRequest(
        {
          method: 'POST',
          host: url.host,
          path: url.pathname,
          headers: { 'content-type': 'application/x-protobuf', ...extra },
          body,
        },
        { credentials: creds, region, service: spec.service, date: new Date(ctx.clock.now()) },
      );
      const target = new URL(signed.pathAndQuery, url);
      return sendOnce(spec.name, target, { headers: signed.headers, body, timeoutMs }, budget, ctx.clock);
    },
    resetConnections() {},
    close() {},
  };
}
