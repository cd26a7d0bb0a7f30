// Time, injected: the emulator measures and schedules through a Clock so unit tests can drive the
// Telemetry API's buffering without sleeping. The processes' freeze is real regardless.

export interface Clock {
  /** Epoch milliseconds, sub-millisecond precision, never going backwards. */
  now(): number;
  /** Runs fn after ms; returns a function that cancels it. Timers never keep the process alive. */
  setTimeout(fn: () => void, ms: number): () => void;
}

const origin = performance.timeOrigin;

export const systemClock: Clock = {
  now: () => origin + performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return () => clearTimeout(t);
  },
};

/** ISO-8601 with milliseconds, the Telemetry API's `time` format. */
export function isoTime(epochMs: number): string {
  return new Date(Math.floor(epochMs)).toISOString();
}

/** Durations are reported with three decimals, like platform.report. */
export function round3(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
