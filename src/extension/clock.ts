import type { Clock } from './export/types.js';

/** The real clock: wall time for deadlines, performance.now() for measuring and SnapStart detection. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};
