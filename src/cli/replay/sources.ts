// What `replay` re-sends: objects the extension (or a collector's awss3exporter) wrote to S3, or
// files in a /tmp spool directory. Each item is loaded only when it is sent, and removed only after
// the collector confirmed it.

import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { S3Client } from '../../aws/index.js';
import {
  hasDotSegment,
  listSpoolDir,
  parseObjectKey,
  type S3Location,
  Spool,
} from '../../extension/fallback/index.js';
import type { Signal } from '../../otlp/index.js';

const gunzipAsync = promisify(gunzip);
/** A replayed object may not gunzip past this: the largest batch the relay writes (its buffer's cap). */
export const MAX_REPLAY_OBJECT_BYTES = 1024 * 1024 * 1024;

export interface ReplayItem {
  /** `s3://bucket/key` or a file path: what the summary and errors name. */
  id: string;
  signal: Signal;
  contentType: 'application/x-protobuf' | 'application/json';
  bytes: number;
  /** Items, when the source knows without decoding (spool file names, S3 object metadata). */
  items?: number;
  load(): Promise<Uint8Array>;
  remove(): Promise<void>;
}

export interface ReplayListing {
  items: ReplayItem[];
  /** Objects under the prefix that are not in the awss3exporter layout, or outside the time range. */
  skipped: number;
  /** Objects left alone because their key is unsafe to request (a `.` or `..` segment). */
  refused: string[];
}

export interface TimeRange {
  since?: number;
  until?: number;
}

const inRange = (t: number, r: TimeRange) =>
  (r.since === undefined || t >= r.since) && (r.until === undefined || t < r.until);

/**
 * One object in the layout (see parseObjectKey) as a replay item: loaded (and gunzipped) only when
 * sent, deleted only after the collector took it. Used by `replay` and by the replay function that
 * S3 events invoke, so both send exactly alike.
 */
export function s3ObjectItem(
  client: S3Client,
  bucket: string,
  key: string,
  size: number,
  parsed: NonNullable<ReturnType<typeof parseObjectKey>>,
): ReplayItem {
  const id = `s3://${bucket}/${key}`;
  const item: ReplayItem = {
    id,
    signal: parsed.signal,
    contentType: parsed.format === 'json' ? 'application/json' : 'application/x-protobuf',
    bytes: size,
    async load() {
      const { body, metadata } = await client.getObjectWithMetadata({ bucket, key });
      const n = Number(metadata['otel-items']);
      if (Number.isInteger(n) && n >= 0) item.items = n;
      if (!parsed.gzip) return body;
      try {
        return new Uint8Array(await gunzipAsync(body, { maxOutputLength: MAX_REPLAY_OBJECT_BYTES }));
      } catch (cause) {
        throw new Error(
          `${id} does not gunzip to at most ${MAX_REPLAY_OBJECT_BYTES} bytes; it was not sent and stays in S3`,
          { cause },
        );
      }
    },
    remove: () => client.deleteObject({ bucket, key }),
  };
  return item;
}

export async function listS3(
  client: S3Client,
  location: S3Location,
  range: TimeRange,
  signals: ReadonlySet<Signal>,
): Promise<ReplayListing> {
  const items: ReplayItem[] = [];
  let skipped = 0;
  const prefix = location.prefix ? `${location.prefix}/` : '';
  const refused: string[] = [];
  for await (const obj of client.listAll({ bucket: location.bucket, prefix })) {
    if (hasDotSegment(obj.key)) {
      // Such a key cannot be fetched as itself through URL-normalizing paths: never guess which object.
      refused.push(`s3://${location.bucket}/${obj.key}`);
      continue;
    }
    const parsed = parseObjectKey(obj.key);
    // The minute partition is when the object was written; a partition overlapping the range counts.
    if (
      !parsed ||
      !signals.has(parsed.signal) ||
      !inRange(parsed.minute + 59_999, { since: range.since }) ||
      !inRange(parsed.minute, { until: range.until })
    ) {
      skipped++;
      continue;
    }
    items.push(s3ObjectItem(client, location.bucket, obj.key, obj.size, parsed));
  }
  // Keys hold a UUIDv7 after the partition, so key order is time order; oldest first.
  items.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { items, skipped, refused };
}

export async function listSpool(
  dir: string,
  range: TimeRange,
  signals: ReadonlySet<Signal>,
): Promise<ReplayListing> {
  // Bounded like an S3 object: a larger file is moved aside, never read into memory.
  const spool = new Spool({ dir, maxBytes: MAX_REPLAY_OBJECT_BYTES });
  const items: ReplayItem[] = [];
  let skipped = 0;
  for (const entry of await listSpoolDir(dir)) {
    if (!signals.has(entry.signal) || !inRange(entry.createdAt, range)) {
      skipped++;
      continue;
    }
    // The item count is the validated content's, known once loaded; a file name is only a hint.
    const item: ReplayItem = {
      id: entry.path,
      signal: entry.signal,
      contentType: 'application/x-protobuf',
      bytes: entry.bytes,
      async load() {
        const batch = await spool.read(entry);
        item.items = batch.items;
        return batch.body;
      },
      remove: () => spool.remove(entry),
    };
    items.push(item);
  }
  return { items, skipped, refused: [] };
}
