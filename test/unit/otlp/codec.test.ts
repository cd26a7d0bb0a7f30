import { describe, expect, it } from 'vitest';
import {
  decodeExportRequest,
  encodeExportRequest,
  loadOtlpCodec,
  OtlpDecodeError,
  otlpJsonToProtobuf,
  validateExportRequest,
} from '../../../src/otlp/index.js';
import {
  logsJson,
  logsProtobuf,
  makeLogs,
  makeMetrics,
  makeSpans,
  metricsJson,
  metricsProtobuf,
  traceJson,
  traceProtobuf,
} from './sdk-fixtures.js';

type Obj = Record<string, unknown>;

/** Drops proto3 default values (0, '0', '', false, [], {}), which an encoder may or may not write. */
function withoutDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDefaults);
  if (value === null || typeof value !== 'object') return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    const clean = withoutDefaults(v);
    const empty =
      clean === 0 ||
      clean === '0' ||
      clean === '' ||
      clean === false ||
      (Array.isArray(clean) && clean.length === 0) ||
      (clean !== null &&
        typeof clean === 'object' &&
        !Array.isArray(clean) &&
        Object.keys(clean).length === 0);
    if (!empty) out[k] = clean;
  }
  return out;
}

const spansOf = (req: Obj): Obj[] =>
  (req.resourceSpans as Obj[]).flatMap((rs) => (rs.scopeSpans as Obj[]).flatMap((ss) => ss.spans as Obj[]));

async function expectError(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OtlpDecodeError);
  expect((err as Error).message).toMatch(pattern);
}

