// Entry of the extension process in the layer (/opt/otel-relay/start.js). It runs extension.js
// through vm.Script with the V8 code cache that the layer build made for this V8 version, so the
// bundle is not parsed and compiled again on every cold start. A cache made by another V8 version,
// with other flags, or damaged, is rejected by V8 itself (cachedDataRejected) and the bundle is
// compiled as usual; a missing cache file is the same as no cache. V8 does not check the payload
// itself (a damaged one aborts the process), so the file starts with a CRC-32 of it, checked here.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { Script } = require('node:vm');
const { crc32 } = require('node:zlib');

const file = join(__dirname, 'extension.js');
const cacheFile = join(__dirname, `extension.js.v8-${process.versions.v8}.cache`);
let cachedData;
let damaged = false;
try {
  const framed = readFileSync(cacheFile);
  cachedData = framed.subarray(4);
  damaged = framed.length < 4 || framed.readUInt32BE(0) !== crc32(cachedData);
  if (damaged) cachedData = undefined;
} catch {}
// The same wrapper as Node's own CommonJS loader, so the bundle sees the usual module scope.
const script = new Script(
  `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`,
  { filename: file, cachedData },
);
// Build and tests only (layer/code-cache.mjs): `write` writes the cache when the process ends, so it
// holds every function compiled on the way (startup, an invocation, shutdown); `check` says whether
// V8 took the cache and exits.
const mode = process.env.OTEL_RELAY_CODE_CACHE;
if (mode === 'write') {
  process.on('exit', () => {
    const data = script.createCachedData();
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(data));
    writeFileSync(cacheFile, Buffer.concat([crc, data]));
  });
}
if (mode === 'check') {
  const state = damaged
    ? 'damaged'
    : cachedData === undefined
      ? 'absent'
      : script.cachedDataRejected
        ? 'rejected'
        : 'accepted';
  process.stdout.write(`${state}\n`);
} else {
  const module_ = { exports: {} };
  script.runInThisContext().call(module_.exports, module_.exports, require, module_, file, __dirname);
}
