// Freeze and thaw: every process group is SIGSTOPped once the runtime and the
// INVOKE subscribers are parked, and telemetry delivery pauses with them.
import { isStopped } from '../processes.js';
import { FREEZE_CONFIRM_MS, type Sandbox } from './sandbox.js';

/** SIGSTOPs every process (on-demand only) and pauses telemetry delivery. */
export async function freeze(env: Sandbox): Promise<void> {
  if (env.mode === 'managed-instances' || env.frozen) return;
  // Delivery pauses first: nothing may reach a subscriber after the platform decided to freeze.
  env.relay.pause();
  const procs = env.allProcesses().filter((p) => p.alive);
  for (const p of procs) p.signal('SIGSTOP');
  env.frozen = true;
  // SIGSTOP is asynchronous: report "frozen" once the kernel shows every process stopped.
  const deadline = env.clock.now() + FREEZE_CONFIRM_MS;
  while (procs.some((p) => p.alive && !isStopped(p.pid)) && env.clock.now() < deadline) {
    await new Promise<void>((r) => setTimeout(r, 1));
  }
  env.events.emit('frozen');
}

/** SIGCONTs every process and resumes telemetry delivery. */
export function thaw(env: Sandbox): void {
  if (!env.frozen) return;
  for (const p of env.allProcesses()) if (p.alive) p.signal('SIGCONT');
  env.frozen = false;
  env.relay.resume();
  env.events.emit('thawed');
}
