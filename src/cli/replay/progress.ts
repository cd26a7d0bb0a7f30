// Progress of a replay run: objects, bytes and items done of the total listed, the rate, and the time
// left at that rate. A terminal gets one line redrawn in place; anything else (a pipe, a log file, CI)
// gets JSON lines, at most one a second, so a long run can be followed and parsed.

/** What the caller tells the progress as the run goes. */
export interface ReplayProgressClock {
  now(): number;
}

export interface ProgressSnapshot {
  objects: { done: number; total: number };
  bytes: { done: number; total: number };
  /** Spans, data points and log records sent so far (where the object said how many). */
  items: number;
  /** Over the whole run so far. */
  objectsPerSecond: number;
  bytesPerSecond: number;
  /** At the rate so far; null before anything is done. */
  etaSeconds: number | null;
  elapsedSeconds: number;
}

export interface ProgressOptions {
  totalObjects: number;
  totalBytes: number;
  /** A terminal: redraw one line. Otherwise JSON lines. */
  tty: boolean;
  write(text: string): void;
  clock?: ReplayProgressClock;
  /** Least time between two outputs (the last one is always written). */
  everyMs?: number;
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${UNITS[u]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class ReplayProgress {
  private readonly started: number;
  private readonly clock: ReplayProgressClock;
  private objects = 0;
  private bytes = 0;
  private items = 0;
  private lastWrite = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: ProgressOptions) {
    this.clock = options.clock ?? { now: () => Date.now() };
    this.started = this.clock.now();
  }

  /** One object handled (sent, listed, or given up on): its stored bytes and items. */
  advance(bytes: number, items = 0): void {
    this.objects++;
    this.bytes += bytes;
    this.items += items;
    this.emit(false);
  }

  /** The closing output (a newline after the terminal line). */
  finish(): void {
    this.emit(true);
  }

  snapshot(): ProgressSnapshot {
    const elapsed = Math.max(0, (this.clock.now() - this.started) / 1000);
    const { totalObjects, totalBytes } = this.options;
    const objectsPerSecond = elapsed > 0 ? this.objects / elapsed : 0;
    const bytesPerSecond = elapsed > 0 ? this.bytes / elapsed : 0;
    const left = totalObjects - this.objects;
    return {
      objects: { done: this.objects, total: totalObjects },
      bytes: { done: this.bytes, total: totalBytes },
      items: this.items,
      objectsPerSecond,
      bytesPerSecond,
      etaSeconds: left === 0 ? 0 : objectsPerSecond > 0 ? left / objectsPerSecond : null,
      elapsedSeconds: elapsed,
    };
  }

  /** The terminal line for a snapshot. */
  static line(s: ProgressSnapshot): string {
    const pct = s.objects.total === 0 ? 100 : Math.floor((s.objects.done / s.objects.total) * 100);
    return (
      `${s.objects.done}/${s.objects.total} objects (${pct}%)  ` +
      `${formatBytes(s.bytes.done)}/${formatBytes(s.bytes.total)}  ${s.items} items  ` +
      `${s.objectsPerSecond.toFixed(1)} obj/s ${formatBytes(s.bytesPerSecond)}/s  ` +
      `ETA ${s.etaSeconds === null ? '?' : formatDuration(s.etaSeconds)}`
    );
  }

  private emit(last: boolean): void {
    const now = this.clock.now();
    if (!last && now - this.lastWrite < (this.options.everyMs ?? (this.options.tty ? 100 : 1000))) return;
    this.lastWrite = now;
    const s = this.snapshot();
    if (this.options.tty) {
      this.options.write(`\r${ReplayProgress.line(s).padEnd(100)}${last ? '\n' : ''}`);
    } else {
      this.options.write(`${JSON.stringify({ progress: s })}\n`);
    }
  }
}
