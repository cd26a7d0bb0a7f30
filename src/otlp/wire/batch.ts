// Batches on the wire: concatenated encoded entries or requests are one valid request,
// so a batch is a list of byte ranges joined at send time, never a decode and re-encode.

/** Anything with a byte length: encoded entries, whole requests, or buffer records holding them. */
export interface Sized {
  readonly byteLength: number;
}

/**
 * Groups `parts` in order into batches of at most `maxBytes` bytes each, splitting only between
 * parts. A part larger than `maxBytes` on its own becomes a batch of its own (over the limit):
 * it cannot be split without decoding, so it is sent as is rather than dropped. Empty parts are
 * kept with their neighbours; an empty input gives no batches.
 *
 * @example
 *   for (const batch of batchBySize(splitEntries(body), 4 * 1024 * 1024)) send(joinRequests(batch));
 */
export function batchBySize<T extends Sized>(parts: readonly T[], maxBytes: number): T[][] {
  if (!(maxBytes > 0)) throw new RangeError(`batchBySize: maxBytes must be positive, got ${maxBytes}`);
  const batches: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const part of parts) {
    if (current.length > 0 && size + part.byteLength > maxBytes) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(part);
    size += part.byteLength;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Concatenates encoded entries or requests into one encoded request (one copy). */
export function joinRequests(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let total = 0;
  for (const p of parts) total += p.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
