import { describe, expect, it } from 'vitest';
import { jsonToProtobufWithProtobufjs } from '../../../src/otlp/codec.js';
import { decodeExportRequest, loadOtlpCodec } from '../../../src/otlp/decode.js';
import {
  encodeExportRequest,
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
  withoutDefaults,
} from './sdk-fixtures.js';

type Obj = Record<string, unknown>;

const spansOf = (req: Obj): Obj[] =>
  (req.resourceSpans as Obj[]).flatMap((rs) => (rs.scopeSpans as Obj[]).flatMap((ss) => ss.spans as Obj[]));

function expectError(fn: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(OtlpDecodeError);
  expect((err as Error).message).toMatch(pattern);
}

describe('otlpJsonToProtobuf', () => {
  it('converts the SDK JSON trace serializer output to the spans of its protobuf serializer output', async () => {
    const spans = makeSpans(40);
    const fromJson = otlpJsonToProtobuf('traces', traceJson(spans));
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
    const fromJson = otlpJsonToProtobuf('metrics', metricsJson(rm));
    expect(validateExportRequest('metrics', fromJson).items).toBe(20);
    expect(withoutDefaults(await decodeExportRequest('metrics', fromJson))).toEqual(
      withoutDefaults(await decodeExportRequest('metrics', metricsProtobuf(rm))),
    );
  });

  it('converts SDK JSON logs like the protobuf serializer, event names and structured bodies included', async () => {
    const logs = makeLogs(9);
    const fromJson = otlpJsonToProtobuf('logs', logsJson(logs));
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
    const a = otlpJsonToProtobuf('traces', JSON.stringify(camel));
    const b = otlpJsonToProtobuf('traces', new TextEncoder().encode(JSON.stringify(snake)));
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
    const decoded = await decodeExportRequest('logs', encodeExportRequest('logs', request));
    const records = (decoded.resourceLogs as Obj[])[0]!.scopeLogs as Obj[];
    expect((records[0]!.logRecords as Obj[]).map((r) => r.body)).toEqual(values);
  });

  it('rejects text that is not JSON', async () => {
    expectError(
      () => otlpJsonToProtobuf('traces', '{"resourceSpans": ['),
      /OTLP\/JSON traces request is not valid JSON/,
    );
  });

  it('rejects JSON that is not an object', async () => {
    expectError(() => otlpJsonToProtobuf('metrics', '[1,2]'), /must be a JSON object, got an array/);
    expectError(() => otlpJsonToProtobuf('metrics', 'null'), /got null/);
  });

  it('rejects a request with the wrong shape', async () => {
    expectError(() => otlpJsonToProtobuf('traces', '{"resourceSpans": 5}'), /wrong shape/);
    expectError(
      () =>
        otlpJsonToProtobuf(
          'logs',
          '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":{}}]}]}]}',
        ),
      /wrong shape/,
    );
  });

  it('rejects ids that are not hex, such as base64', async () => {
    const json = JSON.stringify({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'AQIDBAUGBwgJCgsMDQ4PEA==' }] }] }],
    });
    expectError(
      () => otlpJsonToProtobuf('traces', json),
      /at \$\.resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]\.traceId: trace_id must be a hex string/,
    );
  });

  it('rejects values of the wrong type, naming the JSON path', () => {
    const span = (fields: Obj): string =>
      JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [fields] }] }] });
    expectError(
      () => otlpJsonToProtobuf('traces', span({ kind: 'NOPE' })),
      /spans\[0\]\.kind: kind has unknown enum name "NOPE"/,
    );
    expectError(() => otlpJsonToProtobuf('traces', span({ droppedAttributesCount: -1 })), /out of range/);
    expectError(() => otlpJsonToProtobuf('traces', span({ startTimeUnixNano: 1.5 })), /must be an integer/);
    expectError(() => otlpJsonToProtobuf('traces', span({ startTimeUnixNano: '-1' })), /out of range/);
    expectError(() => otlpJsonToProtobuf('traces', span({ name: 7 })), /name must be a string, got a number/);
    expectError(
      () => otlpJsonToProtobuf('traces', span({ attributes: [{ key: 'k', value: { boolValue: 'yes' } }] })),
      /attributes\[0\]\.value\.boolValue: bool_value must be true or false/,
    );
    expectError(() => otlpJsonToProtobuf('traces', span({ attributes: {} })), /attributes must be an array/);
  });

  it('rejects JSON nested deeper than the walker would accept', () => {
    let value: Obj = { stringValue: 'leaf' };
    for (let i = 0; i < 100; i++) value = { arrayValue: { values: [value] } };
    const json = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: value }] }] }] });
    expectError(() => otlpJsonToProtobuf('logs', json), /nested deeper than 64 levels/);
  });

  it('writes strings and nested messages of every length-prefix size correctly', async () => {
    const sizes = [0, 42, 43, 100, 127, 128, 200, 5000, 70_000, 1_200_000];
    const attributes = sizes.map((n, i) => ({
      key: `k${i}`,
      value: { stringValue: 'é'.repeat(n % 3) + 'x'.repeat(n) },
    }));
    const request = { resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'big', attributes }] }] }] };
    const bytes = encodeExportRequest('traces', request);
    expect(validateExportRequest('traces', bytes).items).toBe(1);
    const [span] = spansOf(await decodeExportRequest('traces', bytes));
    expect(span!.attributes).toEqual(attributes);
    // The scratch buffer was grown past 1 MiB and is reset: a small request still encodes right.
    expect(encodeExportRequest('traces', { resourceSpans: [{}] })).toEqual(Uint8Array.from([0x0a, 0x00]));
  });

  it('produces the same data as protobufjs, the reference encoder, for SDK JSON of every signal', async () => {
    const inputs: ['traces' | 'metrics' | 'logs', Uint8Array][] = [
      ['traces', traceJson(makeSpans(20))],
      ['metrics', metricsJson(await makeMetrics(3))],
      ['logs', logsJson(makeLogs(8))],
    ];
    for (const [signal, json] of inputs) {
      const ours = otlpJsonToProtobuf(signal, json);
      const reference = jsonToProtobufWithProtobufjs(signal, json);
      expect(withoutDefaults(await decodeExportRequest(signal, ours)), signal).toEqual(
        withoutDefaults(await decodeExportRequest(signal, reference)),
      );
    }
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
    expect(typeof a.decodeExportRequest).toBe('function');
  });
});
