// The last resort before dropping: OTLP batches as files under /tmp, which survives freezes, resets
// and re-inits of the environment. Each file is written to a temp name,
// fsynced and renamed, so a file with a final name is always complete; a crash leaves only a temp
// file, which the next open removes. Files are replayed oldest first and deleted only after the
// collector confirmed them.
import { constants } from 'node:fs';
import { join } from 'node:path';
import { type Signal, validateExportRequest } from '../../otlp/index.js';
import type { Logger } from '../export/types.js';
import { errorText } from '../log.js';
import { randomBytes } from '../random.js';

// node:fs/promises (~1.5 ms of CPU to load) is loaded by the first spool operation, not at startup.
const fsp = () => process.getBuiltinModule('node:fs/promises');

export interface SpoolEntry {
  /** File name: `<epoch ms>-<seq>-<signal>-<items>.binpb`; sorts oldest first. */
  name: string;
  path: string;
  signal: Signal;
  items: number;
  bytes: number;
  createdAt: number;
}

export type SpoolErrorReason = 'spool-full' | 'tmp-full' | 'io' | 'invalid';

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
  /** Where a file moved aside (not a regular file, or not a valid export request) is reported. */
  log?: Pick<Logger, 'warn'>;
}

const NAME = /^(\d{13})-(\d{6})-(traces|metrics|logs)-(\d+)\.binpb$/;
const TEMP_PREFIX = '.tmp-';
/** Files that failed validation keep their data under this prefix, out of the replay's way. */
export const REFUSED_PREFIX = '.refused-';
// O_NOFOLLOW: a symlink planted under the spool's name is never read through; O_NONBLOCK: a FIFO
// there cannot hang the open.
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

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
  private readonly log: Pick<Logger, 'warn'> | undefined;

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.now = options.now ?? Date.now;
    this.log = options.log;
  }

  /** Creates the directory, removes temp files a crash left behind, and totals what is spooled. */
  open(): Promise<void> {
    this.opening ??= (async () => {
      await fsp().mkdir(this.dir, { recursive: true });
      let total = 0;
      for (const name of await fsp().readdir(this.dir)) {
        if (name.startsWith(TEMP_PREFIX)) {
          await fsp().rm(join(this.dir, name), { force: true });
          continue;
        }
        if (!NAME.test(name)) continue;
        const st = await fsp()
          .lstat(join(this.dir, name))
          .catch(() => undefined);
        if (st?.isFile()) total += st.size;
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
      const fh = await fsp().open(temp, 'wx');
      try {
        await fh.writeFile(body);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp().rename(temp, path);
    } catch (cause) {
      this.usedBytes -= body.byteLength;
      await fsp()
        .rm(temp, { force: true })
        .catch(() => {});
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

  /**
   * Reads a spooled batch: a regular file (never through a symlink) holding a valid export request.
   * Anything else is moved aside under REFUSED_PREFIX (kept for inspection, never sent), reported,
   * and refused with SpoolError('invalid').
   */
  async read(entry: SpoolEntry): Promise<Uint8Array> {
    let body: Uint8Array;
    try {
      const fh = await fsp().open(entry.path, READ_FLAGS);
      try {
        if (!(await fh.stat()).isFile()) throw new Error('not a regular file');
        body = await fh.readFile();
      } finally {
        await fh.close();
      }
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw cause;
      // ELOOP is O_NOFOLLOW meeting a symlink.
      const why = code === 'ELOOP' ? 'a symlink' : errorText(cause);
      throw await this.refuse(entry, why, cause);
    }
    try {
      validateExportRequest(entry.signal, body);
    } catch (cause) {
      throw await this.refuse(
        entry,
        `not a valid OTLP ${entry.signal} export request: ${errorText(cause)}`,
        cause,
      );
    }
    return body;
  }

  private async refuse(entry: SpoolEntry, why: string, cause: unknown): Promise<SpoolError> {
    const aside = join(this.dir, `${REFUSED_PREFIX}${entry.name}`);
    let where = `moved aside to ${aside}`;
    try {
      await fsp().rename(entry.path, aside);
      if (this.usedBytes >= 0) this.usedBytes = Math.max(0, this.usedBytes - entry.bytes);
    } catch (err) {
      where = `could not be moved aside (${errorText(err)})`;
    }
    const message = `spool: ${entry.path} is ${why}; not replayed, ${where}`;
    this.log?.warn(message, { signal: entry.signal });
    return new SpoolError(message, 'invalid', { cause });
  }

  /** Deletes a batch; call only after the collector confirmed it. */
  async remove(entry: SpoolEntry): Promise<void> {
    await this.open();
    try {
      await fsp().rm(entry.path);
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
    names = await fsp().readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const entries: SpoolEntry[] = [];
  for (const name of names.sort()) {
    const parsed = parseSpoolName(name);
    if (!parsed) continue;
    const path = join(dir, name);
    // lstat, so a symlink is listed as itself; read() then moves it aside instead of following it.
    const st = await fsp()
      .lstat(path)
      .catch(() => undefined);
    if (!st || st.isDirectory()) continue;
    entries.push({ ...parsed, path, bytes: st.size });
  }
  return entries;
}
