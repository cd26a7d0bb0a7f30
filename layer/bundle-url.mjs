// Injected into CommonJS bundles that look up the package's own files: what import.meta.url is
// in the ESM build.
export const __bundleUrl = require('node:url').pathToFileURL(__filename).href;
