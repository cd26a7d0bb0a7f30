// The final "otel-relay shut down" log line of an emulated environment, read as the ledger it carries,
// and the check that it balances at the top and for each destination.
import { expect } from 'vitest';

type PerSignal = Record<'traces' | 'metrics' | 'logs', number>;
const SIGNALS = ['traces', 'metrics', 'logs'] as const;

export interface DestinationLedgerLine {
  offered: PerSignal;
  exported: PerSignal;
  spilled: PerSignal;
  rejected: PerSignal;
  dropped: PerSignal;
  replayed: PerSignal;
}

export interface FinalLedger {
  reason: string;
  received: PerSignal;
  exported: PerSignal;
  spilled: PerSignal;
  rejected: PerSignal;
  dropped: PerSignal;
  filtered: PerSignal;
  destinations?: Record<string, DestinationLedgerLine>;
}

/** The ledger of the extension's final log line; throws with the output's tail when there is none. */
export function finalLedger(output: string): FinalLedger {
  const line = output.split('\n').find((l) => l.includes('"msg":"otel-relay shut down"'));
  if (!line) throw new Error(`no final ledger line in the extension output:\n${output.slice(-3000)}`);
  return JSON.parse(line.slice(line.indexOf('{'))) as FinalLedger;
}

/**
 * received = exported + spilled + rejected + dropped + filtered per signal, and for each destination
 * offered = exported + spilled + rejected + dropped (processors run before the fan-out, so what they
 * filter is never offered to a destination: offered = received − filtered).
 */
export function expectBalanced(ledger: FinalLedger): void {
  for (const s of SIGNALS) {
    const settled =
      ledger.exported[s] + ledger.spilled[s] + ledger.rejected[s] + ledger.dropped[s] + ledger.filtered[s];
    expect(settled, `top-level ${s}`).toBe(ledger.received[s]);
  }
  const lines = Object.entries(ledger.destinations ?? {});
  expect(lines.length, 'destination lines in the ledger').toBeGreaterThan(1);
  for (const [name, line] of lines) {
    for (const s of SIGNALS) {
      const settled = line.exported[s] + line.spilled[s] + line.rejected[s] + line.dropped[s];
      expect(settled, `${name} ${s}`).toBe(line.offered[s]);
    }
  }
}
