import { describe, expect, it } from 'vitest';
import { ColdStartTracker, PROACTIVE_INIT_GAP_MS } from '../../../src/middleware/coldstart.js';

describe('ColdStartTracker', () => {
  const start = 1_700_000_000_000;

  it('marks only the first invocation of an on-demand environment as a cold start', () => {
    const t = new ColdStartTracker('on-demand', start);
    expect(t.take(start + 300)).toBe(true);
    expect(t.take(start + 400)).toBe(false);
    expect(t.take(start + 500)).toBe(false);
  });

  it('treats an unset initialization type as on-demand', () => {
    expect(new ColdStartTracker(undefined, start).take(start + 10)).toBe(true);
  });

  it('never marks a cold start for provisioned concurrency, SnapStart or Managed Instances', () => {
    for (const type of ['provisioned-concurrency', 'snap-start', 'lambda-managed-instances']) {
      expect(new ColdStartTracker(type, start).take(start + 10)).toBe(false);
    }
  });

  it('does not count a first invocation long after init (proactive initialization)', () => {
    const t = new ColdStartTracker('on-demand', start);
    expect(t.take(start + PROACTIVE_INIT_GAP_MS + 1)).toBe(false);
    expect(t.take(start + PROACTIVE_INIT_GAP_MS + 2)).toBe(false);
  });
});
