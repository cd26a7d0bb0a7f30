// The last resort before dropping: OTLP batches as files under /tmp, which survives freezes, resets
// and re-inits of the environment. Each file is written to a temp name,
// fsynced and renamed, so a file with a final name is always complete; a crash leaves only a temp
// file (named after the writer's pid), which the next open removes once that writer is gone. Files are
// replayed oldest first and deleted only after the collector confirmed them.
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
  /**
   * Upper bound on the bytes of spooled files; a batch that would pass it is refused, so a file larger
   * than this was not written here and is never read into memory.
   */
  maxBytes: number;
  now?: () => number;
  /** Where a file moved aside, left alone or not deletable is reported. */
  log?: Pick<Logger, 'warn'>;
}

/** A spooled batch as read back: the item count comes from the validated content, not the file name. */
export interface SpoolBatch {
  body: Uint8Array;
  items: number;
}

const NAME = /^(\d{13})-(\d{6})-(traces|metrics|logs)-(\d+)\.binpb$/;
const TEMP_PREFIX = '.tmp-';
/** Our temp files: `.tmp-<writer pid>-<12 hex>-<final name>`; anything else under the prefix is foreign. */
const OWN_TEMP = /^\.tmp-(\d+)-[0-9a-f]{12}-\d{13}-\d{6}-(?:traces|metrics|logs)-\d+\.binpb$/;
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
  /**
   * Files delivered (or settled) whose deletion failed (a read-only directory, say): never listed
   * again by this process, so they are not sent once per flush.
   */
  private readonly settled = new Set<string>();

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.now = options.now ?? Date.now;
    this.log = options.log;
  }

  /**
   * Creates the directory, removes the temp files a crashed writer of ours left behind, and totals
   * what is spooled. Anything else under the temp prefix (a directory, another program's file, the
   * temp file of a live writer) is left alone and reported: the directory may be shared.
   */
  open(): Promise<void> {
    this.opening ??= (async () => {
      await fsp().mkdir(this.dir, { recursive: true });
      let total = 0;
      for (const name of await fsp().readdir(this.dir)) {
        if (name.startsWith(TEMP_PREFIX)) {
          await this.clearTemp(name);
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

  private async clearTemp(name: string): Promise<void> {
    const path = join(this.dir, name);
    const pid = Number(OWN_TEMP.exec(name)?.[1] ?? Number.NaN);
    try {
      const st = await fsp().lstat(path);
      if (st.isFile() && Number.isInteger(pid) && (pid === process.pid || !processAlive(pid))) {
        await fsp().rm(path, { force: true });
        return;
      }
      const what = !st.isFile()
        ? 'not a regular file'
        : Number.isInteger(pid)
          ? `being written by process ${pid}`
          : 'not a temp file this relay writes';
      this.log?.warn(`spool: left ${path} alone (${what}); it is neither replayed nor deleted`);
    } catch (err) {
      this.log?.warn(`spool: could not clear the temp file ${path}: ${errorText(err)}`);
    }
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
    const temp = join(this.dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}-${name}`);
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

  /** Spooled batches, oldest first, without those already settled that could not be deleted. */
  async list(): Promise<SpoolEntry[]> {
    await this.open();
    const entries = await listSpoolDir(this.dir);
    return this.settled.size === 0 ? entries : entries.filter((e) => !this.settled.has(e.name));
  }

  /**
   * Reads a spooled batch: a regular file (never through a symlink) of at most `maxBytes`, holding a
   * valid export request. Anything else is moved aside under REFUSED_PREFIX (kept for inspection,
   * never sent), reported, and refused with SpoolError('invalid'). The size is checked before
   * anything is read, so a huge file never lands in memory.
   */
  async read(entry: SpoolEntry): Promise<SpoolBatch> {
    let body: Uint8Array;
    try {
      const fh = await fsp().open(entry.path, READ_FLAGS);
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw new Error('not a regular file');
        if (st.size > this.maxBytes) {
          throw new Error(`${st.size} bytes, larger than the spool's bound of ${this.maxBytes} bytes`);
        }
        body = new Uint8Array(st.size);
        let at = 0;
        while (at < body.byteLength) {
          const { bytesRead } = await fh.read(body, at, body.byteLength - at, at);
          if (bytesRead === 0) throw new Error(`shorter than its size (${at} of ${st.size} bytes)`);
          at += bytesRead;
        }
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
      return { body, items: validateExportRequest(entry.signal, body).items };
    } catch (cause) {
      throw await this.refuse(
        entry,
        `not a valid OTLP ${entry.signal} export request: ${errorText(cause)}`,
        cause,
      );
    }
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

  /**
   * Deletes a batch; call only after the collector confirmed (or refused) it. A file that cannot be
   * deleted is reported once and never listed again by this process: it is settled, and sending it
   * once per flush would multiply its data at the collector. It still counts toward the bound.
   */
  async remove(entry: SpoolEntry): Promise<void> {
    await this.open();
    try {
      await fsp().rm(entry.path);
      this.usedBytes = Math.max(0, this.usedBytes - entry.bytes);
    } catch (err) {
      // Already gone (another replayer got there first): nothing to account for.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (this.settled.has(entry.name)) return;
      this.settled.add(entry.name);
      this.log?.warn(
        `spool: ${entry.path} was settled but cannot be deleted (${errorText(err)}); this process will not send it again, a later one may`,
        { signal: entry.signal },
      );
    }
  }
}

/** False when no process has this pid (ESRCH); one we may not signal (EPERM) is alive. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
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
