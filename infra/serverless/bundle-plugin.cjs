// A local Serverless Framework plugin (v3 API; osls 4 and serverless 3): before packaging, bundles
// the example handler and the relay middleware with esbuild into dist/serverless/, which the
// function's package patterns then take. It also checks that the layer zip exists, with a message
// that says how to build it. CommonJS because the framework require()s local plugins.
'use strict';

const { existsSync } = require('node:fs');
const { join } = require('node:path');

/** Bundles infra/example/handler.mjs into <outdir>/handler.mjs (ESM, Node 22). */
async function bundleExampleHandler(root, outdir) {
  const { build } = require('esbuild');
  await build({
    entryPoints: [join(root, 'infra/example/handler.mjs')],
    outfile: join(outdir, 'handler.mjs'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    mainFields: ['module', 'main'],
    // Bundled CommonJS dependencies call require(); ESM output needs one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}

/** The packaged plugin's fix for references to a retained layer (dist/ is built before packaging). */
function pointAtRetainedLayers(serverless) {
  require(join(serverless.serviceDir, 'dist/serverless/plugin.cjs')).pointAtRetainedLayers(serverless);
}

class OtelRelayBundlePlugin {
  constructor(serverless) {
    this.serverless = serverless;
    const bundle = () => this.bundle();
    this.hooks = {
      'before:package:createDeploymentArtifacts': bundle,
      'before:deploy:function:packageFunction': bundle,
      'before:package:compileFunctions': () => pointAtRetainedLayers(this.serverless),
    };
  }

  async bundle() {
    const root = this.serverless.serviceDir;
    const layerZip = join(root, 'dist/layer.zip');
    if (!existsSync(layerZip)) {
      throw new this.serverless.classes.Error(
        `${layerZip} does not exist: build the relay layer first with \`npm run build:layer\``,
      );
    }
    const started = Date.now();
    await bundleExampleHandler(root, join(root, 'dist/serverless/orders-api'));
    this.serverless.cli.log(`otel-relay: bundled the example handler in ${Date.now() - started} ms`);
  }
}

module.exports = OtelRelayBundlePlugin;
module.exports.bundleExampleHandler = bundleExampleHandler;
