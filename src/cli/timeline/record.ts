// Collects what the timeline draws while the emulator runs, from the hooks runLocal already offers.
import type { InvocationResult, OutputLine } from '../../local/types.js';

export type RelayEventKind = 'flush' | 'export' | 'spill' | 'error';

export interface TimelinePhase {
  kind: 'init' | 'runtime' | 'post-runtime' | 'frozen';
  /** Epoch ms. */
  start: number;
  end: number;
  /** 1-based invocation number. */
  invocation: number;
}

export interface TimelineEvent {
  kind: RelayEventKind;
  at: number;
  text: string;
}

export interface TimelineModel {
  phases: TimelinePhase[];
  events: TimelineEvent[];
}

/** Which relay log lines are drawn, by what they say; the first match wins. */
const KINDS: [RelayEventKind, RegExp][] = [
  ['spill', /spill|spool|fallback/i],
  ['export', /export|deliver|sent|dropped/i],
  ['flush', /flush/i],
];

/** A relay log line (one JSON object: time, level, msg) as a drawn event, or undefined. */
export function relayEvent(text: string): TimelineEvent | undefined {
  let rec: { time?: unknown; level?: unknown; msg?: unknown };
  try {
    rec = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof rec.time !== 'string' || typeof rec.msg !== 'string') return undefined;
  const at = Date.parse(rec.time);
  if (Number.isNaN(at)) return undefined;
  const kind =
    KINDS.find(([, re]) => re.test(rec.msg as string))?.[0] ?? (rec.level === 'error' ? 'error' : undefined);
  return kind ? { kind, at, text: rec.msg } : undefined;
}

export class TimelineRecorder {
  private readonly phases: TimelinePhase[] = [];
  private readonly events: TimelineEvent[] = [];
  private lastEnd: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** For runLocal's onOutput: the relay's log lines. */
  readonly onOutput = (line: OutputLine): void => {
    if (line.role !== 'extension') return;
    for (const text of line.text.split('\n')) {
      const event = relayEvent(text);
      if (event) this.events.push(event);
    }
  };

  /**
   * For runLocal's onInvocation, called when the invocation is over: its phases are laid back from
   * now by the durations the platform reported.
   */
  readonly onInvocation = (result: InvocationResult, index: number): void => {
    const end = this.now();
    const invocation = index + 1;
    const postStart = end - result.postRuntimeMs;
    const start = end - result.durationMs;
    const initStart = start - (result.initDurationMs ?? 0);
    if (this.lastEnd !== undefined && initStart > this.lastEnd) {
      this.phases.push({ kind: 'frozen', start: this.lastEnd, end: initStart, invocation: invocation - 1 });
    }
    if (result.initDurationMs) this.phases.push({ kind: 'init', start: initStart, end: start, invocation });
    this.phases.push({ kind: 'runtime', start, end: postStart, invocation });
    if (result.postRuntimeMs > 0)
      this.phases.push({ kind: 'post-runtime', start: postStart, end, invocation });
    this.lastEnd = end;
  };

  model(): TimelineModel {
    return { phases: [...this.phases], events: [...this.events].sort((a, b) => a.at - b.at) };
  }
}
