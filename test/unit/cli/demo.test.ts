// The demo's arguments: checked before anything is started.
import { describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/commands/demo.js';
import { UsageError } from '../../../src/cli/usage.js';

describe('demo arguments', () => {
  it('refuses a flush strategy the extension would not use, before starting anything', async () => {
    await expect(run(['--flush', 'sometimes'])).rejects.toThrow(UsageError);
    await expect(run(['--flush', 'periodic:0'])).rejects.toThrow(
      /--flush periodic:0 is not a flush strategy/,
    );
  });

  it('takes every strategy the extension parses, periodic in seconds too', async () => {
    // --count 0 fails after the flush check: reaching it shows the strategy was accepted.
    await expect(run(['--flush', 'periodic:5s', '--count', '0'])).rejects.toThrow(/--count must be/);
    await expect(run(['--flush', 'end', '--count', '0'])).rejects.toThrow(/--count must be/);
  });
});
