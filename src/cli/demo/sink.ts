// The demo's embedded collector: an OTLP/HTTP endpoint on loopback that keeps what it receives, so the
// quick start needs no collector. It answers like a collector (an empty Export*ServiceResponse) and
// reads protobuf or JSON, gzip or not.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import {
  decodeExportRequest,
  encodeExportResponse,
  type OtlpJsonObject,
  otlpJsonToProtobuf,
  type Signal,
} from '../../otlp/index.js';

export interface SinkRequest {
  signal: Signal;
  /** The request as OTLP/JSON (lowerCamelCase, hex ids). */
  body: OtlpJsonObject;
  bytes: number;
  gzip: boolean;
}

export interface OtlpSink {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  readonly requests: readonly SinkRequest[];
  /** Requests the sink could not read, with the reason; the demo shows them. */
  readonly rejected: readonly string[];
  close(): Promise<void>;
}

const PATHS: Record<string, Signal> = {
  '/v1/traces': 'traces',
  '/v1/metrics': 'metrics',
  '/v1/logs': 'logs',
};
/** A demo sink has no business with large bodies; this also bounds a gzip bomb. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export async function startOtlpSink(): Promise<OtlpSink> {
  const requests: SinkRequest[] = [];
  const rejected: string[] = [];
  const server: Server = createServer((req, res) => {
    const signal = PATHS[req.url ?? ''];
    if (req.method !== 'POST' || !signal) {
      res.writeHead(404).end();
      return;
    }
    readBody(req)
      .then(async (raw) => {
        const gzip = req.headers['content-encoding'] === 'gzip';
        const plain = gzip ? gunzipSync(raw, { maxOutputLength: MAX_BODY_BYTES }) : raw;
        const json = (req.headers['content-type'] ?? '').startsWith('application/json');
        const proto = json ? otlpJsonToProtobuf(signal, plain) : plain;
        requests.push({ signal, body: await decodeExportRequest(signal, proto), bytes: raw.length, gzip });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(encodeExportResponse(signal));
      })
      .catch((err: unknown) => {
        rejected.push(`${req.url}: ${err instanceof Error ? err.message : String(err)}`);
        res.writeHead(400).end();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    rejected,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error(`body over ${MAX_BODY_BYTES} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
