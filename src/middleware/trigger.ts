// Which AWS service invoked the function, read from the event's shape, and what the FaaS, HTTP and
// messaging semantic conventions want recorded for it. Detection is by structure only (cheap, no
// allocation beyond the attributes) and never throws: an unrecognised event is `faas.trigger=other`.
import type { Attributes } from '@opentelemetry/api';
import type { HeaderCarrier, MessageCarrier } from './propagation.js';
import { ATTR, type FaasTrigger } from './semconv.js';

export type TriggerSource =
  | 'api-gateway-rest'
  | 'api-gateway-http'
  | 'function-url'
  | 'alb'
  | 'sqs'
  | 'sns'
  | 'eventbridge'
  | 'schedule'
  | 's3'
  | 'dynamodb'
  | 'kinesis'
  | 'unknown';

/** A message batch (SQS, SNS): becomes a CONSUMER span under the invocation span, linked to the senders. */
export interface MessageBatch {
  name: string;
  attributes: Attributes;
  messages: MessageCarrier[];
}

export interface TriggerInfo {
  source: TriggerSource;
  trigger: FaasTrigger;
  /** Invocation span name; undefined means the function name (the convention for non-HTTP triggers). */
  spanName?: string;
  /** Attributes for the invocation (SERVER) span. */
  attributes: Attributes;
  /** HTTP triggers: request headers, lower-cased, for W3C context extraction. */
  headers?: HeaderCarrier;
  batch?: MessageBatch;
}

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function rec(v: unknown): Rec {
  return isRec(v) ? v : {};
}
/** The last `:`-separated part of an ARN (queue name, topic name). */
function arnTail(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  const i = arn.lastIndexOf(':');
  return i >= 0 ? arn.slice(i + 1) : arn;
}

/** Lower-cased header names; multi-value headers (ALB, API Gateway v1) contribute their first value. */
function lowerHeaders(single: unknown, multi: unknown): HeaderCarrier {
  const out: HeaderCarrier = {};
  if (isRec(multi)) {
    for (const [k, v] of Object.entries(multi)) {
      if (Array.isArray(v) && typeof v[0] === 'string') out[k.toLowerCase()] = v[0];
    }
  }
  if (isRec(single)) {
    for (const [k, v] of Object.entries(single)) if (typeof v === 'string') out[k.toLowerCase()] = v;
  }
  return out;
}

function httpTrigger(
  source: TriggerSource,
  method: string | undefined,
  route: string | undefined,
  path: string | undefined,
  query: string | undefined,
  headers: HeaderCarrier,
  extra: { sourceIp?: string; protocol?: string; userAgent?: string; httpsOnly?: boolean },
): TriggerInfo {
  const original = method ?? 'GET';
  // Method names are case-sensitive: anything not exactly a known method is `_OTHER`, and the
  // original goes to http.request.method_original.
  const m = KNOWN_METHODS.has(original) ? original : '_OTHER';
  const attributes: Attributes = { [ATTR.faasTrigger]: 'http', [ATTR.httpRequestMethod]: m };
  if (m !== original) attributes[ATTR.httpRequestMethodOriginal] = original;
  if (route) attributes[ATTR.httpRoute] = route;
  if (path) attributes[ATTR.urlPath] = path;
  if (query) attributes[ATTR.urlQuery] = scrubQuery(query);
  // url.scheme is required on HTTP server spans; API Gateway and function URLs serve HTTPS only.
  const scheme = headers['x-forwarded-proto'] ?? (extra.httpsOnly ? 'https' : undefined);
  if (scheme) attributes[ATTR.urlScheme] = scheme;
  const host = splitHost(headers.host);
  if (host) {
    attributes[ATTR.serverAddress] = host.address;
    // The port the client connected to, behind the front door (required with server.address if known).
    const port = Number(headers['x-forwarded-port'] ?? host.port);
    if (Number.isInteger(port) && port > 0 && port < 65536) attributes[ATTR.serverPort] = port;
  }
  const ua = extra.userAgent ?? headers['user-agent'];
  if (ua) attributes[ATTR.userAgentOriginal] = ua;
  if (extra.sourceIp) attributes[ATTR.clientAddress] = extra.sourceIp;
  const proto = extra.protocol?.match(/^HTTP\/(.+)$/i)?.[1];
  if (proto) attributes[ATTR.networkProtocolVersion] = proto;
  // HTTP server span name: `{method} {route}`, or just `{method}` when the route is unknown; an
  // `_OTHER` method is named `HTTP`.
  const name = m === '_OTHER' ? 'HTTP' : m;
  return { source, trigger: 'http', spanName: route ? `${name} ${route}` : name, attributes, headers };
}

