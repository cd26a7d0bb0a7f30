// A minimal Redis client: RESP2 over one TCP or TLS socket, commands pipelined in order. The redis
// destination needs AUTH, SELECT, XADD, HSET, EXPIRE, PING and QUIT, which this covers in a few
// hundred bytes of bundle; the maintained client libraries cost 120-520 KB and 55-170 ms to load
// (docs/destinations/redis.md has the measurements).
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export type RespReply = string | number | null | Buffer | RespReply[] | RespError;

/** An error reply from the server (`-ERR ...`, `-WRONGPASS ...`): the command failed, the connection is fine. */
export class RespError extends Error {
  override readonly name = 'RespError';
  /** The first word, e.g. WRONGPASS, NOPERM, NOAUTH, OOM. */
  readonly code: string;
  constructor(message: string) {
    super(message);
    this.code = message.split(' ', 1)[0] ?? 'ERR';
  }
}

/** The socket failed or closed: commands in flight are lost and may or may not have run. */
export class RespConnectionError extends Error {
  override readonly name = 'RespConnectionError';
  readonly code: string | undefined;
  constructor(message: string, code?: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export interface RespConnectOptions {
  host: string;
  port: number;
  /** TLS (rediss://), with an optional CA for a private one. */
  tls?: false | { ca?: string; servername?: string };
  timeoutMs: number;
}

const CRLF = Buffer.from('\r\n');

/** One argument list as a RESP array of bulk strings. */
export function encodeCommand(args: ReadonlyArray<string | Uint8Array>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b =
      typeof a === 'string' ? Buffer.from(a, 'utf8') : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF);
  }
  return Buffer.concat(parts);
}

/**
 * Parses one reply from `buf` at `pos`; returns it with the position after it, or undefined when the
 * buffer does not hold a whole reply yet. Bulk strings stay Buffers (stream data is binary).
 */
export function parseReply(buf: Buffer, pos: number): { reply: RespReply; next: number } | undefined {
  const eol = buf.indexOf(CRLF, pos);
  if (eol < 0) return undefined;
  const type = String.fromCharCode(buf[pos] as number);
  const line = buf.toString('utf8', pos + 1, eol);
  const after = eol + 2;
  switch (type) {
    case '+':
      return { reply: line, next: after };
    case '-':
      return { reply: new RespError(line), next: after };
    case ':':
      return { reply: Number(line), next: after };
    case '$': {
      const len = Number(line);
      if (len < 0) return { reply: null, next: after };
      if (buf.length < after + len + 2) return undefined;
      return { reply: buf.subarray(after, after + len), next: after + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { reply: null, next: after };
      const items: RespReply[] = [];
      let at = after;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, at);
        if (!item) return undefined;
        items.push(item.reply);
        at = item.next;
      }
      return { reply: items, next: at };
    }
    default:
      throw new RespConnectionError(`redis: unexpected reply type ${JSON.stringify(type)}`);
  }
}

/** One connection. Every method is bounded by the caller (the destination races it with the budget). */
export class RespConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiting: Array<{ resolve: (r: RespReply) => void; reject: (e: Error) => void }> = [];
  private failure: RespConnectionError | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.fail(new RespConnectionError(`redis: ${err.message}`, err.code, { cause: err })),
    );
    socket.on('close', () =>
      this.fail(new RespConnectionError('redis: the connection closed', 'ECONNRESET')),
    );
  }

  static connect(opts: RespConnectOptions): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const socket = opts.tls
        ? tlsConnect({
            host: opts.host,
            port: opts.port,
            servername: opts.tls.servername ?? opts.host,
            ...(opts.tls.ca !== undefined && { ca: opts.tls.ca }),
          })
        : netConnect({ host: opts.host, port: opts.port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new RespConnectionError(
            `redis: no connection to ${opts.host}:${opts.port} within ${opts.timeoutMs} ms`,
            'ETIMEDOUT',
          ),
        );
      }, opts.timeoutMs);
      const onError = (err: NodeJS.ErrnoException): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(new RespConnectionError(`redis: ${err.message}`, err.code, { cause: err }));
      };
      socket.once('error', onError);
      socket.once(opts.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new RespConnection(socket));
      });
    });
  }

  get alive(): boolean {
    return this.failure === undefined && !this.socket.destroyed;
  }

  /** Sends commands in one write; resolves with their replies in order (error replies included). */
  pipeline(commands: ReadonlyArray<ReadonlyArray<string | Uint8Array>>): Promise<RespReply[]> {
    if (this.failure) return Promise.reject(this.failure);
    const replies = commands.map(
      () => new Promise<RespReply>((resolve, reject) => this.waiting.push({ resolve, reject })),
    );
    this.socket.write(Buffer.concat(commands.map(encodeCommand)));
    return Promise.all(replies);
  }

  async command(...args: Array<string | Uint8Array>): Promise<RespReply> {
    const [reply] = await this.pipeline([args]);
    if (reply instanceof RespError) throw reply;
    return reply as RespReply;
  }

  /** QUIT, then the socket is closed whatever the answer; bounded by `timeoutMs`. */
  async quit(timeoutMs: number): Promise<void> {
    if (!this.alive) return this.destroy();
    const timer = setTimeout(() => this.destroy(), timeoutMs);
    try {
      await this.pipeline([['QUIT']]);
    } catch {
      // Closed either way.
    } finally {
      clearTimeout(timer);
      this.destroy();
    }
  }

  destroy(): void {
    this.socket.destroy();
    this.fail(new RespConnectionError('redis: the connection was closed by the relay', 'ECONNRESET'));
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let pos = 0;
    for (;;) {
      let parsed: ReturnType<typeof parseReply>;
      try {
        parsed = parseReply(this.buffer, pos);
      } catch (err) {
        this.socket.destroy();
        this.fail(err as RespConnectionError);
        return;
      }
      if (!parsed) break;
      pos = parsed.next;
      this.waiting.shift()?.resolve(parsed.reply);
    }
    this.buffer = pos === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(pos);
  }

  private fail(err: RespConnectionError): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }
}
