// Whether a URL host is this machine, whatever its spelling: the relay must never export to its own
// receiver (each flush would feed the buffer it drains, doubling it).
import { isIPv4, isIPv6 } from 'node:net';

/** True for localhost names and loopback/unspecified addresses, IPv4-mapped IPv6 ones included. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIPv4(host)) return host.startsWith('127.') || host === '0.0.0.0';
  if (!isIPv6(host)) return false;
  if (host === '::1' || host === '::') return true;
  // ::ffff:127.0.0.1 (WHATWG URLs write it ::ffff:7f00:1): the IPv4 address inside.
  const mapped = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/.exec(host);
  if (!mapped) return false;
  if (mapped[1]) return isLoopbackHost(mapped[1]);
  const high = Number.parseInt(mapped[2] ?? '0', 16);
  return high >> 8 === 127 || (high === 0 && Number.parseInt(mapped[3] ?? '0', 16) === 0);
}

/** `dns.lookup` with every address, as the resolving check calls it (injectable for tests). */
export type LookupAll = (hostname: string) => Promise<readonly { address: string }[]>;

const lookupAll: LookupAll = (hostname) =>
  process.getBuiltinModule('node:dns').promises.lookup(hostname, { all: true, verbatim: true });

/**
 * Whether `hostname` resolves to this machine: any of its addresses loopback or unspecified. A name
 * that does not answer within `timeoutMs` (or does not resolve) counts as not this machine: the
 * check must never hold up startup, and an export to it fails on its own.
 */
export async function resolvesToLoopback(
  hostname: string,
  timeoutMs: number,
  lookup: LookupAll = lookupAll,
): Promise<boolean> {
  if (isLoopbackHost(hostname)) return true;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    const found = await Promise.race([lookup(hostname.replace(/^\[|\]$/g, '')).catch(() => undefined), late]);
    return (found ?? []).some((a) => isLoopbackHost(a.address));
  } finally {
    clearTimeout(timer);
  }
}
