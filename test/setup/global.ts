import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { stopSharedKafka } from '../helpers/kafka.js';

/** Every test runs against freshly built artifacts: the emulator launches dist/, not src/. */
export default function setup(): () => void {
  execFileSync(process.execPath, ['layer/build.mjs', '--layer'], { stdio: 'inherit' });
  // Peers shared by the files of one run (the Kafka broker) carry this id; teardown stops them.
  const run = randomUUID();
  process.env.RELAY_TEST_RUN = run;
  return () => stopSharedKafka(run);
}
