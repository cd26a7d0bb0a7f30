import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MotoServer, startMotoServer } from '../../helpers/moto.js';
import { printLogsOnFailure } from '../../helpers/peer-logs.js';

const execFileP = promisify(execFile);

describe('startMotoServer', () => {
  let moto: MotoServer;
  beforeAll(async () => {
    moto = await startMotoServer();
  });
  afterAll(async () => {
    await moto?.stop();
  });
  printLogsOnFailure('moto', () => moto);

  it('listens on an ephemeral loopback port and answers S3 requests', async () => {
    // Prepare / Act
    const url = new URL(moto.endpoint);
    const res = await fetch(moto.endpoint, { signal: AbortSignal.timeout(5_000) });
    const body = await res.text();

    // Assess
    expect(url.hostname).toBe('127.0.0.1');
    expect(Number(url.port)).toBeGreaterThan(0);
    expect(res.status).toBe(200);
    expect(body).toContain('ListAllMyBucketsResult');
  });

  it('gives an SDK client in another process everything it needs through env alone', async () => {
    // Prepare: a child with no AWS settings but moto.env, using the SDK's default resolution.
    const script = `
      import { S3Client, CreateBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
      const s3 = new S3Client({ forcePathStyle: true });
      await s3.send(new CreateBucketCommand({ Bucket: 'from-env' }));
      const out = await s3.send(new ListBucketsCommand({}));
      console.log(JSON.stringify(out.Buckets.map((b) => b.Name)));
    `;
    const env = { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...moto.env };

    // Act
    const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script], {
      env,
      cwd: process.cwd(),
      timeout: 30_000,
    });

    // Assess
    expect(JSON.parse(stdout)).toContain('from-env');
    expect(moto.logs()).toMatch(/PUT \/from-env/);
  });

  it('forgets every bucket when reset', async () => {
    // Prepare
    await fetch(`${moto.endpoint}/reset-me`, { method: 'PUT', signal: AbortSignal.timeout(5_000) });
    const before = await (await fetch(moto.endpoint)).text();

    // Act
    await moto.reset();
    const after = await (await fetch(moto.endpoint)).text();

    // Assess
    expect(before).toContain('<Name>reset-me</Name>');
    expect(after).not.toContain('<Name>reset-me</Name>');
  });
});

describe('startMotoServer lifecycle', () => {
  it('gives each server its own port and stops answering once stopped', async () => {
    // Prepare
    const a = await startMotoServer();
    const b = await startMotoServer();
    try {
      // Act
      await a.stop();
      const refused = await fetch(a.endpoint, { signal: AbortSignal.timeout(5_000) }).then(
        () => 'answered',
        (err: Error) => (err.cause as NodeJS.ErrnoException | undefined)?.code ?? err.message,
      );
      const stillUp = await fetch(b.endpoint, { signal: AbortSignal.timeout(5_000) });

      // Assess
      expect(a.endpoint).not.toBe(b.endpoint);
      expect(refused).toBe('ECONNREFUSED');
      expect(stillUp.status).toBe(200);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
