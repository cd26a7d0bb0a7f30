// `lambda-otel-relay replay`: re-sends fallback data (S3 objects in the awss3exporter layout, or a
// /tmp spool directory) to a collector over OTLP/HTTP or OTLP/gRPC. Each object or file is deleted only after the
// collector confirmed it, so an interrupted run loses nothing and running it twice is safe (the
// second run finds only what the first did not deliver).
import { parseArgs } from 'node:util';
import { regionFromEnv, S3Client } from '../../aws/index.js';
import { itemsText, parseS3Uri } from '../../extension/fallback/index.js';
import { otlpJsonToProtobuf, SIGNALS, type Signal, validateExportRequest } from '../../otlp/index.js';
import { ReplayProgress } from '../replay/progress.js';
import { replayItems } from '../replay/run.js';
import { createSender, type ReplayProtocol, resolveTarget } from '../replay/send.js';
import { listS3, listSpool, type ReplayItem, type ReplayListing, type TimeRange } from '../replay/sources.js';
import { UsageError } from '../usage.js';

const HELP = `usage: lambda-otel-relay replay (--from s3://bucket[/prefix] | --spool DIR) [options]

Re-sends fallback data to a collector over OTLP/HTTP or OTLP/gRPC, oldest first. Each S3 object or
spool file is deleted only after the collector accepted it.

  --from s3://bucket[/prefix]  S3 objects written by the relay (or a collector's awss3exporter)
  --spool DIR                  a spool directory (default of the extension: $TMPDIR/otel-relay-spool)
  --to URL                     the collector (default $OTEL_EXPORTER_OTLP_ENDPOINT, else localhost:4318,
                               or :4317 for grpc): http(s)://host:port for OTLP/HTTP (/v1/<signal> is
                               appended), grpc://host:port (grpcs:// for TLS) for OTLP/gRPC
  --protocol PROTOCOL          http/protobuf or grpc (default: grpc for a grpc:// URL, else
                               $OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf)
  --since TIME, --until TIME   time range: ISO 8601, or an age like 30m, 6h, 2d
  --signal LIST                traces,metrics,logs (default: all)
  --header K=V                 extra header for the collector (repeatable)
  --s3-endpoint URL            S3-compatible endpoint, path-style (default $OTEL_RELAY_S3_ENDPOINT,
                               then $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL)
  --region REGION              default $AWS_REGION
  --timeout MS                 per-item send budget, retries included (default 30000)
  --dry-run                    list each object or file that would be sent (signal, items, bytes,
                               key or path), then the summary; send and delete nothing
  --keep                       send but do not delete
  --json                       print the summary (and a dry run's list) as JSON`;

export function parseTime(value: string, now: number, flag: string): number {
  const age = /^(\d+)(s|m|h|d)$/.exec(value);
  if (age) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[age[2] as 's' | 'm' | 'h' | 'd'];
    return now - Number(age[1]) * unit;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new UsageError(`${flag} ${value} is neither an ISO 8601 time nor an age like 30m, 6h, 2d`);
  return t;
}

/** One entry of a dry run's list: what would be sent, as the source stores it. */
export interface ReplayListed {
  id: string;
  signal: Signal;
  /** Spans, data points or log records; null when the object could not be read or decoded. */
  items: number | null;
  /** Stored bytes (compressed, for a gzipped S3 object). */
  bytes: number;
  /** Why `items` is null. */
  problem?: string;
}

export interface ReplaySummary {
  source: string;
  collector: string;
  protocol: ReplayProtocol;
  dryRun: boolean;
  /** Dry run only: every object or file that would be sent, oldest first. */
  listed?: ReplayListed[];
  found: number;
  skipped: number;
  /** Objects or files left alone as unsafe or invalid (a dot-segment key, a spool file moved aside). */
  refused: string[];
  sent: number;
  deleted: number;
  failed: number;
  bytes: number;
  items: Record<string, number>;
  failures: Array<{ id: string; reason: string }>;
}

