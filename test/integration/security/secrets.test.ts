// Secrets never reach the extension's log: OTLP headers (including malformed entries),
// endpoint userinfo, AWS credentials and what they sign. The built extension runs at debug level
// through the paths that log the most: a collector that refuses, an S3 that refuses, the /tmp spool.
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ExtensionRun,
  invokeEvent,
  postTraces,
  refusingServer,
  shutdownEvent,
  startExtension,
} from './extension-process.js';

let run: ExtensionRun | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await run?.stop();
  run = undefined;
  for (const c of closers.splice(0)) await c();
});

describe('secrets in logs', () => {
  it('logs no header value, endpoint password or AWS secret while exports, spills and spools fail', async () => {
    const collector = await refusingServer(503, 'upstream unavailable');
    const s3 = await refusingServer(
      403,
      '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
    );
    closers.push(collector.close, s3.close);
    const endpoint = new URL(collector.url);
    endpoint.username = 'relay-user';
    endpoint.password = 'SECRET-PASSWORD';
    run = await startExtension({
      env: {
        OTEL_RELAY_LOG_LEVEL: 'debug',
        OTEL_RELAY_FLUSH: 'end',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint.href,
        OTEL_EXPORTER_OTLP_HEADERS:
          'authorization=Bearer%20SECRET-BEARER,x-api-key=SECRET-API-KEY,SECRET-BROKEN-ENTRY,k=%E0%A4%ASECRET-BAD-ENC',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant-token=SECRET-TENANT',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'SECRET-AWS-ACCESS-KEY',
        AWS_SESSION_TOKEN: 'SECRET-SESSION-TOKEN',
        AWS_REGION: 'us-east-1',
        OTEL_RELAY_FALLBACK_S3_URI: 's3://sec-bucket/relay',
        OTEL_RELAY_S3_ENDPOINT: s3.url,
      },
    });
    const port = Number((await run.waitForOutput(/"http":(\d+)/))[1]);
    run.answerNext(invokeEvent('req-secrets', Date.now() + 5_000));
    await postTraces(port, 3);
    await fetch(`http://127.0.0.1:${port}/relay/v1/invocations/req-secrets/done`, {
      method: 'POST',
      signal: AbortSignal.timeout(5_000),
    });
    run.answerNext(shutdownEvent());
    expect(await run.exited()).toBe(0);

    // The secrets were really in play: the collector got the headers, S3 the session token.
    expect(collector.seen.some((h) => h.authorization === 'Bearer SECRET-BEARER')).toBe(true);
    expect(collector.seen.some((h) => h['x-tenant-token'] === 'SECRET-TENANT')).toBe(true);
    expect(s3.seen.some((h) => h['x-amz-security-token'] === 'SECRET-SESSION-TOKEN')).toBe(true);
    const out = run.stdout();
    // And what happened to the data was logged, without them.
    expect(out).toMatch(/spooled to/);
    expect(out).toMatch(/OTEL_EXPORTER_OTLP_HEADERS has an entry/);
    expect(out.match(/SECRET[-A-Z]*/g) ?? []).toEqual([]);
    expect(out).not.toMatch(/Signature=|AWS4-HMAC-SHA256|x-amz-security-token/i);
  });
});
