// The S3 step of the fallback with a scripted S3 client (moto covers the real protocol in
// test/integration/fallback): its own breaker, and the spool as the next step.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { S3Client, S3Error } from '../../../src/aws/index.js';
import type { Logger, SignalExporter } from '../../../src/extension/export/index.js';
import { createFallbackDelivery } from '../../../src/extension/fallback/index.js';

function setup(put: () => Promise<{ etag?: string }>) {
  let t = 1_700_000_000_000;
  let puts = 0;
  const client = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
  client.putObject = async () => {
    puts++;
    return put();
  };
  const lines: string[] = [];
  const log: Logger = {
    debug: () => {},
    info: (m) => lines.push(m),
    warn: (m) => lines.push(m),
    error: (m) => lines.push(m),
  };
  const exporter: SignalExporter = {
    export: async () => ({ kind: 'retryable', reason: 'ECONNREFUSED' }),
    resetConnections() {},
    close() {},
  };
  const delivery = createFallbackDelivery(
    { exporter, env: {}, clock: { now: () => t, monotonic: () => t }, log },
    {
      s3Client: client,
      sleep: async (ms) => {
        t += ms;
      },
      config: {
        s3: { bucket: 'b', prefix: 'p', region: 'us-east-1', sse: { type: 'AES256' }, filePrefix: '' },
        spoolDir: mkdtempSync(join(tmpdir(), 's3-breaker-')),
        spoolMaxBytes: 1 << 20,
        breakerThreshold: 1,
        breakerOpenMs: 10_000,
        breakerMaxOpenMs: 60_000,
        s3ReserveMs: 300,
        spillMinBytes: 0,
        spillMaxAgeMs: 0,
      },
    },
  );
  const deliver = () =>
    delivery.deliver(
      { signal: 'traces', body: new Uint8Array(10), items: 2, oldestAcceptedAt: t },
      { deadline: t + 1000, abort: new AbortController().signal, reason: 'invoke' },
    );
  return { delivery, deliver, puts: () => puts, lines, advance: (ms: number) => (t += ms) };
}

describe('S3 step of the fallback', () => {
  it('spools with the S3 error in the log line, opens the S3 breaker after two failures, then skips S3', async () => {
    const h = setup(async () => {
      throw new S3Error('S3 PUT s3://b/k failed: HTTP 403 AccessDenied', 403, 'AccessDenied');
    });
    for (let i = 0; i < 4; i++) expect((await h.deliver()).kind).toBe('spilled');
    expect(h.puts()).toBe(2);
    expect(await h.delivery.spool.list()).toHaveLength(4);
    expect(h.lines.some((l) => /2 spans spooled to .* S3 skipped: S3 PUT .* 403 AccessDenied/.test(l))).toBe(
      true,
    );
    expect(h.lines.some((l) => l.startsWith('s3 breaker open after 2 failures'))).toBe(true);
    expect(h.delivery.state?.()).toMatchObject({ s3Breaker: 'open' });
  });

  it('probes S3 again after the cool-down and uses it once it works', async () => {
    let ok = false;
    const h = setup(async () => {
      if (ok) return {};
      throw new S3Error('S3 PUT failed: HTTP 503 SlowDown', 503, 'SlowDown');
    });
    await h.deliver();
    await h.deliver();
    ok = true;
    h.advance(10_000);
    const res = await h.deliver();
    expect(res).toMatchObject({ kind: 'spilled', location: expect.stringMatching(/^s3:\/\/b\/p\/year=/) });
    expect(h.delivery.state?.()).toMatchObject({ s3Breaker: 'closed' });
  });
});
