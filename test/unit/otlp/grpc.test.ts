import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeGrpcFrames,
  encodeExportResponse,
  encodeGrpcFrame,
  GrpcFrameDecoder,
  GrpcFrameError,
  OtlpDecodeError,
  validateExportRequest,
} from '../../../src/otlp/index.js';
import { makeSpans } from './sdk-fixtures.js';

const bytes = (n: number, fill = 7): Uint8Array => new Uint8Array(n).fill(fill);

function frameError(fn: () => unknown): GrpcFrameError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GrpcFrameError);
    expect(err).toBeInstanceOf(OtlpDecodeError);
    return err as GrpcFrameError;
  }
  throw new Error('expected a GrpcFrameError');
}

describe('gRPC framing', () => {
  it('writes the flag byte and a big-endian length before the message', () => {
    expect(Buffer.from(encodeGrpcFrame(Uint8Array.from([0xaa, 0xbb]))).toString('hex')).toBe(
      '0000000002aabb',
    );
    expect(encodeGrpcFrame(bytes(300), true).subarray(0, 5)).toEqual(Uint8Array.from([1, 0, 0, 1, 44]));
  });

  it('decodes several messages from one body, empty ones included', () => {
    const body = Buffer.concat([
      encodeGrpcFrame(bytes(3)),
      encodeGrpcFrame(new Uint8Array(0)),
      encodeGrpcFrame(bytes(2, 9), true),
    ]);
    const messages = decodeGrpcFrames(body);
    expect(messages.map((m) => [m.compressed, Buffer.from(m.message).toString('hex')])).toEqual([
      [false, '070707'],
      [false, ''],
      [true, '0909'],
    ]);
  });

  it('reassembles messages split across chunks at every byte', () => {
    const body = Buffer.concat([encodeGrpcFrame(bytes(10, 1)), encodeGrpcFrame(bytes(4, 2))]);
    for (let cut = 0; cut <= body.length; cut++) {
      const decoder = new GrpcFrameDecoder();
      const got = [...decoder.push(body.subarray(0, cut)), ...decoder.push(body.subarray(cut))];
      decoder.end();
      expect(
        got.map((m) => m.message.length),
        `cut at ${cut}`,
      ).toEqual([10, 4]);
    }
  });

  it('rejects a body cut inside a message', () => {
    const err = frameError(() => decodeGrpcFrames(encodeGrpcFrame(bytes(10)).subarray(0, 8)));
    expect(err.problem).toBe('truncated');
    expect(err.message).toContain('ended inside a message');
  });

  it('rejects a declared length over the cap before the bytes arrive', () => {
    const decoder = new GrpcFrameDecoder(100);
    const err = frameError(() => decoder.push(encodeGrpcFrame(bytes(101)).subarray(0, 5)));
    expect(err.problem).toBe('too-large');
    expect(err.message).toContain('101 bytes exceeds the 100-byte limit');
  });

  it('rejects a flag byte other than 0 or 1', () => {
    expect(frameError(() => decodeGrpcFrames(Uint8Array.from([2, 0, 0, 0, 0]))).problem).toBe('invalid-flag');
  });
});

describe('gRPC framing against the real OTLP/gRPC exporter', () => {
  let server: http2.Http2Server | undefined;
  afterEach(async () => {
    if (server) {
      server.close();
      await once(server, 'close');
      server = undefined;
    }
  });

  for (const compression of [CompressionAlgorithm.NONE, CompressionAlgorithm.GZIP]) {
    it(`receives every span from @opentelemetry/exporter-trace-otlp-grpc when compression is ${compression}`, async () => {
      const received: { path: string; encoding: string | undefined; spans: number; compressed: boolean }[] =
        [];
      server = http2.createServer();
      server.on('stream', (stream, headers) => {
        const decoder = new GrpcFrameDecoder();
        const messages: { compressed: boolean; message: Uint8Array }[] = [];
        stream.on('data', (chunk: Buffer) => messages.push(...decoder.push(chunk)));
        stream.on('end', () => {
          decoder.end();
          for (const m of messages) {
            const body = m.compressed ? gunzipSync(m.message) : m.message;
            received.push({
              path: String(headers[':path']),
              encoding: headers['grpc-encoding'] as string | undefined,
              spans: validateExportRequest('traces', body).items,
              compressed: m.compressed,
            });
          }
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': '' }));
          stream.end(encodeGrpcFrame(encodeExportResponse('traces')));
        });
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as AddressInfo;

      const exporter = new OTLPTraceExporter({
        url: `http://127.0.0.1:${port}`,
        compression,
        timeoutMillis: 10_000,
      });
      const result = await new Promise<ExportResult>((resolve) => exporter.export(makeSpans(25), resolve));
      await exporter.shutdown();

      expect(result.code, String(result.error)).toBe(ExportResultCode.SUCCESS);
      expect(received).toEqual([
        {
          path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
          encoding: compression === CompressionAlgorithm.GZIP ? 'gzip' : undefined,
          spans: 25,
          compressed: compression === CompressionAlgorithm.GZIP,
        },
      ]);
    });
  }
});