/** The HTTP methods of the HTTP conventions (RFC 9110, RFC 5789 PATCH, and QUERY). */
const KNOWN_METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'QUERY',
  'TRACE',
]);

/** A Host header split into host and port (`[::1]:8443`, `example.com:8080`, `example.com`). */
export function splitHost(host: string | undefined): { address: string; port?: number } | undefined {
  if (!host) return undefined;
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host.trim());
  if (!m?.[1]) return { address: host };
  const address = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return m[2] ? { address, port: Number(m[2]) } : { address };
}

/** Query parameters whose values the URL conventions say to redact by default (signed-URL secrets). */
const SENSITIVE_QUERY = new Set([
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'awsaccesskeyid',
  'signature',
  'sig',
  'x-goog-signature',
]);

export function scrubQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const key = pair.slice(0, eq);
      return SENSITIVE_QUERY.has(decodeURIComponentSafe(key).toLowerCase()) ? `${key}=REDACTED` : pair;
    })
    .join('&');
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The query string of a v1-shaped event (REST API, ALB). The multi-value map keeps every value of a
 * repeated key, so it is preferred. API Gateway hands over decoded values (re-encoded here); ALB hands
 * them over as the client sent them (`encoded`), so they are joined unchanged.
 */
function queryString(single: unknown, multi: unknown, encoded: boolean): string | undefined {
  const enc = encoded ? (s: string) => s : encodeURIComponent;
  const parts: string[] = [];
  if (isRec(multi) && Object.keys(multi).length > 0) {
    for (const [k, vs] of Object.entries(multi)) {
      if (!Array.isArray(vs)) continue;
      for (const v of vs) if (typeof v === 'string') parts.push(`${enc(k)}=${enc(v)}`);
    }
  } else if (isRec(single)) {
    for (const [k, v] of Object.entries(single)) {
      if (typeof v === 'string') parts.push(`${enc(k)}=${enc(v)}`);
    }
  }
  return parts.length ? parts.join('&') : undefined;
}

/** `arn:<partition>:sqs:<region>:<account>:<name>` -> the queue URL and its host. */
export function sqsQueueUrl(arn: string | undefined): { url: string; host: string } | undefined {
  if (!arn) return undefined;
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sqs') return undefined;
  const [, partition, , region, account, name] = parts;
  if (!region || !account || !name) return undefined;
  const suffix = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  const host = `sqs.${region}.${suffix}`;
  return { url: `https://${host}/${account}/${name}`, host };
}

function sqsTrigger(records: Rec[]): TriggerInfo {
  const queues = new Set<string>();
  const arns = new Set<string>();
  const messages: MessageCarrier[] = [];
  for (const r of records) {
    const arn = str(r.eventSourceARN);
    if (arn) arns.add(arn);
    const q = arnTail(arn);
    if (q) queues.add(q);
    const attrs = rec(r.messageAttributes);
    messages.push({
      traceparent: str(rec(attrs.traceparent).stringValue),
      tracestate: str(rec(attrs.tracestate).stringValue),
      awsTraceHeader: str(rec(r.attributes).AWSTraceHeader),
      messageId: str(r.messageId),
    });
  }
  const queue = queues.size === 1 ? [...queues][0] : undefined;
  const location = arns.size === 1 ? sqsQueueUrl([...arns][0]) : undefined;
  // The batch span is the "SQS event" span of the AWS Lambda conventions: faas.trigger is required there too.
  const attributes: Attributes = {
    [ATTR.faasTrigger]: 'pubsub',
    [ATTR.messagingSystem]: 'aws_sqs',
    [ATTR.messagingOperationType]: 'process',
    [ATTR.messagingOperationName]: 'process',
    [ATTR.messagingBatchMessageCount]: records.length,
  };
  if (queue) attributes[ATTR.messagingDestinationName] = queue;
  if (location) {
    attributes[ATTR.awsSqsQueueUrl] = location.url;
    attributes[ATTR.serverAddress] = location.host;
  }
  const single = records.length === 1 ? str(records[0]?.messageId) : undefined;
  if (single) attributes[ATTR.messagingMessageId] = single;
  return {
    source: 'sqs',
    trigger: 'pubsub',
    attributes: { [ATTR.faasTrigger]: 'pubsub' },
    batch: { name: `process ${queue ?? 'multiple_sources'}`, attributes, messages },
  };
}

