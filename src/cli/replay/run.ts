// The replay loop, shared by the `replay` command and the replay function: each item is loaded,
// sent with retries, and deleted only after the collector accepted it. A failure stays with its item
// (kept where it is) and the loop goes on.
import type { CollectorSender } from './send.js';
import type { ReplayItem } from './sources.js';

export interface ReplayTally {
  sent: number;
  deleted: number;
  failed: number;
  /** Stored bytes of the objects sent. */
  bytes: number;
  /** Items sent per signal (where the object said how many). */
  items: Record<string, number>;
  failures: Array<{ id: string; reason: string }>;
  /** Objects already gone when loaded: an earlier run delivered and deleted them. */
  gone: number;
}

export interface ReplayLoopOptions {
  /** Send but do not delete. */
  keep?: boolean;
  /** Called once per item when it is done, whatever the outcome. */
  onItem?: (item: ReplayItem, delivered: boolean) => void;
  /** Whether a load error means the object no longer exists (counted as gone, not failed). */
  isGone?: (err: unknown) => boolean;
}

export function emptyTally(): ReplayTally {
  return { sent: 0, deleted: 0, failed: 0, bytes: 0, items: {}, failures: [], gone: 0 };
}

export async function replayItems(
  items: readonly ReplayItem[],
  sender: CollectorSender,
  options: ReplayLoopOptions = {},
  tally: ReplayTally = emptyTally(),
): Promise<ReplayTally> {
  for (const item of items) {
    let delivered = false;
    let body: Uint8Array;
    try {
      body = await item.load();
    } catch (err) {
      if (options.isGone?.(err)) tally.gone++;
      else {
        tally.failed++;
        tally.failures.push({ id: item.id, reason: `${(err as Error).message} (kept)` });
      }
      options.onItem?.(item, false);
      continue;
    }
    try {
      const out = await sender.send(item.signal, body, item.contentType);
      if (!out.delivered) {
        tally.failed++;
        tally.failures.push({ id: item.id, reason: `${out.reason} (kept)` });
        continue;
      }
      delivered = true;
      tally.sent++;
      tally.bytes += item.bytes;
      if (item.items !== undefined) tally.items[item.signal] = (tally.items[item.signal] ?? 0) + item.items;
      if (!options.keep) {
        await item.remove();
        tally.deleted++;
      }
    } catch (err) {
      tally.failed++;
      tally.failures.push({ id: item.id, reason: `${(err as Error).message} (kept)` });
    } finally {
      options.onItem?.(item, delivered);
    }
  }
  return tally;
}
