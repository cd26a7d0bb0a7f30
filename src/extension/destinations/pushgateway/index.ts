// The pushgateway destination: metrics pushed in the text exposition format, one group per job
// (service) and instance (environment). Delta series are made cumulative first, as for remote
// write. Loaded only when selected.
import { randomUUID } from 'node:crypto';
import type { FlushBudget } from '../../export/types.js';
import { sendOnce } from '../http.js';
import { decodeMetrics } from '../model.js';
import { CumulativeState, toTimeSeries } from '../prometheusremotewrite/series.js';
import { requireUrl, settingReader } from '../read.js';
import type { Destination, DestinationContext, DestinationModule } from '../types.js';
import { exposition, groupPath, groupSeries } from './exposition.js';
import { PUSHGATEWAY_DELETE_ON_SHUTDOWN, PUSHGATEWAY_ENDPOINT, PUSHGATEWAY_TIMEOUT } from './settings.js';

export interface PushgatewayDestination extends Destination {
  /** Deletes every group this environment pushed (when configured); called at SHUTDOWN after the last flush. */
  shutdown(budget: FlushBudget): Promise<void>;
}

export function createDestination(ctx: DestinationContext): PushgatewayDestination {
  const read = settingReader(ctx);
  const base = requireUrl(read(PUSHGATEWAY_ENDPOINT), PUSHGATEWAY_ENDPOINT, 'pushgateway');
  const timeoutMs = read(PUSHGATEWAY_TIMEOUT);
  const deleteOnShutdown = read(PUSHGATEWAY_DELETE_ON_SHUTDOWN);
  const environmentInstance = randomUUID();
  const pushed = new Set<string>();
  let state = new CumulativeState();
  const urlFor = (path: string) => new URL(base.pathname.replace(/\/$/, '') + path, base);
  return {
    name: 'pushgateway',
    signals: new Set(['metrics']),
    async export(signal, body, budget) {
      if (signal !== 'metrics')
        return { kind: 'failed', reason: `pushgateway takes metrics only, not ${signal}` };
      const next = state.fork();
      const groups = groupSeries(toTimeSeries(await decodeMetrics(body), next, { environmentInstance }));
      for (const g of groups) {
        const path = groupPath(g);
        const outcome = await sendOnce(
          'pushgateway',
          urlFor(path),
          {
            method: 'POST',
            headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
            body: Buffer.from(exposition(g.series)),
            timeoutMs,
          },
          budget,
          ctx.clock,
        );
        // A group pushed twice holds the same latest values: resending all groups on retry is harmless.
        if (outcome.kind !== 'success') return outcome;
        pushed.add(path);
      }
      state = next;
      return { kind: 'success' };
    },
    async shutdown(budget) {
      if (!deleteOnShutdown) return;
      for (const path of pushed) {
        const outcome = await sendOnce(
          'pushgateway',
          urlFor(path),
          { method: 'DELETE', headers: {}, timeoutMs },
          budget,
          ctx.clock,
        );
        if (outcome.kind === 'success') pushed.delete(path);
        else
          ctx.log.warn(
            `pushgateway: the group ${path} stays on the Pushgateway until it is deleted by hand`,
            { reason: outcome.kind === 'failed' || outcome.kind === 'retryable' ? outcome.reason : '' },
          );
      }
    },
    resetConnections() {},
    close() {},
  };
}

export default { createDestination } satisfies DestinationModule;
