import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector } from '../../helpers/collector.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { type S3Peer, startS3 } from '../../helpers/s3.js';

/** `prefix/year=…/minute=…/` for a time, as the awss3 receiver lists it (UTC). */
function partition(prefix: string, t: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${prefix}/year=${t.getUTCFullYear()}/month=${p(t.getUTCMonth() + 1)}/day=${p(t.getUTCDate())}/hour=${p(t.getUTCHours())}/minute=${p(t.getUTCMinutes())}`;
}

describe('startCollector with the awss3 receiver', () => {
  let s3: S3Peer;
  beforeAll(async () => {
    s3 = await startS3();
  });
  afterAll(async () => {
    await s3?.stop();
  });
  printLogsOnFailure('s3', () => s3);

  it('reads OTLP/JSON objects, plain and gzipped, from S3 in the time range into received()', async () => {
    // Prepare
    const spanId = randomBytes(8).toString('hex');
    const marker = randomBytes(6).toString('hex');
    const at = new Date('2026-01-02T03:04:30Z');
    await s3.createBucket('spill');
    const traces = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: randomBytes(16).toString('hex'),
                  spanId,
                  name: 'from-s3',
                  startTimeUnixNano: '1',
                  endTimeUnixNano: '2',
                },
              ],
            },
          ],
        },
      ],
    };
    const logs = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: marker } }] }] }] };
    await s3.putObject('spill', `${partition('relay', at)}/traces_a.json`, JSON.stringify(traces));
    await s3.putObject('spill', `${partition('relay', at)}/logs_b.json.gz`, gzipSync(JSON.stringify(logs)));
    // Outside the range: must not be read.
    await s3.putObject(
      'spill',
      `${partition('relay', new Date('2026-01-02T05:00:00Z'))}/traces_c.json`,
      JSON.stringify(traces),
    );

    // Act
    const collector = await startCollector({
      env: s3.env,
      awss3: {
        endpoint: s3.endpoint,
        bucket: 'spill',
        prefix: 'relay',
        startTime: '2026-01-02 03:03',
        endTime: '2026-01-02 03:06',
      },
    });
    try {
      const r = await collector.waitFor(
        (x) => x.spans().some((s) => s.spanId === spanId) && x.logRecords().some((l) => l.body === marker),
        20_000,
      );

      // The receiver logs this once per signal when it has read its whole range.
      const finished = (l: string): number => l.match(/Finished reading telemetry/g)?.length ?? 0;
      const logs = await collector.waitForLogs((l) => finished(l) === 3, 20_000);
      const all = await collector.received();

      // Assess
      expect(finished(logs)).toBe(3);
      expect(all.spans().filter((s) => s.spanId === spanId)).toHaveLength(1);
      expect(r.spans().find((s) => s.spanId === spanId)?.name).toBe('from-s3');
    } catch (err) {
      process.stderr.write(collector.logs());
      throw err;
    } finally {
      await collector.stop();
    }
  });
});
