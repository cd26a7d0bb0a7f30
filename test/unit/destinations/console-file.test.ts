// The console and file destinations: one OTLP/JSON line per batch; the file rotates at its size and
// keeps at most its number of backups.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDestination as createConsole } from '../../../src/extension/destinations/console/index.js';
import { createDestination as createFile } from '../../../src/extension/destinations/file/index.js';
import { decodeExportRequest } from '../../../src/otlp/index.js';
import { budget, clock, memoryLog, tracesRequest } from '../../integration/destinations/fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'relay-file-dest-'));
  dirs.push(d);
  return d;
};

describe('console destination', () => {
  it('writes each batch as one OTLP/JSON line with hex ids', async () => {
    const lines: string[] = [];
    const dest = createConsole({ env: {}, clock, log: memoryLog() }, (l) => lines.push(l));
    const a = tracesRequest('console-fn');
    const b = tracesRequest('console-fn');
    await dest.export('traces', a.body, budget());
    await dest.export('traces', b.body, budget());
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => !l.includes('\n'))).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual(await decodeExportRequest('traces', a.body));
    expect(lines[1]).toContain(`"traceId":"${b.traceId}"`);
  });
});

describe('file destination', () => {
  it('appends JSON lines per signal and rotates, never keeping more than the size cap', async () => {
    // Prepare
    const dir = tempDir();
    const one = tracesRequest('file-fn');
    const line = JSON.stringify(await decodeExportRequest('traces', one.body)).length + 1;
    const dest = createFile({
      env: {
        OTEL_RELAY_FILE_PATH: join(dir, 'otel/{signal}.jsonl'),
        OTEL_RELAY_FILE_MAX_BYTES: String(line * 2),
        OTEL_RELAY_FILE_MAX_BACKUPS: '2',
      },
      clock,
      log: memoryLog(),
    });
    // Act: 7 batches of equal size, 2 per file.
    for (let i = 0; i < 7; i++)
      expect(await dest.export('traces', one.body, budget())).toEqual({ kind: 'success' });
    // Assess
    const files = readdirSync(join(dir, 'otel')).sort();
    expect(files).toEqual(['traces.jsonl', 'traces.jsonl.1', 'traces.jsonl.2']);
    for (const f of files) expect(statSync(join(dir, 'otel', f)).size).toBeLessThanOrEqual(line * 2);
    const current = readFileSync(join(dir, 'otel/traces.jsonl'), 'utf8').trim().split('\n');
    expect(current).toHaveLength(1);
    expect(JSON.parse(current[0]!).resourceSpans[0].scopeSpans[0].spans).toHaveLength(3);
  });

  it('writes length-prefixed protobuf that decodes back to the batches', async () => {
    const dir = tempDir();
    const dest = createFile({
      env: { OTEL_RELAY_FILE_PATH: join(dir, '{signal}.binpb'), OTEL_RELAY_FILE_FORMAT: 'proto' },
      clock,
      log: memoryLog(),
    });
    const a = tracesRequest('p1');
    const b = tracesRequest('p2');
    await dest.export('traces', a.body, budget());
    await dest.export('traces', b.body, budget());
    const bytes = readFileSync(join(dir, 'traces.binpb'));
    const first = bytes.readUInt32BE(0);
    expect(Buffer.from(bytes.subarray(4, 4 + first))).toEqual(Buffer.from(a.body));
    const second = bytes.readUInt32BE(4 + first);
    expect(Buffer.from(bytes.subarray(8 + first, 8 + first + second))).toEqual(Buffer.from(b.body));
    expect(bytes.length).toBe(8 + first + second);
  });

  it('refuses a protobuf path without {signal} and a missing path; an unknown format is reported and json used', () => {
    const ctx = (env: Record<string, string>) => ({ env, clock, log: memoryLog() });
    expect(() => createFile(ctx({}))).toThrow(/OTEL_RELAY_FILE_PATH is required/);
    expect(() =>
      createFile(ctx({ OTEL_RELAY_FILE_PATH: '/tmp/x.bin', OTEL_RELAY_FILE_FORMAT: 'proto' })),
    ).toThrow(/must contain \{signal\}/);
    const c = ctx({ OTEL_RELAY_FILE_PATH: '/tmp/x', OTEL_RELAY_FILE_FORMAT: 'xml' });
    const problems: string[] = [];
    createFile({ ...c, onConfigProblem: (p) => problems.push(p) });
    expect(problems).toEqual(['config: OTEL_RELAY_FILE_FORMAT=xml is not json or proto; using json']);
    expect(c.log.lines).toEqual([`warn ${problems[0]}`]);
  });
});