function snsTrigger(records: Rec[]): TriggerInfo {
  const topics = new Set<string>();
  const messages: MessageCarrier[] = [];
  let topicArn: string | undefined;
  for (const r of records) {
    const sns = rec(r.Sns);
    topicArn = str(sns.TopicArn);
    const t = arnTail(topicArn);
    if (t) topics.add(t);
    const attrs = rec(sns.MessageAttributes);
    messages.push({
      traceparent: str(rec(attrs.traceparent).Value),
      tracestate: str(rec(attrs.tracestate).Value),
      messageId: str(sns.MessageId),
    });
  }
  const topic = topics.size === 1 ? [...topics][0] : undefined;
  const attributes: Attributes = {
    [ATTR.faasTrigger]: 'pubsub',
    [ATTR.messagingSystem]: 'aws.sns',
    [ATTR.messagingOperationType]: 'process',
    [ATTR.messagingOperationName]: 'process',
    [ATTR.messagingBatchMessageCount]: records.length,
  };
  if (topic) attributes[ATTR.messagingDestinationName] = topic;
  if (topic && topicArn) attributes[ATTR.awsSnsTopicArn] = topicArn;
  const single = records.length === 1 ? str(rec(records[0]?.Sns).MessageId) : undefined;
  if (single) attributes[ATTR.messagingMessageId] = single;
  return {
    source: 'sns',
    trigger: 'pubsub',
    attributes: { [ATTR.faasTrigger]: 'pubsub' },
    batch: { name: `process ${topic ?? 'multiple_sources'}`, attributes, messages },
  };
}

const S3_OPERATION: Array<[string, string]> = [
  ['ObjectCreated', 'insert'],
  ['ObjectRemoved', 'delete'],
  ['ObjectRestore', 'edit'],
];
const DYNAMODB_OPERATION: Record<string, string> = { INSERT: 'insert', MODIFY: 'edit', REMOVE: 'delete' };

/** S3 notifications carry the key form-encoded (`+` for a space, `%2B` for a plus). */
export function s3Key(key: string): string {
  return decodeURIComponentSafe(key.replace(/\+/g, ' '));
}

function s3Trigger(first: Rec): TriggerInfo {
  const s3 = rec(first.s3);
  const bucket = str(rec(s3.bucket).name);
  const key = str(rec(s3.object).key);
  const eventName = str(first.eventName) ?? '';
  const attributes: Attributes = { [ATTR.faasTrigger]: 'datasource' };
  if (bucket) {
    attributes[ATTR.faasDocumentCollection] = bucket;
    attributes[ATTR.awsS3Bucket] = bucket;
  }
  const op = S3_OPERATION.find(([prefix]) => eventName.startsWith(prefix))?.[1];
  if (op) attributes[ATTR.faasDocumentOperation] = op;
  if (key) attributes[ATTR.faasDocumentName] = s3Key(key);
  const time = str(first.eventTime);
  if (time) attributes[ATTR.faasDocumentTime] = time;
  return { source: 's3', trigger: 'datasource', attributes };
}

function dynamodbTrigger(records: Rec[]): TriggerInfo {
  // arn:aws:dynamodb:region:account:table/<name>/stream/<label>
  const table = str(records[0]?.eventSourceARN)?.split('/')[1];
  const attributes: Attributes = { [ATTR.faasTrigger]: 'datasource' };
  if (table) {
    attributes[ATTR.faasDocumentCollection] = table;
    attributes[ATTR.awsDynamodbTableNames] = [table];
  }
  // A batch mixes inserts, edits and deletes: one operation is recorded only when all records agree,
  // since no single value would describe a mixed batch truthfully.
  const ops = new Set(records.map((r) => DYNAMODB_OPERATION[str(r.eventName) ?? '']));
  const op = ops.size === 1 ? [...ops][0] : undefined;
  if (op) attributes[ATTR.faasDocumentOperation] = op;
  // The time of the earliest change in the batch (ApproximateCreationDateTime, epoch seconds).
  const times = records
    .map((r) => rec(r.dynamodb).ApproximateCreationDateTime)
    .filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
  if (times.length > 0) {
    attributes[ATTR.faasDocumentTime] = new Date(Math.min(...times) * 1000).toISOString();
  }
  return { source: 'dynamodb', trigger: 'datasource', attributes };
}

