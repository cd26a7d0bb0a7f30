// Chaos with a real collector process SIGKILLed mid-run and started again on the same ports (its own
// collector, so the other chaos scenarios keep theirs): what it had is kept, what it missed goes to
// S3, and once it is back the relay probes it, closes the breaker and delivers again.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CollectorPeer, startCollector } from '../helpers/collector.js';
import { printLogsOnFailure } from '../helpers/peer-logs.js';
import { type S3Peer, startS3 } from '../helpers/s3.js';
import {
  checkExactlyOnce,
  missingFromS3,
  spanIdsInS3,
  spanIdsInSpool,
  spanIdsWithUnknownS3Outcome,
} from './accounting.js';
import { type RelayEnv, startRelayEnv } from './relay-env.js';

let collector: CollectorPeer;
let s3: S3Peer;
let relay: RelayEnv | undefined;

beforeAll(async () => {
  [collector, s3] = await Promise.all([startCollector(), startS3()]);
  await s3.createBucket('kill');
});
afterAll(async () => {
  await Promise.all([collector?.stop(), s3?.stop()]);
});
afterEach(async () => {
  await relay?.env.dispose();
  relay = undefined;
});
printLogsOnFailure('emulator', () => (relay ? { logs: () => relay?.env.output() ?? '' } : undefined));

async function invoke(r: RelayEnv, n: number, tag: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await r.env.invoke({ spans: 2, tag: `${tag}-${i}` });
    expect(res.status).toBe('success');
    ids.push(...(res.response as { spanIds: string[] }).spanIds);
  }
  return ids;
}

describe('chaos: the collector process dies', () => {
  it('keeps what the collector had, spills what it missed, and delivers again once it restarts', async () => {
    relay = await startRelayEnv({
      collectorUrl: collector.httpEndpoint,
      s3: { peer: s3, endpoint: s3.endpoint, uri: 's3://kill/fb' },
      extra: { OTEL_RELAY_BREAKER_OPEN_MS: '100', OTEL_RELAY_SPILL_MIN_BYTES: '0' },
    });
    const before = await invoke(relay, 2, 'before');
    await collector.waitFor((r) => r.spans().length >= before.length, 10_000);
    collector.kill('SIGKILL');
    const during = await invoke(relay, 4, 'during');
    await collector.restart();
    await new Promise((r) => setTimeout(r, 150));
    const after = await invoke(relay, 3, 'after');
    await relay.env.shutdown();

    const sent = [...before, ...during, ...after];
    const got = await collector.waitFor(
      (r) => after.every((id) => r.spans().some((s) => s.spanId === id)),
      15_000,
    );
    const where = {
      collector: got.spans().map((s) => s.spanId),
      s3: await spanIdsInS3(s3, 'kill', 'fb/'),
      spool: await spanIdsInSpool(relay.spoolDir),
    };
    const mayRepeat = await spanIdsWithUnknownS3Outcome(relay.env.output());
    expect(checkExactlyOnce(sent, where, mayRepeat)).toEqual([]);
    expect(await missingFromS3(during, where, relay.env.output())).toEqual([]);
    expect(relay.env.output()).toMatch(/collector breaker closed: probe succeeded/);
  });
});
