#!/usr/bin/env node
// Regenerates otlp.json, the protobufjs reflection descriptor the lazy codec loads, from the .proto
// files beside this script: `node src/otlp/proto/generate.mjs`. Run it after editing any .proto;
// test/unit/otlp/schema.test.ts fails when the two disagree.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const here = dirname(fileURLToPath(import.meta.url));
const files = [
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'google/rpc/status.proto',
];

const root = new protobuf.Root();
// Imports resolve against this folder; google/protobuf/* come from protobufjs's bundled copies.
root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : join(here, target));
root.loadSync(files, { keepCase: false });
root.resolveAll();

const out = join(here, 'otlp.json');
writeFileSync(out, `${JSON.stringify(root.toJSON({ keepComments: false }), null, 1)}\n`);
console.log(`wrote ${out}`);
