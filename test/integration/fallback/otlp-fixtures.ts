// OTLP requests whose spans carry ids a test can follow through the collector, S3 and the spool.
import { randomBytes } from 'node:crypto';
import { otlpJsonToProtobuf } from '../../../src/otlp/index.js';

/** An ExportTraceServiceRequest (protobuf) with one span per name; span ids are returned in order. */
export async function tracesRequest(names: string[]): Promise<{ body: Uint8Array; spanIds: string[] }> {
  const traceId = randomBytes(16).toString('hex');
  const spanIds = names.map(() => randomBytes(8).toString('hex'));
  const now = BigInt(Date.now()) * 1_000_000n;
  const json = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'fallback-test' } }] },
        scopeSpans: [
          {
            scope: { name: 'fallback-test' },
            spans: names.map((name, i) => ({
              traceId,
              spanId: spanIds[i],
              name,
              kind: 1,
              startTimeUnixNano: String(now),
              endTimeUnixNano: String(now + 1_000_000n),
            })),
          },
        ],
      },
    ],
  };
  return { body: await otlpJsonToProtobuf('traces', JSON.stringify(json)), spanIds };
}
