import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_DEPTH,
  OtlpDecodeError,
  splitEntries,
  validateAndSplit,
  validateExportRequest,
} from '../../../src/otlp/index.js';
import {
  concat,
  ld,
  logsProtobuf,
  makeLogs,
  makeMetrics,
  makeSpans,
  metricsProtobuf,
  traceProtobuf,
  varint,
} from './sdk-fixtures.js';

const u8 = (...bytes: number[]): Uint8Array => Uint8Array.from(bytes);
const str = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A hand-built ExportTraceServiceRequest holding one span whose body is `span`. */
const traceWithSpan = (span: Uint8Array): Uint8Array => ld(1, ld(2, ld(2, span)));

function decodeError(fn: () => unknown): OtlpDecodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OtlpDecodeError);
    return err as OtlpDecodeError;
  }
  throw new Error('expected an OtlpDecodeError, nothing was thrown');
}

describe('validateExportRequest', () => {
  it('counts resources and spans when given the SDK protobuf serializer output', () => {
    const spans = makeSpans(100);
    const body = traceProtobuf(spans);
    expect(validateExportRequest('traces', body)).toEqual({
      signal: 'traces',
      resources: 1,
      items: 100,
      bytes: body.length,
    });
  });

  it('counts every data point of gauges, sums and both histogram kinds when given SDK metrics', async () => {
    const rm = await makeMetrics(6);
    const expected = rm.scopeMetrics.flatMap((s) => s.metrics).reduce((n, m) => n + m.dataPoints.length, 0);
    expect(expected).toBe(30);
    const summary = validateExportRequest('metrics', metricsProtobuf(rm));
    expect(summary.resources).toBe(1);
    expect(summary.items).toBe(expected);
  });

  it('counts log records when given the SDK logs serializer output', () => {
    const body = logsProtobuf(makeLogs(17));
    expect(validateExportRequest('logs', body)).toMatchObject({ resources: 1, items: 17 });
  });

  it('accepts an empty request as zero resources', () => {
    expect(validateExportRequest('logs', new Uint8Array(0))).toEqual({
      signal: 'logs',
      resources: 0,
      items: 0,
      bytes: 0,
    });
  });

  it('adds up both requests when given two concatenated requests', () => {
    const body = concat(traceProtobuf(makeSpans(3)), traceProtobuf(makeSpans(4)));
    expect(validateExportRequest('traces', body)).toMatchObject({ resources: 2, items: 7 });
  });

  it('skips unknown fields of every wire type at any level', () => {
    const unknown = concat(
      u8(...varint((40 << 3) | 0), 0xff, 0xff, 0x03),
      u8(...varint((41 << 3) | 1), 1, 2, 3, 4, 5, 6, 7, 8),
      ld(42, str('future field')),
      u8(...varint((43 << 3) | 5), 1, 2, 3, 4),
    );
    const span = concat(ld(5, str('op')), unknown);
    const body = concat(traceWithSpan(span), unknown);
    expect(validateExportRequest('traces', body)).toMatchObject({ resources: 1, items: 1 });
  });

  it('accepts histogram bucket counts both packed and unpacked', () => {
    const fixed = (n: number): number[] => [n, 0, 0, 0, 0, 0, 0, 0];
    const packed = ld(6, [...fixed(1), ...fixed(2)]);
    const unpacked = u8((6 << 3) | 1, ...fixed(3), (6 << 3) | 1, ...fixed(4));
    const metric = concat(ld(1, str('h')), ld(9, concat(ld(1, packed), ld(1, unpacked))));
    const body = ld(1, ld(2, ld(2, metric)));
    expect(validateExportRequest('metrics', body)).toMatchObject({ resources: 1, items: 2 });
  });

  it('accepts exponential histogram buckets as packed varints', () => {
    const buckets = concat(u8(0x08, 0x03), ld(2, [1, 0x96, 0x01, 5]));
    const point = concat(ld(8, buckets), ld(9, buckets));
    const body = ld(1, ld(2, ld(2, concat(ld(1, str('e')), ld(10, ld(1, point))))));
    expect(validateExportRequest('metrics', body).items).toBe(1);
  });

  it('rejects a request cut off in the middle, naming the byte where it stopped', () => {
    const body = traceProtobuf(makeSpans(5));
    const cut = body.subarray(0, body.length - 7);
    const err = decodeError(() => validateExportRequest('traces', cut));
    expect(err.message).toMatch(/OTLP traces request is not valid protobuf: .* at byte \d+/);
    expect(err.offset).toBeGreaterThanOrEqual(0);
    expect(err.offset).toBeLessThanOrEqual(cut.length);
  });

  it('rejects a nested length that runs past its parent, with the field path in the message', () => {
    const span = concat(ld(5, str('op')), u8((9 << 3) | 2, 50, 0x0a, 0x01));
    const err = decodeError(() => validateExportRequest('traces', traceWithSpan(span)));
    expect(err.message).toContain('Span.attributes declares 50 bytes');
    expect(err.message).toContain(
      'ExportTraceServiceRequest.resource_spans > ResourceSpans.scope_spans > ScopeSpans.spans',
    );
  });

  it('rejects a known field sent with the wrong wire type', () => {
    const span = u8((5 << 3) | 0, 1);
    const err = decodeError(() => validateExportRequest('traces', traceWithSpan(span)));
    expect(err.message).toContain('Span.name (field 5) has wire type varint, expected length-delimited');
    expect(err.offset).toBe(6);
  });

  it('rejects the invalid wire types 6 and 7', () => {
    for (const wire of [6, 7]) {
      const err = decodeError(() => validateExportRequest('traces', u8((9 << 3) | wire, 0)));
      expect(err.message).toContain(`invalid wire type ${wire}`);
      expect(err.offset).toBe(0);
    }
  });

  it('rejects group wire types, which OTLP never uses', () => {
    const err = decodeError(() => validateExportRequest('logs', u8((7 << 3) | 3, (7 << 3) | 4)));
    expect(err.message).toContain('group wire type');
  });

  it('rejects field number 0', () => {
    const err = decodeError(() => validateExportRequest('metrics', u8(0x02, 0x00)));
    expect(err.message).toContain('field number 0');
  });

  it('rejects a tag whose varint does not fit in 32 bits', () => {
    const err = decodeError(() => validateExportRequest('traces', u8(0x80, 0x80, 0x80, 0x80, 0x70)));
    expect(err.message).toContain('does not fit in 32 bits');
    expect(err.offset).toBe(4);
  });

  it('rejects a varint value longer than 10 bytes or overflowing 64 bits', () => {
    const long = u8((6 << 3) | 0, ...Array(10).fill(0x80), 0x01);
    expect(decodeError(() => validateExportRequest('traces', traceWithSpan(long))).message).toContain(
      'longer than 10 bytes',
    );
    const overflow = u8((6 << 3) | 0, ...Array(9).fill(0xff), 0x02);
    expect(decodeError(() => validateExportRequest('traces', traceWithSpan(overflow))).message).toContain(
      'overflows 64 bits',
    );
  });

  it('rejects a fixed-size value that is cut off', () => {
    const span = u8((7 << 3) | 1, 1, 2, 3);
    const err = decodeError(() => validateExportRequest('traces', traceWithSpan(span)));
    expect(err.message).toContain('Span.start_time_unix_nano needs 8 bytes but only 3 remain');
  });

  it('rejects packed 8-byte values whose length is not a multiple of 8', () => {
    const point = ld(7, [0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const body = ld(1, ld(2, ld(2, ld(9, ld(1, point)))));
    expect(decodeError(() => validateExportRequest('metrics', body)).message).toContain(
      'not a multiple of 8',
    );
  });

  it('rejects a metric that carries two data fields', () => {
    const metric = concat(ld(5, ld(1, [])), ld(7, ld(1, [])));
    const body = ld(1, ld(2, ld(2, metric)));
    expect(decodeError(() => validateExportRequest('metrics', body)).message).toContain(
      'more than one data field',
    );
  });

  it('rejects nesting deeper than the limit when attribute values nest arrays in arrays', () => {
    let value: Uint8Array = ld(1, str('leaf'));
    for (let i = 0; i < 200; i++) value = ld(5, ld(1, value));
    const span = ld(9, concat(ld(1, str('deep')), ld(2, value)));
    const err = decodeError(() => validateExportRequest('traces', traceWithSpan(span)));
    expect(err.message).toContain(`nested deeper than ${DEFAULT_MAX_DEPTH} levels`);
  });

  it('accepts nesting up to the limit it is given', () => {
    // Request > ResourceSpans > ScopeSpans > Span > KeyValue > AnyValue is depth 5.
    const span = ld(9, concat(ld(1, str('k')), ld(2, ld(1, str('v')))));
    expect(validateExportRequest('traces', traceWithSpan(span), { maxDepth: 5 }).items).toBe(1);
    expect(() => validateExportRequest('traces', traceWithSpan(span), { maxDepth: 4 })).toThrow(
      OtlpDecodeError,
    );
  });

  it('caps a huge maxDepth so a nesting bomb still fails cleanly, and refuses a nonsense one', () => {
    let value: Uint8Array = ld(1, str('leaf'));
    for (let i = 0; i < 3000; i++) value = ld(5, ld(1, value));
    const span = ld(9, concat(ld(1, str('deep')), ld(2, value)));
    const err = decodeError(() => validateExportRequest('traces', traceWithSpan(span), { maxDepth: 1e9 }));
    expect(err.message).toContain('nested deeper than 1000 levels');
    expect(() => validateExportRequest('traces', new Uint8Array(0), { maxDepth: Number.NaN })).toThrow(
      RangeError,
    );
  });

  it('rejects invalid UTF-8 in a string unless the check is turned off', () => {
    const span = ld(5, [0x6f, 0xff, 0xfe]);
    const err = decodeError(() => validateExportRequest('traces', traceWithSpan(span)));
    expect(err.message).toContain('Span.name is not valid UTF-8');
    expect(err.offset).toBe(8);
    expect(validateExportRequest('traces', traceWithSpan(span), { checkUtf8: false }).items).toBe(1);
  });

  it('accepts multi-byte UTF-8 in strings, wherever it falls', () => {
    for (const name of ['größe ✓ 🚀', 'abcdefg✓hijklmnop', `${'x'.repeat(15)}🚀${'y'.repeat(9)}é`]) {
      expect(validateExportRequest('traces', traceWithSpan(ld(5, str(name)))).items, name).toBe(1);
    }
  });

  it('finds an invalid UTF-8 byte past the first eight bytes of a long string', () => {
    const bytes = [...str('0123456789abcdefgh')];
    bytes[17] = 0xc0;
    const err = decodeError(() => validateExportRequest('traces', traceWithSpan(ld(5, bytes))));
    expect(err.message).toContain('Span.name is not valid UTF-8');
  });

  it('says so when the body is JSON or gzip rather than protobuf', () => {
    const json = decodeError(() => validateExportRequest('traces', str(' {"resourceSpans":[]}')));
    expect(json.message).toContain('looks like JSON: send it with Content-Type: application/json');
    const gzipped = decodeError(() => validateExportRequest('logs', gzipSync(logsProtobuf(makeLogs(2)))));
    expect(gzipped.message).toContain('looks gzip-compressed');
  });

  it('rejects an unknown signal name', () => {
    expect(() => validateExportRequest('profiles' as 'traces', new Uint8Array(0))).toThrow(
      /unknown OTLP signal/,
    );
  });
});

describe('splitEntries', () => {
  it('returns entries whose concatenation equals the request', () => {
    const body = concat(
      traceProtobuf(makeSpans(5)),
      traceProtobuf(makeSpans(3)),
      traceProtobuf(makeSpans(2)),
    );
    const entries = splitEntries(body);
    expect(entries).toHaveLength(3);
    expect(Buffer.concat(entries).equals(Buffer.from(body))).toBe(true);
    expect(entries.map((e) => validateExportRequest('traces', e).items)).toEqual([5, 3, 2]);
  });

  it('returns no entries for an empty request', () => {
    expect(splitEntries(new Uint8Array(0))).toEqual([]);
  });

  it('leaves out top-level fields other than field 1', () => {
    const entry = ld(1, ld(2, []));
    const entries = splitEntries(concat(u8((9 << 3) | 0, 1), entry, ld(5, [1, 2])));
    expect(entries).toHaveLength(1);
    expect(Buffer.from(entries[0]!).equals(Buffer.from(entry))).toBe(true);
  });

  it('rejects a request whose top-level framing is broken', () => {
    const body = traceProtobuf(makeSpans(2));
    const err = decodeError(() => splitEntries(body.subarray(0, body.length - 1)));
    expect(err.message).toMatch(/cannot be split: .* at byte \d+/);
    expect(() => splitEntries(u8((1 << 3) | 0, 1))).toThrow(OtlpDecodeError);
  });
});

describe('validateAndSplit', () => {
  it('returns the summary and each entry with its own item count in one walk', async () => {
    const body = concat(
      traceProtobuf(makeSpans(5)),
      traceProtobuf(makeSpans(2)),
      u8((9 << 3) | 0, 1),
      traceProtobuf(makeSpans(4)),
    );
    const { summary, entries } = validateAndSplit('traces', body);
    expect(summary).toEqual(validateExportRequest('traces', body));
    expect(entries.map((e) => e.items)).toEqual([5, 2, 4]);
    expect(entries.map((e) => Buffer.from(e.bytes))).toEqual(splitEntries(body).map((e) => Buffer.from(e)));
    const metrics = metricsProtobuf(await makeMetrics(3));
    expect(validateAndSplit('metrics', metrics).entries.map((e) => e.items)).toEqual([15]);
  });

  it('throws OtlpDecodeError and records nothing for a malformed request', () => {
    const body = traceProtobuf(makeSpans(3));
    expect(() => validateAndSplit('traces', body.subarray(0, body.length - 2))).toThrow(OtlpDecodeError);
    // The sink is cleared: a later plain walk works as before.
    expect(validateExportRequest('traces', body).items).toBe(3);
  });
});
