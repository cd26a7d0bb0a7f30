import { ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import {
  decodeExportResponse,
  decodeStatus,
  encodeExportResponse,
  encodeStatus,
  exportResponseJson,
  OtlpDecodeError,
  statusJson,
} from '../../../src/otlp/index.js';

describe('export responses', () => {
  it('encodes a full success as the empty message', () => {
    expect(encodeExportResponse('traces')).toEqual(new Uint8Array(0));
    expect(decodeExportResponse('traces', new Uint8Array(0))).toBeUndefined();
  });

  it('encodes partial_success so the OpenTelemetry SDK reads the same rejected count and message', () => {
    const bytes = encodeExportResponse('traces', { rejected: 12, message: 'buffer full: 12 spans dropped' });
    const sdk = ProtobufTraceSerializer.deserializeResponse(bytes);
    expect(Number(sdk.partialSuccess?.rejectedSpans)).toBe(12);
    expect(sdk.partialSuccess?.errorMessage).toBe('buffer full: 12 spans dropped');
    const logs = ProtobufLogsSerializer.deserializeResponse(
      encodeExportResponse('logs', { rejected: 3, message: '' }),
    );
    expect(Number(logs.partialSuccess?.rejectedLogRecords)).toBe(3);
  });

  it('round-trips partial_success, including counts past 32 bits and non-ASCII messages', () => {
    for (const partial of [
      { rejected: 1, message: '' },
      { rejected: 0, message: 'warning only' },
      { rejected: 2 ** 40 + 7, message: 'überfüllt ✓' },
    ]) {
      expect(decodeExportResponse('metrics', encodeExportResponse('metrics', partial))).toEqual(partial);
    }
  });

  it('treats an empty partial_success as full success', () => {
    expect(decodeExportResponse('logs', Uint8Array.from([0x0a, 0x00]))).toBeUndefined();
  });

  it('skips unknown fields in a response and rejects a truncated one', () => {
    const bytes = Uint8Array.from([0x10, 0x05, 0x0a, 0x02, 0x08, 0x04]);
    expect(decodeExportResponse('traces', bytes)).toEqual({ rejected: 4, message: '' });
    expect(() => decodeExportResponse('traces', Uint8Array.from([0x0a, 0x05, 0x08]))).toThrow(
      OtlpDecodeError,
    );
  });

  it('writes the OTLP/JSON form with the per-signal field name', () => {
    expect(exportResponseJson('traces')).toBe('{}');
    expect(JSON.parse(exportResponseJson('metrics', { rejected: 5, message: 'late' }))).toEqual({
      partialSuccess: { rejectedDataPoints: '5', errorMessage: 'late' },
    });
    expect(JSON.parse(exportResponseJson('logs', { rejected: 2, message: '' }))).toEqual({
      partialSuccess: { rejectedLogRecords: '2' },
    });
  });
});

describe('google.rpc.Status', () => {
  it('encodes code and message as fields 1 and 2', () => {
    expect(Buffer.from(encodeStatus(3, 'bad')).toString('hex')).toBe('08031203626164');
    expect(encodeStatus(0, '')).toEqual(new Uint8Array(0));
  });

  it('round-trips codes, including a negative one written as a 10-byte varint', () => {
    expect(decodeStatus(encodeStatus(14, 'unavailable: collector down'))).toEqual({
      code: 14,
      message: 'unavailable: collector down',
    });
    const negative = encodeStatus(-1, '');
    expect(negative.length).toBe(11);
    expect(decodeStatus(negative).code).toBe(-1);
  });

  it('writes the JSON form', () => {
    expect(JSON.parse(statusJson(8, 'too big'))).toEqual({ code: 8, message: 'too big' });
  });
});
