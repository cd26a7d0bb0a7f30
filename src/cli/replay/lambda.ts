// The replay function (the OtelRelayReplayer construct deploys it): S3 object-created events, or a
// schedule, invoke it, and it re-sends fallback objects to the collector with the same loop as the
// `replay` command. Deleting is idempotent: an object an earlier (or concurrent) invocation already
// delivered and deleted is counted as gone, not as a failure. When any object is not delivered the
// invocation fails, so Lambda retries it and then hands the event to the dead-letter queue; the
// objects stay in S3 either way. Each invocation logs its counts as CloudWatch embedded metrics.
import { regionFromEnv, S3Client, S3Error } from '../../aws/index.js';
import { parseObjectKey, parseS3Uri } from '../../extension/fallback/index.js';
import { parseOtlpHeaders } from '../../extension/settings/index.js';
import { SIGNALS } from '../../otlp/index.js';
import { REPLAYER_ENV } from './env.js';
import { emptyTally, type ReplayTally, replayItems } from './run.js';
import { createSender, resolveTarget } from './send.js';
import { listS3, type ReplayItem, s3ObjectItem } from './sources.js';

interface S3EventRecord {
  eventSource?: string;
  s3?: { bucket?: { name?: string }; object?: { key?: string; size?: number } };
}

type ReplayEvent = { Records?: S3EventRecord[] } | Record<string, unknown>;

export interface ReplayResult extends ReplayTally {
  objects: number;
  skipped: number;
}

type Env = Readonly<Record<string, string | undefined>>;

function isGone(err: unknown): boolean {
  return err instanceof S3Error && (err.status === 404 || /NoSuchKey/.test(err.message));
}

/** The items an event names: its S3 records under the prefix, or (a schedule) everything there. */
async function itemsFor(
  event: ReplayEvent,
  client: S3Client,
  location: { bucket: string; prefix: string },
): Promise<{ items: ReplayItem[]; skipped: number }> {
  const records = Array.isArray(event.Records) ? (event.Records as S3EventRecord[]) : undefined;
  if (!records) {
    const listing = await listS3(client, location, {}, new Set(SIGNALS));
    return { items: listing.items, skipped: listing.skipped + listing.refused.length };
  }
  const items: ReplayItem[] = [];
  let skipped = 0;
  const under = location.prefix ? `${location.prefix}/` : '';
  for (const r of records) {
    // S3 event keys are URL-encoded, spaces as '+'.
    const raw = r.s3?.object?.key;
    const key = raw === undefined ? undefined : decodeURIComponent(raw.replace(/\+/g, ' '));
    const parsed = key === undefined ? undefined : parseObjectKey(key);
    if (!key || !parsed || r.s3?.bucket?.name !== location.bucket || !key.startsWith(under)) {
      skipped++;
      continue;
    }
    items.push(s3ObjectItem(client, location.bucket, key, r.s3?.object?.size ?? 0, parsed));
  }
  return { items, skipped };
}

/** One CloudWatch embedded-metric-format line with the invocation's counts. */
export function metricsLine(result: ReplayResult, namespace: string, now = Date.now()): string {
  const values = {
    ObjectsSent: result.sent,
    ObjectsFailed: result.failed,
    ObjectsGone: result.gone,
    ObjectsSkipped: result.skipped,
    BytesSent: result.bytes,
    ItemsSent: Object.values(result.items).reduce((a, b) => a + b, 0),
  };
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [[]],
          Metrics: Object.keys(values).map((Name) => ({
            Name,
            Unit: Name === 'BytesSent' ? 'Bytes' : 'Count',
          })),
        },
      ],
    },
    ...values,
  });
}

export async function replayFromEvent(event: ReplayEvent, env: Env = process.env): Promise<ReplayResult> {
  const from = env[REPLAYER_ENV.from];
  if (!from) throw new Error(`${REPLAYER_ENV.from} is not set: the replay function does not know its bucket`);
  const location = parseS3Uri(from);
  const client = new S3Client({
    region: regionFromEnv(),
    endpoint: env.OTEL_RELAY_S3_ENDPOINT ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL,
  });
  const target = resolveTarget(undefined, undefined, env);
  const headers = env.OTEL_EXPORTER_OTLP_HEADERS
    ? parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS).headers
    : {};
  const timeoutMs = Number(env[REPLAYER_ENV.timeoutMs] ?? 30_000);
  const { items, skipped } = await itemsFor(event, client, location);
  const sender = createSender({
    ...target,
    headers,
    timeoutMs: Number.isFinite(timeoutMs) ? timeoutMs : 30_000,
  });
  let tally = emptyTally();
  try {
    tally = await replayItems(items, sender, { isGone });
  } finally {
    sender.close();
  }
  return { ...tally, objects: items.length, skipped };
}

export async function handler(event: ReplayEvent): Promise<ReplayResult> {
  const result = await replayFromEvent(event);
  console.log(metricsLine(result, process.env[REPLAYER_ENV.namespace] ?? 'lambda-otel-relay/replay'));
  if (result.failed > 0) {
    throw new Error(
      `${result.failed} of ${result.objects} objects were not delivered and stay in S3 ` +
        `(${result.failures.map((f) => `${f.id}: ${f.reason}`).join('; ')}); the invocation is retried, then its event goes to the dead-letter queue`,
    );
  }
  return result;
}
