import { beforeEach } from 'vitest';

/** Anything with captured output: every peer helper returns one. */
export interface HasLogs {
  logs(): string;
}

/**
 * Prints a peer's captured output to stderr whenever a test in the calling file (or describe block)
 * fails, so a red CI log shows what the collector or S3 server saw. `peer` is read lazily because peers
 * are usually started in beforeAll, after this is registered. Failure hooks run after afterEach, so a
 * peer stopped in afterEach must stay reachable through `peer` (its logs outlive stop()).
 *
 * @example
 * let s3: S3Peer;
 * beforeAll(async () => { s3 = await startS3(); });
 * printLogsOnFailure('s3', () => s3);
 */
export function printLogsOnFailure(name: string, peer: () => HasLogs | undefined): void {
  beforeEach(({ onTestFailed, task }) => {
    onTestFailed(() => {
      const logs = peer()?.logs() ?? '(peer not started)';
      process.stderr.write(
        `\n===== ${name} output, for failed test "${task.name}" =====\n${logs.slice(-20_000)}\n===== end of ${name} output =====\n`,
      );
    });
  });
}
