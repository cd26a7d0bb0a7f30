import { execFileSync } from 'node:child_process';

/** Every test runs against freshly built artifacts: the emulator launches dist/, not src/. */
export default function setup(): void {
  execFileSync(process.execPath, ['layer/build.mjs', '--layer'], { stdio: 'inherit' });
}
