import { EventEmitter } from 'node:events';
import type {
  EnvironmentEvents,
  EnvironmentProcess,
  InitResult,
  InvocationResult,
  InvokeOptions,
  LocalFunctionConfig,
  ShutdownResult,
  TelemetryRecord,
} from './types.js';

/** One emulated Lambda execution environment: real processes, real freeze. */
export class LambdaEnvironment extends EventEmitter<EnvironmentEvents> {
  /** Runs Init (extensions register, runtime inits). Resolves even when Init fails: see `lastInit`. */
  static async start(_config: LocalFunctionConfig): Promise<LambdaEnvironment> {
    throw new Error('not implemented yet');
  }
  /** Every record the platform generated, in order. */
  readonly telemetry: readonly TelemetryRecord[] = [];
  readonly tmpDir: string = '';
  /** The last init phase (cold start, or re-init after a reset). */
  get lastInit(): InitResult | undefined {
    return undefined;
  }
  async invoke(_event: unknown, _opts?: InvokeOptions): Promise<InvocationResult> {
    throw new Error('not implemented yet');
  }
  async shutdown(_reason = 'spindown'): Promise<ShutdownResult> {
    throw new Error('not implemented yet');
  }
  /** Kills every process at once (SIGKILL) and closes the APIs; safe to call any time, e.g. in afterEach. */
  async dispose(): Promise<void> {}
  processes(): EnvironmentProcess[] {
    return [];
  }
  output(): string {
    return '';
  }
}