export async function run(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  function parse() {
    return parseArgs({
      args: argv,
      options: {
        from: { type: 'string' },
        spool: { type: 'string' },
        to: { type: 'string' },
        protocol: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        signal: { type: 'string' },
        header: { type: 'string', multiple: true },
        's3-endpoint': { type: 'string' },
        region: { type: 'string' },
        timeout: { type: 'string' },
        'dry-run': { type: 'boolean' },
        keep: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  }
  try {
    values = parse().values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values.from === !values.spool)
    throw new UsageError('give exactly one of --from s3://bucket[/prefix] or --spool DIR');

  const now = Date.now();
  const range: TimeRange = {};
  if (values.since) range.since = parseTime(values.since, now, '--since');
  if (values.until) range.until = parseTime(values.until, now, '--until');
  const signals = new Set<Signal>();
  for (const s of (values.signal ?? SIGNALS.join(',')).split(',')) {
    const name = s.trim() as Signal;
    if (!SIGNALS.includes(name)) throw new UsageError(`--signal ${s} is not one of ${SIGNALS.join(', ')}`);
    signals.add(name);
  }
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const i = h.indexOf('=');
    if (i <= 0) throw new UsageError(`--header ${h} is not K=V`);
    headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const timeoutMs = values.timeout === undefined ? 30_000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new UsageError(`--timeout ${values.timeout} is not a positive number of ms`);
  const target = resolveTarget(values.to, values.protocol, process.env);
  // Shown as the user would write it: grpc(s)://host:port for gRPC.
  const collector = target.protocol === 'grpc' ? target.endpoint.replace(/^http/, 'grpc') : target.endpoint;

  let listing: ReplayListing;
  let source: string;
  if (values.from) {
    let location: ReturnType<typeof parseS3Uri>;
    try {
      location = parseS3Uri(values.from);
    } catch (err) {
      throw new UsageError(`--from: ${(err as Error).message}`);
    }
    const client = new S3Client({
      region: values.region ?? regionFromEnv(),
      endpoint:
        values['s3-endpoint'] ??
        process.env.OTEL_RELAY_S3_ENDPOINT ??
        process.env.AWS_ENDPOINT_URL_S3 ??
        process.env.AWS_ENDPOINT_URL,
    });
    source = values.from;
    listing = await listS3(client, location, range, signals);
  } else {
    source = values.spool as string;
    listing = await listSpool(source, range, signals);
  }

  const summary: ReplaySummary = {
    source,
    collector,
    protocol: target.protocol,
    dryRun: Boolean(values['dry-run']),
    found: listing.items.length,
    skipped: listing.skipped,
    refused: listing.refused,
    sent: 0,
    deleted: 0,
    failed: 0,
    bytes: 0,
    items: {},
    failures: [],
  };
  // Objects, bytes, items, rate and ETA on stderr: a line redrawn on a terminal, JSON lines otherwise.
  const progress = new ReplayProgress({
    totalObjects: listing.items.length,
    totalBytes: listing.items.reduce((n, item) => n + item.bytes, 0),
    tty: process.stderr.isTTY === true,
    write: (text) => process.stderr.write(text),
  });
  if (values['dry-run']) {
    summary.listed = [];
    for (const item of listing.items) {
      const listed = await listItem(item);
      progress.advance(item.bytes, listed.items ?? 0);
      summary.listed.push(listed);
      summary.bytes += item.bytes;
      if (listed.items !== null)
        summary.items[item.signal] = (summary.items[item.signal] ?? 0) + listed.items;
    }
  } else {
    const sender = createSender({ ...target, headers, timeoutMs });
    try {
      const tally = await replayItems(listing.items, sender, {
        keep: values.keep === true,
        onItem: (item, delivered) => progress.advance(item.bytes, delivered ? (item.items ?? 0) : 0),
      });
      const { gone: _gone, ...counts } = tally;
      Object.assign(summary, counts);
    } finally {
      sender.close();
    }
  }
  progress.finish();

  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else printSummary(summary);
  return summary.failed > 0 ? 1 : 0;
}

/**
 * A dry run's entry for one item. Spool file names carry the item count; an S3 object is read (it is
 * never changed) and counted with the wire walker, unless the relay's `otel-items` metadata says it.
 */
async function listItem(item: ReplayItem): Promise<ReplayListed> {
  const listed: ReplayListed = {
    id: item.id,
    signal: item.signal,
    items: item.items ?? null,
    bytes: item.bytes,
  };
  if (listed.items !== null) return listed;
  try {
    const body = await item.load();
    if (item.items !== undefined) listed.items = item.items;
    else {
      const proto = item.contentType === 'application/json' ? otlpJsonToProtobuf(item.signal, body) : body;
      listed.items = validateExportRequest(item.signal, proto).items;
    }
  } catch (err) {
    listed.problem = `could not be read or decoded: ${(err as Error).message}`;
  }
  return listed;
}

function printListed(listed: ReplayListed[]): void {
  const rows = listed.map((l) => [
    l.signal,
    l.items === null ? '?' : itemsText(l.signal, l.items),
    `${l.bytes} B`,
    l.problem ? `${l.id} (${l.problem})` : l.id,
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
  for (const r of rows) {
    console.log(
      `  ${r[0]?.padEnd(widths[0] ?? 0)}  ${r[1]?.padStart(widths[1] ?? 0)}  ${r[2]?.padStart(widths[2] ?? 0)}  ${r[3]}`,
    );
  }
}

function printSummary(s: ReplaySummary): void {
  const what = Object.entries(s.items)
    .map(([signal, n]) => itemsText(signal as Signal, n))
    .join(', ');
  const detail = what ? ` (${what})` : '';
  if (s.dryRun) {
    printListed(s.listed ?? []);
    console.log(
      `dry run: would send ${s.found} objects, ${s.bytes} bytes${detail}, from ${s.source} to ${s.collector}`,
    );
  } else {
    console.log(
      `replayed ${s.sent} of ${s.found} objects, ${s.bytes} bytes${detail}, from ${s.source} to ${s.collector}`,
    );
    console.log(
      `deleted ${s.deleted}; failed ${s.failed} (failed objects are kept and can be replayed again)`,
    );
  }
  if (s.skipped)
    console.log(`skipped ${s.skipped} objects outside the time range, signals or fallback layout`);
  for (const r of s.refused) console.log(`  refused (not sent, left in place): ${r}`);
  for (const f of s.failures) console.log(`  failed: ${f.id}: ${f.reason}`);
}
