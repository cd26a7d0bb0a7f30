import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { type MotoServer, type MotoServerOptions, startMotoServer } from './moto.js';

export interface S3ObjectSummary {
  key: string;
  size: number;
  lastModified: Date;
}

/**
 * A real S3-protocol server (moto) plus an independent reference client (@aws-sdk/client-s3,
 * path-style) for arranging and checking what the code under test wrote.
 */
export interface S3Peer {
  endpoint: string;
  region: string;
  /** AWS_* variables for clients under test (see MotoServer.env; path-style must be set in code). */
  env: Record<string, string>;
  /** The reference client, for anything the helpers below do not cover. */
  client: S3Client;
  createBucket(name: string): Promise<void>;
  /** Every object under prefix, following continuation tokens, sorted by key. */
  listObjects(bucket: string, prefix?: string): Promise<S3ObjectSummary[]>;
  getObject(bucket: string, key: string): Promise<Buffer>;
  putObject(
    bucket: string,
    key: string,
    body: Uint8Array | string,
    opts?: { contentType?: string },
  ): Promise<void>;
  /** Forgets every bucket and object. */
  reset(): Promise<void>;
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  logs(): string;
}

/** Starts moto and a reference S3 client for it. */
export async function startS3(opts: MotoServerOptions = {}): Promise<S3Peer> {
  const moto: MotoServer = await startMotoServer(opts);
  const client = new S3Client({
    endpoint: moto.endpoint,
    region: moto.region,
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
  });
  return {
    endpoint: moto.endpoint,
    region: moto.region,
    env: moto.env,
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async listObjects(bucket, prefix) {
      const out: S3ObjectSummary[] = [];
      let token: string | undefined;
      // 10 000 pages of 1 000 keys is far beyond any test; the bound keeps a broken server from looping us.
      for (let page = 0; page < 10_000; page++) {
        const res = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of res.Contents ?? []) {
          out.push({ key: o.Key ?? '', size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
        }
        if (!res.IsTruncated || !res.NextContinuationToken) break;
        token = res.NextContinuationToken;
      }
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async getObject(bucket, key) {
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!res.Body) throw new Error(`s3 peer: s3://${bucket}/${key} has no body`);
      return Buffer.from(await res.Body.transformToByteArray());
    },
    async putObject(bucket, key, body, putOpts) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: putOpts?.contentType }),
      );
    },
    reset: () => moto.reset(),
    async stop() {
      client.destroy();
      await moto.stop();
    },
    kill: (signal) => moto.kill(signal),
    logs: () => moto.logs(),
  };
}
