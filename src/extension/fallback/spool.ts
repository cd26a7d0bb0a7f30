// The last resort before dropping: OTLP batches as files under /tmp, which survives freezes, resets
// and re-inits of the environment (lambda-platform.md §2.3). Each file is written to a temp name,
// fsynced and renamed, so a file with a final name is always complete; a crash leaves only a temp
// file, which the next open removes. Files are replayed oldest first and deleted only after the
// collector confirmed them.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Signal } from '../../otlp/index.js';

export interface SpoolEntry {
  /** File name: `<epoch ms>-<seq>-<signal>-<items>.binpb`; sorts oldest first. */
  name: string;
  path: string;
  signal: Signal;
  items: number;
  bytes: number;
  createdAt: number;
}

export type SpoolErrorReason = 'spool-full' | 'tmp-full' | 'io';

/** A batch could not be spooled: it is lost unless the caller has another place for it. */
export class SpoolError extends Error {
  override readonly name = 'SpoolError';
  constructor(
    message: string,
    readonly reason: SpoolErrorReason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface SpoolOptions {
  dir: string;
  /** Upper bound on the bytes of spooled files; a batch that would pass it is refused. */
  maxBytes: number;
  now?: () => number;
}

const NAME = /^(\d{13})-(\d{6})-(traces|metrics|logs)-(\d+)\.binpb$/;
const TEMP_PREFIX = '.tmp-';

export function parseSpoolName(name: string): Omit<SpoolEntry, 'path' | 'bytes'> | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  return { name, createdAt: Number(m[1]), signal: m[3] as Signal, items: Number(m[4]) };
}

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly now: () => number;
  private seq = 0;
  private usedBytes = -1;
  private opening: Promise<void> | undefined;

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.now = options.now ?? Date.now;
  }

  /** Creates the directory, removes temp files a crash left behind, and totals what is spooled. */
  open(): Promise<void> {
    this.opening ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      let total = 0;
      for (const name of await readdir(this.dir)) {
        if (name.startsWith(TEMP_PREFIX)) {
          await rm(join(this.dir, name), { force: true });
          continue;
        }
        if (!NAME.test(name)) continue;
        total += (await stat(join(this.dir, name)).catch(() => ({ size: 0 }))).size;
      }
      this.usedBytes = total;
    })();
    return this.opening;
  }

  /** Bytes currently spooled (after open). */
  get bytes(): number {
    return Math.max(0, this.usedBytes);
  }

  /** Writes one batch durably. Throws SpoolError when it does not fit or the disk refuses it. */
  async write(signal: Signal, body: Uint8Array, items: number): Promise<SpoolEntry> {
    try {
      await this.open();
    } catch (cause) {
      throw new SpoolError(`spool: cannot open ${this.dir}`, 'io', { cause });
    }
    if (this.usedBytes + body.byteLength > this.maxBytes) {
      throw new SpoolError(
        `spool: ${this.dir} holds ${this.usedBytes} of ${this.maxBytes} bytes; a ${body.byteLength}-byte batch does not fit`,
        'spool-full',
      );
    }
    const createdAt = this.now();
    this.seq = (this.seq + 1) % 1_000_000;
    const name = `${String(createdAt).padStart(13, '0')}-${String(this.seq).padStart(6, '0')}-${signal}-${items}.binpb`;
    const path = join(this.dir, name);
    const temp = join(this.dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${name}`);
    // Reserve the space first so concurrent writers cannot overshoot the bound together.
    this.usedBytes += body.byteLength;
    try {
      const fh = await open(temp, 'wx');
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, path);
    } catch (cause) {
      this.usedBytes -= body.byteLength;
      await rm(temp, { force: true }).catch(() => {});
      const code = (cause as NodeJS.ErrnoException).code;
      const reason: SpoolErrorReason = code === 'ENOSPC' || code === 'EDQUOT' ? 'tmp-full' : 'io';
      throw new SpoolError(`spool: writing ${path} failed (${code ?? 'error'})`, reason, { cause });
    }
    return { name, path, signal, items, bytes: body.byteLength, createdAt };
  }

  /** Spooled batches, oldest first. */
  async list(): Promise<SpoolEntry[]> {
    await this.open();
    return listSpoolDir(this.dir);
  }

  read(entry: SpoolEntry): Promise<Uint8Array> {
    return readFile(entry.path);
  }

  /** Deletes a batch; call only after the collector confirmed it. */
  async remove(entry: SpoolEntry): Promise<void> {
    await this.open();
    try {
      await rm(entry.path);
      this.usedBytes = Math.max(0, this.usedBytes - entry.bytes);
    } catch (err) {
      // Already gone (another replayer got there first): nothing to account for.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/** The batches in a spool directory, oldest first; usable without opening (the `replay` CLI). */
export async function listSpoolDir(dir: string): Promise<SpoolEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const entries: SpoolEntry[] = [];
  for (const name of names.sort()) {
    const parsed = parseSpoolName(name);
    if (!parsed) continue;
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (!st) continue;
    entries.push({ ...parsed, path, bytes: st.size });
  }
  return entries;
}
