// The zipkin destination: traces as Zipkin v2 JSON, POST /api/v2/spans. Loaded only when selected.

import { sendOnce } from '../http.js';
import { decodeTraces } from '../model.js';
import { requireUrl, settingReader } from '../read.js';
import type { Destination, DestinationContext, DestinationModule } from '../types.js';
import { toZipkinSpans } from './encoder.js';
import { ZIPKIN_ENDPOINT, ZIPKIN_TIMEOUT } from './settings.js';

export function createDestination(ctx: DestinationContext): Destination {
  const read = settingReader(ctx);
  const url = requireUrl(read(ZIPKIN_ENDPOINT), ZIPKIN_ENDPOINT, 'zipkin');
  const timeoutMs = read(ZIPKIN_TIMEOUT);
  return {
    name: 'zipkin',
    signals: new Set(['traces']),
    async export(signal, body, budget) {
      if (signal !== 'traces') return { kind: 'failed', reason: `zipkin takes traces only, not ${signal}` };
      let json: string;
      try {
        json = JSON.stringify(toZipkinSpans(await decodeTraces(body)));
      } catch (err) {
        return {
          kind: 'failed',
          status: 400,
          reason: `zipkin: the batch could not be decoded: ${(err as Error).message}`,
        };
      }
      return sendOnce(
        'zipkin',
        url,
        { headers: { 'content-type': 'application/json' }, body: Buffer.from(json), timeoutMs },
        budget,
        ctx.clock,
      );
    },
    resetConnections() {},
    close() {},
  };
}

export default { createDestination } satisfies DestinationModule;
