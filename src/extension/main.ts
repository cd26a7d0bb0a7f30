// Entry of the extension process (/opt/otel-relay/extension.js, started by /opt/extensions/otel-relay).
// Kept tiny: only what `register` needs is loaded before it; the rest is imported lazily by run.ts.
import { systemClock } from './clock.js';
import { runExtension } from './lifecycle/index.js';
import { createLogger } from './log.js';
import { readSetting } from './settings/registry.js';
import { LOG_LEVEL } from './settings/startup.js';

// An invalid level is reported by the full config load after `register`.
const log = createLogger(readSetting(process.env, LOG_LEVEL, []));

// A stray fault in a callback must not become Extension.Crash (which resets the function's environment).
process.on('uncaughtException', (err) =>
  log.error('otel-relay uncaught exception; continuing', { error: err }),
);
process.on('unhandledRejection', (err) =>
  log.error('otel-relay unhandled rejection; continuing', { error: err }),
);

/** Exits once stdout has taken the last log lines (a pipe is asynchronous), or after 100 ms at most. */
function exit(code: number): void {
  const timer = setTimeout(() => process.exit(code), 100);
  process.stdout.write('', () => {
    clearTimeout(timer);
    process.exit(code);
  });
}

// layer/otel-relay.sh registers before Node boots and passes the identifier it got.
const extensionId = process.argv
  .find((a) => a.startsWith('--extension-id='))
  ?.slice('--extension-id='.length);

runExtension({ env: process.env, clock: systemClock, log, extensionId }).then(exit, (err) => {
  log.error('otel-relay stopped unexpectedly', { error: err });
  exit(1);
});
