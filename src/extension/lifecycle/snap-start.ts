// SnapStart: Lambda snapshots the environment at the end of Init and restores that one snapshot into
// many environments, so whatever the relay still buffers when the snapshot is taken would be exported
// again by every restored copy (duplicates). Extensions get no event for the snapshot, but Init cannot
// end before the relay's first `next`, and `platform.initRuntimeDone` (the runtime is ready, its
// before-snapshot hooks have run) reaches the relay over the Telemetry API before that. So under
// SnapStart the relay holds its first `next` until that event, flushes, and then parks.

import type { Signal } from '../../otlp/index.js';
import type { Clock, Logger } from '../export/types.js';
import { itemsText } from '../log.js';
import type { TelemetryEvent } from './telemetry-api.js';

/** The SnapStart Init limit is max(130 s, function timeout); the relay cannot see the timeout. */
export const SNAPSTART_INIT_LIMIT_MS = 130_000;
/** Kept free before the Init limit: the relay's process started a little after Init did. */
export const SNAPSTART_INIT_MARGIN_MS = 10_000;

/** True when this Init ends in a SnapStart snapshot (the variable is set while snapshotting). */
export function isSnapStartInit(env: Readonly<Record<string, string | undefined>>): boolean {
  return env.AWS_LAMBDA_INITIALIZATION_TYPE === 'snap-start';
}

/** Remembers `platform.initRuntimeDone` from Telemetry API batches, and lets one caller wait for it. */
export class InitRuntimeDoneWatch {
  private status: string | undefined;
  private waiter: (() => void) | undefined;

  /** The runtime's Init status once seen (success | error | failure | timeout), else undefined. */
  get seen(): string | undefined {
    return this.status;
  }

  observe(events: readonly TelemetryEvent[]): void {
    if (this.status !== undefined) return;
    for (const e of events) {
      if (e?.type !== 'platform.initRuntimeDone') continue;
      const status = (e.record as { status?: unknown } | null)?.status;
      this.status = typeof status === 'string' ? status : 'unknown';
      this.waiter?.();
      return;
    }
  }

  /** Resolves true when the event has arrived, false at `deadline` (clock ms) without it. */
  wait(clock: Clock, deadline: number): Promise<boolean> {
    if (this.status !== undefined) return Promise.resolve(true);
    const ms = deadline - clock.now();
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), ms);
      const finish = (arrived: boolean) => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(arrived);
      };
      this.waiter = () => finish(true);
    });
  }
}

export interface SnapshotFlushDeps {
  clock: Clock;
  log: Logger;
  watch: InitRuntimeDoneWatch;
  /** False when the Telemetry API subscription failed: initRuntimeDone cannot arrive. */
  subscribed: boolean;
  /** When the relay started (clock ms): the Init limit is counted from about then. */
  startedAt: number;
  flushTimeoutMs: number;
  /** Flushes the buffer until `deadline` (clock ms). */
  flush(deadline: number): Promise<unknown>;
  /** Items still buffered, per signal, after the flush. */
  buffered(): Readonly<Record<string, number>>;
  /** Drops pooled sockets and requests in flight: a socket in the snapshot is dead in every restored copy. */
  resetConnections(): void;
}

export interface SnapshotFlushOutcome {
  initRuntimeDone: boolean;
  waitedMs: number;
  /** Items the snapshot still holds (each restored copy may export them again). */
  leftInSnapshot: number;
}

/**
 * Waits (bounded by the Init limit) for the runtime's Init to end, then exports what was accepted
 * during Init before the relay's first `next` lets the snapshot be taken.
 */
export async function flushBeforeSnapshot(deps: SnapshotFlushDeps): Promise<SnapshotFlushOutcome> {
  const { clock, log } = deps;
  const began = clock.now();
  // The flush must also end before the Init limit, so the wait ends one flush budget earlier.
  const waitDeadline =
    deps.startedAt + SNAPSTART_INIT_LIMIT_MS - SNAPSTART_INIT_MARGIN_MS - deps.flushTimeoutMs;
  const arrived = deps.subscribed ? await deps.watch.wait(clock, waitDeadline) : false;
  const waitedMs = clock.now() - began;
  if (!deps.subscribed) {
    log.warn(
      'SnapStart: no Telemetry API subscription, so the end of Init is unknown; exporting now what was accepted so far. Telemetry the function sends later in Init is in the snapshot and may be exported once per restored environment',
    );
  } else if (!arrived) {
    log.warn(
      `SnapStart: platform.initRuntimeDone did not arrive within ${waitedMs} ms; exporting now so Init can end. Telemetry the function sends later in Init is in the snapshot and may be exported once per restored environment`,
    );
  }
  await deps.flush(clock.now() + deps.flushTimeoutMs);
  deps.resetConnections();
  const left = Object.entries(deps.buffered()).filter(([, n]) => n > 0);
  const leftInSnapshot = left.reduce((sum, [, n]) => sum + n, 0);
  if (leftInSnapshot > 0) {
    log.warn(
      `SnapStart: ${left.map(([s, n]) => itemsText(s as Signal, n)).join(', ')} accepted during Init could not be exported before the snapshot; they are kept (not lost), but every environment restored from it may export them again`,
    );
  } else {
    log.debug('SnapStart: everything accepted during Init was exported before the snapshot', {
      initRuntimeDone: deps.watch.seen ?? 'not seen',
      waitedMs,
    });
  }
  return { initRuntimeDone: arrived, waitedMs, leftInSnapshot };
}
