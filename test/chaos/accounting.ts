// Where did every span go? Reads span ids back from the collector, the S3 bucket (gzipped OTLP
// protobuf objects in the awss3exporter layout) and the /tmp spool, so a scenario can assert the
// exact accounting by id.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseObjectKey } from '../../src/extension/fallback/index.js';
import { decodeExportRequest } from '../../src/otlp/decode.js';
import type { CollectorPeer } from '../helpers/collector.js';
import type { S3Peer } from '../helpers/s3.js';

interface SpansJson {
  resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<{ spanId?: string }> }> }>;
}

export async function spanIdsIn(body: Uint8Array): Promise<string[]> {
  const req = (await decodeExportRequest('traces', body)) as SpansJson;
  const ids: string[] = [];
  for (const rs of req.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) if (s.spanId) ids.push(s.spanId);
  }
  return ids;
}

interface LogsJson {
  resourceLogs?: Array<{ scopeLogs?: Array<{ logRecords?: Array<{ body?: { stringValue?: string } }> }> }>;
}

/** The string bodies of every log record in the `logs` objects under a prefix. */
export async function logBodiesInS3(s3: S3Peer, bucket: string, prefix: string): Promise<string[]> {
  const bodies: string[] = [];
  for (const o of await s3.listObjects(bucket, prefix)) {
    const parsed = parseObjectKey(o.key);
    if (parsed?.signal !== 'logs') continue;
    const raw = await s3.getObject(bucket, o.key);
    const req = (await decodeExportRequest('logs', parsed.gzip ? gunzipSync(raw) : raw)) as LogsJson;
    for (const rl of req.resourceLogs ?? []) {
      for (const sl of rl.scopeLogs ?? []) {
        for (const r of sl.logRecords ?? []) if (r.body?.stringValue) bodies.push(r.body.stringValue);
      }
    }
  }
  return bodies;
}

export async function spanIdsInS3(s3: S3Peer, bucket: string, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (const o of await s3.listObjects(bucket, prefix)) {
    const parsed = parseObjectKey(o.key);
    if (parsed?.signal !== 'traces') continue;
    const raw = await s3.getObject(bucket, o.key);
    ids.push(...(await spanIdsIn(parsed.gzip ? gunzipSync(raw) : raw)));
  }
  return ids;
}

export async function spanIdsInSpool(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const ids: string[] = [];
  for (const n of names.filter((x) => /-traces-\d+\.binpb$/.test(x)).sort()) {
    ids.push(...(await spanIdsIn(readFileSync(join(dir, n)))));
  }
  return ids;
}

/**
 * The span ids the collector holds. It answers an export once its pipeline took it, but its file
 * exporter writes the line up to a flush interval later: read until two reads 50 ms apart agree
 * (2 s at most), so an export acknowledged just before this call is not missed.
 */
export async function spanIdsInCollector(collector: CollectorPeer): Promise<string[]> {
  const read = async () => (await collector.received()).spans().map((s) => s.spanId);
  let last = await read();
  for (const until = Date.now() + 2_000; Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 50));
    const now = await read();
    if (now.length === last.length) return now;
    last = now;
  }
  return last;
}

export interface Accounting {
  collector: string[];
  s3: string[];
  spool: string[];
}

/**
 * Spool files the relay wrote after an S3 PutObject whose outcome it could not know (no response
 * before the deadline, or aborted): S3 may have stored that batch too. The relay says so in its log
 * line for the spool file ("S3 skipped: ... no response within ..."); only those may be duplicated.
 */
export async function spanIdsWithUnknownS3Outcome(relayOutput: string): Promise<string[]> {
  const ids: string[] = [];
  for (const m of relayOutput.matchAll(
    /spooled to (\S+\.binpb) \([^"]*S3 skipped: [^"]*(?:no response within|aborted)/g,
  )) {
    try {
      ids.push(...(await spanIdsIn(readFileSync(m[1] ?? ''))));
    } catch {
      // Replayed and deleted since: then it is not in the spool and cannot be a duplicate there.
    }
  }
  return ids;
}

/**
 * Ids in spool files the relay wrote because S3 ran out of time (no response in time, aborted, or too
 * little budget left to start): on a loaded machine that is a correct spool. Any other S3 failure
 * (signature, access, server error) is not excused.
 */
export async function spanIdsSpooledPastS3(relayOutput: string): Promise<string[]> {
  const ids: string[] = [];
  const re = /spooled to (\S+\.binpb) \([^"]*S3 skipped: [^"]*(?:no response within|aborted|ms left)/g;
  for (const m of relayOutput.matchAll(re)) {
    try {
      ids.push(...(await spanIdsIn(readFileSync(m[1] ?? ''))));
    } catch {
      // Replayed and deleted since.
    }
  }
  return ids;
}

/** Ids that are meant to be in S3 but are not, unless S3 ran out of time for them (see above). */
export async function missingFromS3(
  sent: string[],
  where: Accounting,
  relayOutput: string,
): Promise<string[]> {
  const inS3 = new Set(where.s3);
  const explained = new Set(await spanIdsSpooledPastS3(relayOutput));
  return sent.filter((id) => !inS3.has(id) && !explained.has(id));
}

/**
 * Every sent id exactly once across the three places (ids in `mayRepeat` may also be in both S3 and
 * the spool); returns a readable diff otherwise.
 */
export function checkExactlyOnce(sent: string[], where: Accounting, mayRepeat: string[] = []): string[] {
  const repeatable = new Set(mayRepeat);
  const problems: string[] = [];
  const seen = new Map<string, string[]>();
  for (const [place, ids] of Object.entries(where) as Array<[string, string[]]>) {
    for (const id of ids) seen.set(id, [...(seen.get(id) ?? []), place]);
  }
  for (const id of sent) {
    const places = seen.get(id) ?? [];
    if (places.length === 0) problems.push(`${id}: lost`);
    else if (places.length > 1 && !(repeatable.has(id) && places.join() === 's3,spool')) {
      problems.push(`${id}: duplicated in ${places.join(', ')}`);
    }
  }
  const sentSet = new Set(sent);
  for (const id of seen.keys()) if (!sentSet.has(id)) problems.push(`${id}: not sent by this test`);
  return problems;
}
