// Random ids (trace/span ids, file and object name suffixes). node:crypto costs ~1 ms of CPU and
// ~0.5 MB to load, and nothing before the first `next` needs it, so it is loaded on first use.
export function randomBytes(size: number): Buffer {
  return process.getBuiltinModule('node:crypto').randomBytes(size);
}
