// Object keys and bodies as the OpenTelemetry Collector's awss3exporter writes them with
// `marshaler: otlp_proto`, `compression: gzip` and the default `s3_partition_format`, so that the
// collector's awss3receiver (s3_partition: minute) and our `replay` read them back:
//   <prefix>/year=YYYY/month=MM/day=DD/hour=HH/minute=mm/<file prefix><signal>_<unique id>.binpb.gz
// The unique id is a UUIDv7 (the exporter's `unique_key_func_name: uuidv7`), so keys sort by time.
import type { Signal } from '../../otlp/index.js';
import { randomBytes } from '../random.js';

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash; may be empty. */
  prefix: string;
}

/** Parses `s3://bucket[/prefix]`. Throws a message fit for a config log line. */
export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri.trim());
  if (!m?.[1] || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(m[1])) {
    throw new Error(`"${uri}" is not an S3 URI of the form s3://bucket[/prefix]`);
  }
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (hasDotSegment(prefix)) {
    // S3 keeps `.`/`..` literally but URL handling collapses them: the key signed is not the key sent.
    throw new Error(`"${uri}" has a "." or ".." segment in its prefix; S3 keys here may not`);
  }
  return { bucket: m[1], prefix };
}

/** True when a key (or a part of one) has a `.` or `..` path segment. */
export function hasDotSegment(key: string): boolean {
  return key.split('/').some((s) => s === '.' || s === '..');
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The minute partition for a time, in UTC: `year=2026/month=11/day=21/hour=07/minute=42`. */
export function minutePartition(epochMs: number): string {
  const d = new Date(epochMs);
  return `year=${d.getUTCFullYear()}/month=${pad(d.getUTCMonth() + 1)}/day=${pad(d.getUTCDate())}/hour=${pad(d.getUTCHours())}/minute=${pad(d.getUTCMinutes())}`;
}

/** RFC 9562 UUIDv7: 48 bits of epoch ms, then random bits. */
export function uuidv7(epochMs: number): string {
  const b = randomBytes(16);
  const ms = BigInt(Math.max(0, Math.floor(epochMs)));
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x70;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function objectKey(location: S3Location, signal: Signal, epochMs: number, filePrefix = ''): string {
  const dir = location.prefix ? `${location.prefix}/${minutePartition(epochMs)}` : minutePartition(epochMs);
  return `${dir}/${filePrefix}${signal}_${uuidv7(epochMs)}.binpb.gz`;
}

export interface ParsedObjectKey {
  signal: Signal;
  /** Start of the minute (or hour) partition, epoch ms (UTC). */
  minute: number;
  /** `otlp_proto` objects end in .binpb, `otlp_json` ones (the exporter's default) in .json. */
  format: 'protobuf' | 'json';
  gzip: boolean;
}

const KEY =
  /(?:^|\/)year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/hour=(\d{2})(?:\/minute=(\d{2}))?\/[^/]*?(traces|metrics|logs)_[^/]+\.(binpb|json)(\.gz)?$/;

/** Reads signal and time back from a key in the layout above; undefined for anything else. */
export function parseObjectKey(key: string): ParsedObjectKey | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const minute = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5] ?? 0));
  return {
    signal: m[6] as Signal,
    minute,
    format: m[7] === 'json' ? 'json' : 'protobuf',
    gzip: m[8] === '.gz',
  };
}