function kinesisTrigger(records: Rec[]): TriggerInfo {
  // arn:aws:kinesis:region:account:stream/<name>
  const stream = str(records[0]?.eventSourceARN)?.split('/')[1];
  // Kinesis is not among the conventions' well-known messaging systems; `aws.kinesis` follows the
  // `aws.sns` spelling.
  const attributes: Attributes = {
    [ATTR.faasTrigger]: 'pubsub',
    [ATTR.messagingSystem]: 'aws.kinesis',
    [ATTR.messagingOperationType]: 'process',
    [ATTR.messagingOperationName]: 'process',
    [ATTR.messagingBatchMessageCount]: records.length,
  };
  if (stream) {
    attributes[ATTR.awsKinesisStreamName] = stream;
    attributes[ATTR.messagingDestinationName] = stream;
  }
  return { source: 'kinesis', trigger: 'pubsub', attributes };
}

/** Detects the trigger of an invocation from the shape of its event. */
export function detectTrigger(event: unknown): TriggerInfo {
  if (!isRec(event))
    return { source: 'unknown', trigger: 'other', attributes: { [ATTR.faasTrigger]: 'other' } };

  const records = Array.isArray(event.Records) ? event.Records.filter(isRec) : undefined;
  const first = records?.[0];
  if (records && first) {
    const source = str(first.eventSource) ?? str(first.EventSource);
    if (source === 'aws:sqs') return sqsTrigger(records);
    if (source === 'aws:sns') return snsTrigger(records);
    if (source === 'aws:s3') return s3Trigger(first);
    if (source === 'aws:dynamodb') return dynamodbTrigger(records);
    if (source === 'aws:kinesis') return kinesisTrigger(records);
  }

  const rc = rec(event.requestContext);
  if (isRec(rc.elb)) {
    const headers = lowerHeaders(event.headers, event.multiValueHeaders);
    return httpTrigger(
      'alb',
      str(event.httpMethod),
      undefined,
      str(event.path),
      queryString(event.queryStringParameters, event.multiValueQueryStringParameters, true),
      headers,
      { sourceIp: headers['x-forwarded-for']?.split(',')[0]?.trim() },
    );
  }
  if (event.version === '2.0' && isRec(rc.http)) {
    const http = rc.http;
    const headers = lowerHeaders(event.headers, undefined);
    const routeKey = str(event.routeKey);
    const isUrl = str(rc.domainName)?.includes('.lambda-url.') ?? false;
    // routeKey is `METHOD /path/{param}` (or `ANY /x`, or `$default`, which names no route).
    const route = routeKey && routeKey !== '$default' ? routeKey.slice(routeKey.indexOf(' ') + 1) : undefined;
    return httpTrigger(
      isUrl ? 'function-url' : 'api-gateway-http',
      str(http.method),
      isUrl ? undefined : route,
      str(event.rawPath) ?? str(http.path),
      str(event.rawQueryString) || undefined,
      headers,
      {
        sourceIp: str(http.sourceIp),
        protocol: str(http.protocol),
        userAgent: str(http.userAgent),
        httpsOnly: true,
      },
    );
  }
  if (typeof event.httpMethod === 'string' && typeof event.resource === 'string') {
    const headers = lowerHeaders(event.headers, event.multiValueHeaders);
    const identity = rec(rc.identity);
    return httpTrigger(
      'api-gateway-rest',
      event.httpMethod,
      event.resource,
      // requestContext.path is the path the client asked for, with the stage (or base path mapping);
      // event.path is relative to the stage.
      str(rc.path) ?? str(event.path),
      queryString(event.queryStringParameters, event.multiValueQueryStringParameters, false),
      headers,
      {
        sourceIp: str(identity.sourceIp),
        protocol: str(rc.protocol),
        userAgent: str(identity.userAgent),
        httpsOnly: true,
      },
    );
  }

  if (typeof event['detail-type'] === 'string' && typeof event.source === 'string' && 'detail' in event) {
    const time = str(event.time);
    if (event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event') {
      const attributes: Attributes = { [ATTR.faasTrigger]: 'timer' };
      if (time) attributes[ATTR.faasTime] = time;
      return { source: 'schedule', trigger: 'timer', attributes };
    }
    return {
      source: 'eventbridge',
      trigger: 'pubsub',
      attributes: { [ATTR.faasTrigger]: 'pubsub' },
    };
  }
  return { source: 'unknown', trigger: 'other', attributes: { [ATTR.faasTrigger]: 'other' } };
}
