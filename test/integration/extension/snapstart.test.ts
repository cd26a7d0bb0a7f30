// The relay under SnapStart: the built layer in the emulator's snap-start mode, exporting to the real
// collector. Spans sent before the snapshot (during Init and from a before-snapshot hook) and after the
// restore must all arrive exactly once, with the collector restarted (same ports) while the snapshot
// is taken, so every socket opened before it is dead after the restore.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RestoreResult } from '../../../src/local/index.js';
import { collect, emptyIds, expectExactlyOnce, repoRoot, useRelaySuite } from './harness.js';

const SNAPSTART_FUNCTION = resolve(repoRoot, 'test/fixtures/emulator/functions/snapstart-otel');

interface FixtureResponse {
  spanIds: string[];
  sentBeforeSnapshot: string[];
}

describe('relay under SnapStart in the emulator', () => {
  const suite = useRelaySuite();

  for (const flush of ['end', 'adaptive', 'continuous', 'periodic:400']) {
    it(`delivers spans sent before the snapshot and after the restore exactly once under ${flush}, the collector restarted during the snapshot`, async () => {
      // Prepare
      let restarts = 0;
      const relay = await suite.start({
        flush,
        env: { FIXTURE_INIT_SPANS: '3', OTEL_RELAY_LOG_LEVEL: 'debug' },
        config: {
          codeDir: SNAPSTART_FUNCTION,
          mode: 'snap-start',
          snapStart: {
            snapshotMs: 1_500,
            onSnapshot: async () => {
              await suite.collector.restart();
              restarts++;
            },
          },
        },
      });
      expect(relay.env.lastInit).toMatchObject({ status: 'success' });
      expect(relay.env.variables('extension').AWS_LAMBDA_INITIALIZATION_TYPE).toBe('snap-start');
      const restores: RestoreResult[] = [];
      relay.env.on('restore', (r) => restores.push(r));
      const sent = emptyIds();
      // Act
      for (let i = 0; i < 6; i++) {
        const r = await relay.env.invoke({ spans: 2 });
        expect(r.status, JSON.stringify(r.error)).toBe('success');
        const body = r.response as FixtureResponse;
        if (i === 0) expect(body.sentBeforeSnapshot).toHaveLength(4);
        sent.spanIds.push(...body.sentBeforeSnapshot);
        collect(sent, { spanIds: body.spanIds });
      }
      const shutdown = await relay.env.shutdown();
      // Assess
      expect(restarts).toBe(1);
      // The relay knew it had been restored (no RESTORE event tells it) and dropped its pooled sockets.
      expect(relay.env.output()).toContain('restore detected; collector connections rebuilt');
      expect(restores).toEqual([expect.objectContaining({ status: 'success' })]);
      expect(sent.spanIds).toHaveLength(4 + 12);
      await expectExactlyOnce(suite.collector, sent);
      expect(shutdown.extensions).toEqual([
        expect.objectContaining({ name: 'otel-relay', state: 'Exited', exitCode: 0 }),
      ]);
    });
  }

  // In Lambda one snapshot is restored into many environments: whatever the relay still holds when the
  // snapshot is taken is exported again by every one of them (duplicate span ids). The emulator restores
  // a snapshot once, so the test checks the precondition instead: everything the relay accepted during
  // Init reached the collector before the snapshot. A relay can meet it: Init cannot end before its first
  // /next, and platform.initRuntimeDone (the runtime's restore/next) reaches it over the Telemetry API
  // before that.
  it('exports everything accepted during Init before the snapshot, so restored copies cannot send it again', async () => {
    // Prepare
    const tmpDir = mkdtempSync(join(tmpdir(), 'snap-tmp-'));
    let atSnapshot: { sent: string[]; atCollector: string[] } | undefined;
    try {
      const relay = await suite.start({
        env: { FIXTURE_INIT_SPANS: '3' },
        config: {
          codeDir: SNAPSTART_FUNCTION,
          mode: 'snap-start',
          tmpDir,
          snapStart: {
            snapshotMs: 0,
            onSnapshot: async () => {
              const sent = JSON.parse(
                readFileSync(join(tmpDir, 'sent-before-snapshot.json'), 'utf8'),
              ) as string[];
              // Nothing in the snapshot runs now: give the collector's file exporter time to write what
              // it already has, then look.
              const received = await suite.collector
                .waitFor((r) => sent.every((id) => r.spans().some((s) => s.spanId === id)), 3_000)
                .catch(() => suite.collector.received());
              atSnapshot = { sent, atCollector: received.spans().map((s) => s.spanId) };
            },
          },
        },
      });
      // Act
      const r = await relay.env.invoke({ spans: 1 });
      await relay.env.shutdown();
      // Assess
      expect(r.status).toBe('success');
      const body = r.response as FixtureResponse;
      expect(atSnapshot?.sent).toEqual(body.sentBeforeSnapshot);
      expect(
        atSnapshot?.sent.filter((id) => !atSnapshot?.atCollector.includes(id)),
        'span ids accepted during Init but still in the relay when the snapshot was taken',
      ).toEqual([]);
    } finally {
      rmSync(tmpDir, { recursive: true, force: true });
    }
  });
});
