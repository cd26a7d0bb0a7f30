import type { Clock } from '../../../src/cli/lambda/clock.js';

/**
 * The CLI's clock for tests: a sleep advances virtual time at once and is recorded, so retry backoff
 * and update polling cost nothing and their schedule can be asserted.
 */
export function virtualClock(): Clock & { slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
  };
}
