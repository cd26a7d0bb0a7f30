import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';
import { type S3Peer, startS3 } from '../../helpers/s3.js';

describe('startS3', () => {
  let s3: S3Peer;
  beforeAll(async () => {
    s3 = await startS3();
  });
  afterAll(async () => {
    await s3?.stop();
  });
  beforeEach(async () => {
    await s3.reset();
  });
  printLogsOnFailure('s3', () => s3);

  it('returns exactly the bytes that were put', async () => {
    // Prepare
    const body = randomBytes(64 * 1024);
    await s3.createBucket('spill');

    // Act
    await s3.putObject('spill', 'traces/a.bin', body, { contentType: 'application/x-protobuf' });
    const got = await s3.getObject('spill', 'traces/a.bin');

    // Assess
    expect(got.equals(body)).toBe(true);
  });

  it('lists only the keys under a prefix, sorted, with their sizes', async () => {
    // Prepare
    await s3.createBucket('spill');
    await s3.putObject('spill', 'traces/2', 'bb');
    await s3.putObject('spill', 'traces/1', 'a');
    await s3.putObject('spill', 'logs/1', 'ccc');

    // Act
    const traces = await s3.listObjects('spill', 'traces/');
    const all = await s3.listObjects('spill');

    // Assess
    expect(traces.map((o) => [o.key, o.size])).toEqual([
      ['traces/1', 1],
      ['traces/2', 2],
    ]);
    expect(all.map((o) => o.key)).toEqual(['logs/1', 'traces/1', 'traces/2']);
    expect(all[0]?.lastModified).toBeInstanceOf(Date);
    expect(all[0]?.lastModified.getTime()).toBeGreaterThan(0);
  });

  it('follows continuation tokens when a listing spans more than one page', async () => {
    // Prepare: S3 pages at 1000 keys.
    await s3.createBucket('many');
    const keys = Array.from({ length: 1003 }, (_, i) => `k/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 25) {
      await Promise.all(keys.slice(i, i + 25).map((k) => s3.putObject('many', k, 'x')));
    }

    // Act
    const listed = await s3.listObjects('many', 'k/');

    // Assess
    expect(listed.map((o) => o.key)).toEqual(keys);
  });

  it('rejects reading a key that does not exist', async () => {
    // Prepare
    await s3.createBucket('spill');

    // Act / Assess
    await expect(s3.getObject('spill', 'nope')).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('rejects writing to a bucket that does not exist', async () => {
    await expect(s3.putObject('no-such-bucket', 'k', 'x')).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });
});