describe('otlpJsonToProtobuf', () => {
  it('converts the SDK JSON trace serializer output to the spans of its protobuf serializer output', async () => {
    const spans = makeSpans(40);
    const fromJson = await otlpJsonToProtobuf('traces', traceJson(spans));
    const direct = traceProtobuf(spans);
    expect(validateExportRequest('traces', fromJson)).toMatchObject({ resources: 1, items: 40 });
    const a = await decodeExportRequest('traces', fromJson);
    const b = await decodeExportRequest('traces', direct);
    expect(withoutDefaults(a)).toEqual(withoutDefaults(b));
    // And both hold what the SDK recorded, ids in hex.
    const decoded = spansOf(a);
    expect(decoded.map((s) => s.name).sort()).toEqual(spans.map((s) => s.name).sort());
    const ids = new Set(spans.map((s) => `${s.spanContext().traceId}/${s.spanContext().spanId}`));
    expect(new Set(decoded.map((s) => `${s.traceId}/${s.spanId}`))).toEqual(ids);
  });

  it('converts SDK JSON metrics (sums, gauges, histograms, exponential histograms) like the protobuf serializer', async () => {
    const rm = await makeMetrics(4);
    const fromJson = await otlpJsonToProtobuf('metrics', metricsJson(rm));
    expect(validateExportRequest('metrics', fromJson).items).toBe(20);
    expect(withoutDefaults(await decodeExportRequest('metrics', fromJson))).toEqual(
      withoutDefaults(await decodeExportRequest('metrics', metricsProtobuf(rm))),
    );
  });

  it('converts SDK JSON logs like the protobuf serializer, event names and structured bodies included', async () => {
    const logs = makeLogs(9);
    const fromJson = await otlpJsonToProtobuf('logs', logsJson(logs));
    const decoded = await decodeExportRequest('logs', fromJson);
    expect(withoutDefaults(decoded)).toEqual(
      withoutDefaults(await decodeExportRequest('logs', logsProtobuf(logs))),
    );
    const records = (decoded.resourceLogs as Obj[]).flatMap((r) =>
      (r.scopeLogs as Obj[]).flatMap((s) => s.logRecords as Obj[]),
    );
    expect(records.filter((r) => r.eventName === 'fixture.event')).toHaveLength(3);
  });

  it('accepts snake_case names, enum names, 64-bit ints as numbers or strings, and ignores unknown fields', async () => {
    const camel = {
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: '0102030405060708090A0B0C0D0E0F10',
                  spanId: 'a1a2a3a4a5a6a7a8',
                  parentSpanId: '',
                  name: 'op',
                  kind: 2,
                  startTimeUnixNano: '1700000000123456789',
                  endTimeUnixNano: 1700000000,
                  attributes: [{ key: 'n', value: { intValue: '9007199254740993' } }],
                  status: { code: 2, message: 'boom' },
                },
              ],
            },
          ],
        },
      ],
    };
    const snake = {
      resource_spans: [
        {
          scope_spans: [
            {
              spans: [
                {
                  trace_id: '0102030405060708090a0b0c0d0e0f10',
                  span_id: 'A1A2A3A4A5A6A7A8',
                  name: 'op',
                  kind: 'SPAN_KIND_SERVER',
                  start_time_unix_nano: '1700000000123456789',
                  end_time_unix_nano: '1700000000',
                  attributes: [{ key: 'n', value: { int_value: 9007199254740993n.toString() } }],
                  status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
                  some_future_field: { anything: [1, 2] },
                },
              ],
            },
          ],
        },
      ],
      notAnOtlpField: true,
    };
    const a = await otlpJsonToProtobuf('traces', JSON.stringify(camel));
    const b = await otlpJsonToProtobuf('traces', new TextEncoder().encode(JSON.stringify(snake)));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const [span] = spansOf(await decodeExportRequest('traces', a));
    expect(span).toMatchObject({
      traceId: '0102030405060708090a0b0c0d0e0f10',
      spanId: 'a1a2a3a4a5a6a7a8',
      kind: 2,
      startTimeUnixNano: '1700000000123456789',
      endTimeUnixNano: '1700000000',
      attributes: [{ key: 'n', value: { intValue: '9007199254740993' } }],
      status: { code: 2, message: 'boom' },
    });
  });

  it('round-trips every AnyValue kind through encode and decode', async () => {
    const values = [
      { stringValue: 'héllo' },
      { boolValue: true },
      { intValue: '-42' },
      { doubleValue: 1.5 },
      { bytesValue: Buffer.from([0, 1, 254, 255]).toString('base64') },
      { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '1' }] } },
      { kvlistValue: { values: [{ key: 'inner', value: { boolValue: true } }] } },
    ];
    const request = {
      resourceLogs: [
        {
          scopeLogs: [
            {
              logRecords: values.map((body, i) => ({ body, severityNumber: 9, timeUnixNano: String(i + 1) })),
            },
          ],
        },
      ],
    };
    const decoded = await decodeExportRequest('logs', await encodeExportRequest('logs', request));
    const records = (decoded.resourceLogs as Obj[])[0]!.scopeLogs as Obj[];
    expect((records[0]!.logRecords as Obj[]).map((r) => r.body)).toEqual(values);
  });

  it('rejects text that is not JSON', async () => {
    await expectError(
      otlpJsonToProtobuf('traces', '{"resourceSpans": ['),
      /OTLP\/JSON traces request is not valid JSON/,
    );
  });

  it('rejects JSON that is not an object', async () => {
    await expectError(otlpJsonToProtobuf('metrics', '[1,2]'), /must be a JSON object, got an array/);
    await expectError(otlpJsonToProtobuf('metrics', 'null'), /got null/);
  });

  it('rejects a request with the wrong shape', async () => {
    await expectError(otlpJsonToProtobuf('traces', '{"resourceSpans": 5}'), /wrong shape/);
    await expectError(
      otlpJsonToProtobuf('logs', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":{}}]}]}]}'),
      /wrong shape/,
    );
  });

  it('rejects ids that are not hex, such as base64', async () => {
    const json = JSON.stringify({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'AQIDBAUGBwgJCgsMDQ4PEA==' }] }] }],
    });
    await expectError(otlpJsonToProtobuf('traces', json), /traceId must be a hex string/);
  });
});

describe('decodeExportRequest', () => {
  it('rejects malformed protobuf with the walker error and its offset', async () => {
    const body = traceProtobuf(makeSpans(2));
    const err = await decodeExportRequest('traces', body.subarray(0, body.length - 3)).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OtlpDecodeError);
    expect((err as OtlpDecodeError).offset).toBeGreaterThan(0);
  });
});

describe('loadOtlpCodec', () => {
  it('loads the codec once and hands out the same module', async () => {
    const [a, b] = await Promise.all([loadOtlpCodec(), loadOtlpCodec()]);
    expect(a).toBe(b);
    expect(typeof a.otlpJsonToProtobuf).toBe('function');
  });
});
