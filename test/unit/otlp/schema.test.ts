import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type protobuf from 'protobufjs/light.js';
import { describe, expect, it } from 'vitest';
import { lookupType } from '../../../src/otlp/codec.js';
import { OTLP_DESCRIPTOR_JSON } from '../../../src/otlp/proto/otlp-descriptor.js';
import { FIELD_DEFS, Kind, REQUEST_TYPES } from '../../../src/otlp/wire/schema.js';

const VARINT = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool']);
const I64 = new Set(['fixed64', 'sfixed64', 'double']);
const I32 = new Set(['fixed32', 'sfixed32', 'float']);

function expectedKind(field: protobuf.Field): { kind: number; nested?: string } {
  const resolved = field.resolve().resolvedType;
  if (resolved && 'fields' in resolved) return { kind: Kind.Message, nested: resolved.fullName.slice(1) };
  const isEnum = resolved !== null;
  if (field.type === 'string') return { kind: Kind.String };
  if (field.type === 'bytes' && /^trace_?id$/i.test(field.name)) return { kind: Kind.TraceId };
  if (field.type === 'bytes' && /^(parent_?)?span_?id$/i.test(field.name)) return { kind: Kind.SpanId };
  if (field.type === 'bytes') return { kind: Kind.Bytes };
  if (VARINT.has(field.type) || isEnum) return { kind: field.repeated ? Kind.PackedVarint : Kind.Varint };
  if (I64.has(field.type)) return { kind: field.repeated ? Kind.PackedI64 : Kind.I64 };
  if (I32.has(field.type)) return { kind: Kind.I32 };
  throw new Error(`unexpected field type ${field.type}`);
}

describe('walker schema', () => {
  it('matches the checked-in .proto descriptor field by field', () => {
    for (const [name, fields] of Object.entries(FIELD_DEFS)) {
      const type = lookupType(name);
      const reflected = type.fieldsArray.map((f) => {
        const { kind, nested } = expectedKind(f);
        return [f.id, f.protoName ?? f.name, kind, nested];
      });
      const ours = fields.map(([id, fname, kind, nested]) => [id, fname, kind, nested]);
      const byId = (a: unknown[], b: unknown[]): number => (a[0] as number) - (b[0] as number);
      expect(ours.sort(byId), name).toEqual(reflected.sort(byId));
    }
  });

  it('covers every message reachable from the three export requests', () => {
    const seen = new Set<string>();
    const visit = (type: protobuf.Type): void => {
      const name = type.fullName.slice(1);
      if (seen.has(name)) return;
      seen.add(name);
      for (const f of type.fieldsArray) {
        const t = f.resolve().resolvedType;
        if (t && 'fields' in t) visit(t as protobuf.Type);
      }
    };
    for (const name of Object.values(REQUEST_TYPES)) visit(lookupType(name));
    expect([...seen].sort()).toEqual(Object.keys(FIELD_DEFS).sort());
  });
});

describe('generated descriptors', () => {
  it('are up to date with the .proto files (run src/otlp/proto/generate.mjs after editing them)', () => {
    // Throws (exit 1, naming the stale file) when either generated file differs from a fresh run.
    execFileSync(process.execPath, ['src/otlp/proto/generate.mjs', '--check'], { stdio: 'pipe' });
    const before = readFileSync('src/otlp/proto/otlp.json', 'utf8');
    expect(JSON.parse(OTLP_DESCRIPTOR_JSON)).toEqual(JSON.parse(before));
  });
});
