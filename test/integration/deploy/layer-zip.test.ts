// layer.zip is reproducible byte for byte and written without a system zip binary; read back here by
// an independent reader (Python's zipfile) so the format is checked, not just our own view of it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectFiles, zipFiles } from '../../../layer/zip.mjs';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** name, unix mode, date-time and CRC check of every entry, as Python's zipfile reads them. */
function readWithPython(zip: string): { name: string; mode: number; date: number[] }[] {
  const script = [
    'import json, sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1])',
    'bad = z.testzip()',
    'assert bad is None, bad',
    'print(json.dumps([{"name": i.filename, "mode": i.external_attr >> 16, "date": list(i.date_time)} for i in z.infolist()]))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, zip], { encoding: 'utf8' }));
}

describe('layer.zip', () => {
  it('is the same bytes for the same files, whatever their timestamps', () => {
    // Prepare: dist/layer as built by the global setup, copied twice with different file times.
    const a = mkdtempSync(join(tmpdir(), 'zip-a-'));
    const b = mkdtempSync(join(tmpdir(), 'zip-b-'));
    cpSync('dist/layer', a, { recursive: true });
    cpSync('dist/layer', b, { recursive: true });
    utimesSync(join(b, 'otel-relay/extension.js'), new Date('2031-05-05'), new Date('2031-05-05'));
    const exclude = (p: string) => p.endsWith('.map');

    // Act
    const first = zipFiles(collectFiles(a, exclude));
    const second = zipFiles(collectFiles(b, exclude));

    // Assess: and the build's own zip is the same as well.
    expect(sha256(second)).toBe(sha256(first));
    expect(sha256(readFileSync('dist/layer.zip'))).toBe(sha256(first));
  });

  it('holds the launcher (executable) and the extension, no source map, at the fixed zip epoch', () => {
    // Act
    const entries = readWithPython('dist/layer.zip');

    // Assess
    const names = entries.map((e) => e.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(
      expect.arrayContaining(['extensions/otel-relay', 'otel-relay/extension.js', 'otel-relay/package.json']),
    );
    expect(names.filter((n) => n.endsWith('.map'))).toEqual([]);
    const mode = (name: string) => entries.find((e) => e.name === name)!.mode & 0o777;
    expect(mode('extensions/otel-relay')).toBe(0o755);
    expect(mode('otel-relay/extension.js')).toBe(0o644);
    for (const e of entries) expect(e.date).toEqual([1980, 1, 1, 0, 0, 0]);
  });

  it('stores files deflate does not shrink and round-trips every byte', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'zip-mixed-'));
    writeFileSync(join(dir, 'empty'), '');
    writeFileSync(
      join(dir, 'random.bin'),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)),
    );
    writeFileSync(join(dir, 'text.txt'), 'otel '.repeat(1000));
    chmodSync(join(dir, 'text.txt'), 0o755);
    const zip = join(mkdtempSync(join(tmpdir(), 'zip-out-')), 'mixed.zip');

    // Act
    writeFileSync(zip, zipFiles(collectFiles(dir)));

    // Assess
    const entries = readWithPython(zip);
    expect(entries.map((e) => [e.name, e.mode & 0o777])).toEqual([
      ['empty', 0o644],
      ['random.bin', 0o644],
      ['text.txt', 0o755],
    ]);
  });
});
