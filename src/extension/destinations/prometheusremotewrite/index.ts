// The prometheusremotewrite destination: metrics as a remote write 1.0 WriteRequest (protobuf,
// snappy block). Loaded only when selected.
import { randomUUID } from 'node:crypto';
import { sendOnce } from '../http.js';
import { decodeMetrics } from '../model.js';
import { DestinationSettingError, requireUrl, settingReader } from '../read.js';
import type { Destination, DestinationContext, DestinationModule } from '../types.js';
import { CumulativeState, toTimeSeries } from './series.js';
import { PROMETHEUS_RW_ENDPOINT, PROMETHEUS_RW_HEADERS, PROMETHEUS_RW_TIMEOUT } from './settings.js';
import { snappyCompress } from './snappy.js';
import { encodeWriteRequest } from './write-request.js';

/** `key=value,key=value`, as OTEL_EXPORTER_OTLP_HEADERS (values URL-decoded). */
export function parseHeaderList(text: string | undefined, variable: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',')) {
    if (!part.trim()) continue;
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new DestinationSettingError(
        `${variable}: ${JSON.stringify(part.trim().slice(0, 40))} is not key=value`,
      );
    out[part.slice(0, eq).trim().toLowerCase()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return out;
}

export function createDestination(ctx: DestinationContext): Destination {
  const read = settingReader(ctx);
  const url = requireUrl(read(PROMETHEUS_RW_ENDPOINT), PROMETHEUS_RW_ENDPOINT, 'prometheusremotewrite');
  const timeoutMs = read(PROMETHEUS_RW_TIMEOUT);
  const extra = parseHeaderList(read(PROMETHEUS_RW_HEADERS), PROMETHEUS_RW_HEADERS.name);
  // One id per extension process, i.e. per execution environment: delta totals are kept here.
  const environmentInstance = randomUUID();
  let state = new CumulativeState();
  return {
    name: 'prometheusremotewrite',
    signals: new Set(['metrics']),
    async export(signal, body, budget) {
      if (signal !== 'metrics')
        return { kind: 'failed', reason: `prometheusremotewrite takes metrics only, not ${signal}` };
      const next = state.fork();
      let payload: Uint8Array;
      try {
        const series = toTimeSeries(await decodeMetrics(body), next, { environmentInstance });
        if (series.length === 0) return { kind: 'success' };
        payload = snappyCompress(encodeWriteRequest(series));
      } catch (err) {
        return {
          kind: 'failed',
          status: 400,
          reason: `prometheusremotewrite: the batch could not be converted: ${(err as Error).message}`,
        };
      }
      const outcome = await sendOnce(
        'prometheusremotewrite',
        url,
        {
          headers: {
            ...extra,
            'content-type': 'application/x-protobuf',
            'content-encoding': 'snappy',
            'x-prometheus-remote-write-version': '0.1.0',
            'user-agent': 'otel-relay',
          },
          body: payload,
          timeoutMs,
        },
        budget,
        ctx.clock,
      );
      // Only a write Prometheus took moves the running totals on; a retried batch starts again from
      // the totals before it.
      if (outcome.kind === 'success') state = next;
      return outcome;
    },
    resetConnections() {},
    close() {},
  };
}

export default { createDestination } satisfies DestinationModule;
