// `faas.coldstart`: true only for the first invocation of an environment that was initialised for it.
// Provisioned concurrency, SnapStart and Managed Instances initialise ahead of traffic, and Lambda may
// also initialise on-demand environments proactively; in those cases the first invocation did not wait
// for init and is not a cold start.

/** On-demand init is limited to 10 s; a first invoke later than that after process start was not waiting for it. */
export const PROACTIVE_INIT_GAP_MS = 10_000;

export class ColdStartTracker {
  private seen = false;
  constructor(
    private readonly initializationType: string | undefined,
    /** Epoch ms at which this process started (its init began). */
    private readonly processStartMs: number,
  ) {}

  /** Answers for one invocation starting at `nowMs`; only the first call can return true. */
  take(nowMs: number): boolean {
    if (this.seen) return false;
    this.seen = true;
    // Unset means an emulator or test harness; treat it like on-demand.
    if (this.initializationType && this.initializationType !== 'on-demand') return false;
    return nowMs - this.processStartMs <= PROACTIVE_INIT_GAP_MS;
  }
}

/**
 * The process's tracker. Cold start is a fact about the execution environment (one per process), not
 * about an invocation, which is why it alone lives at module scope.
 */
export const processColdStart = new ColdStartTracker(
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE,
  Math.round(performance.timeOrigin),
);
