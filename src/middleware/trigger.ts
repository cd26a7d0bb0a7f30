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
  const m = (method ?? 'GET').toUpperCase();
  const attributes: Attributes = { [ATTR.faasTrigger]: 'http', [ATTR.httpRequestMethod]: m };
  if (route) attributes[ATTR.httpRoute] = route;
  if (path) attributes[ATTR.urlPath] = path;
  if (query) attributes[ATTR.urlQuery] = scrubQuery(query);
  // url.scheme is required on HTTP server spans; API Gateway and function URLs serve HTTPS only.
  const scheme = headers['x-forwarded-proto'] ?? (extra.httpsOnly ? 'https' : undefined);
  if (scheme) attributes[ATTR.urlScheme] = scheme;
  const host = headers.host;
  if (host) {
    attributes[ATTR.serverAddress] = host;
    // The port the client connected to, behind the front door (required with server.address if known).
    const port = Number(headers['x-forwarded-port']);
    if (Number.isInteger(port) && port > 0 && port < 65536) attributes[ATTR.serverPort] = port;
  }
  const ua = extra.userAgent ?? headers['user-agent'];
  if (ua) attributes[ATTR.userAgentOriginal] = ua;
  if (extra.sourceIp) attributes[ATTR.clientAddress] = extra.sourceIp;
  const proto = extra.protocol?.match(/^HTTP\/(.+)$/i)?.[1];
  if (proto) attributes[ATTR.networkProtocolVersion] = proto;
  // HTTP server span name: `{method} {route}`, or just `{method}` when the route is unknown.
  return { source, trigger: 'http', spanName: route ? `${m} ${route}` : m, attributes, headers };
}

/** Query parameters whose values the HTTP conventions say to redact by default (signed-URL secrets). */
const SENSITIVE_QUERY = new Set(['awsaccesskeyid', 'signature', 'sig', 'x-goog-signature']);

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

function queryString(params: unknown): string | undefined {
  if (!isRec(params)) return undefined;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (typeof v === 'string') parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  }
  return parts.length ? parts.join('&') : undefined;
}

function sqsTrigger(records: Rec[]): TriggerInfo {
  const queues = new Set<string>();
  const messages: MessageCarrier[] = [];
  for (const r of records) {
    const q = arnTail(str(r.eventSourceARN));
    if (q) queues.add(q);
    const attrs = rec(r.messageAttributes);
    messages.push({
      traceparent: str(rec(attrs.traceparent).stringValue),
      tracestate: str(rec(attrs.tracestate).stringValue),
      awsTraceHeader: str(rec(r.attributes).AWSTraceHeader),
    });
  }
  const queue = queues.size === 1 ? [...queues][0] : undefined;
  // The batch span is the "SQS event" span of the AWS Lambda conventions: faas.trigger is required there too.
  const attributes: Attributes = {
    [ATTR.faasTrigger]: 'pubsub',
    [ATTR.messagingSystem]: 'aws_sqs',
    [ATTR.messagingOperationType]: 'process',
    [ATTR.messagingOperationName]: 'process',
    [ATTR.messagingBatchMessageCount]: records.length,
  };
  if (queue) attributes[ATTR.messagingDestinationName] = queue;
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
  if (key) attributes[ATTR.faasDocumentName] = key;
  const time = str(first.eventTime);
  if (time) attributes[ATTR.faasDocumentTime] = time;
  return { source: 's3', trigger: 'datasource', attributes };
}

function dynamodbTrigger(first: Rec): TriggerInfo {
  // arn:aws:dynamodb:region:account:table/<name>/stream/<label>
  const table = str(first.eventSourceARN)?.split('/')[1];
  const attributes: Attributes = { [ATTR.faasTrigger]: 'datasource' };
  if (table) {
    attributes[ATTR.faasDocumentCollection] = table;
    attributes[ATTR.awsDynamodbTableNames] = [table];
  }
  const op = DYNAMODB_OPERATION[str(first.eventName) ?? ''];
  if (op) attributes[ATTR.faasDocumentOperation] = op;
  return { source: 'dynamodb', trigger: 'datasource', attributes };
}

function kinesisTrigger(records: Rec[]): TriggerInfo {
  // arn:aws:kinesis:region:account:stream/<name>
  const stream = str(records[0]?.eventSourceARN)?.split('/')[1];
  const attributes: Attributes = {
    [ATTR.faasTrigger]: 'pubsub',
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
    if (source === 'aws:dynamodb') return dynamodbTrigger(first);
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
      queryString(event.queryStringParameters),
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
      str(event.path),
      queryString(event.queryStringParameters),
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
