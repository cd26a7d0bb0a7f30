import { describe, expect, it } from 'vitest';
import { updateRequest } from '../../../src/cli/lambda/update.js';
import { UsageError } from '../../../src/cli/usage.js';

describe('updateRequest', () => {
  it('refuses to go on when no function, prefix or tag is named', () => {
    expect(() => updateRequest({ 'dry-run': true }, [], 'usage: attach')).toThrow(UsageError);
    expect(() => updateRequest({}, [], 'usage: attach')).toThrow(
      /name at least one function, --prefix or --tag\n\nusage: attach/,
    );
  });

  it('waits 120 s per update and writes for real when neither --timeout nor --dry-run is given', () => {
    const r = updateRequest({ prefix: ['orders-'] }, ['billing'], 'usage');
    expect(r).toEqual({
      selector: { names: ['billing'], prefixes: ['orders-'], tags: {} },
      apply: { dryRun: false, timeoutMs: 120_000 },
      bulk: { concurrency: 4, json: false },
    });
  });

  it('takes --timeout in seconds and --dry-run from the parsed values', () => {
    const r = updateRequest({ tag: ['team=payments'], timeout: '2.5', 'dry-run': true }, [], 'usage');
    expect(r.apply).toEqual({ dryRun: true, timeoutMs: 2500 });
    expect(r.selector.tags).toEqual({ team: 'payments' });
  });
});
