// A seeded mutation fuzzer over valid requests made by the real OpenTelemetry JS SDK serializers.
// For every mutant, each signal's walk must either accept it (and then protobufjs must decode the
// same counts, and splitEntries must agree) or throw OtlpDecodeError: never another exception.
// Every iteration derives its own seed, printed on failure, so one failing case reproduces alone:
//   OTLP_FUZZ_SEED=<seed> OTLP_FUZZ_ITERATIONS=1 npx vitest run test/unit/otlp/fuzz.test.ts
import type protobuf from 'protobufjs/light.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeExportRequest, jsonToProtobufWithProtobufjs, lookupType } from '../../../src/otlp/codec.js';
import {
  encodeExportRequest,
  OtlpDecodeError,
  otlpJsonToProtobuf,
  SIGNALS,
  type Signal,
  splitEntries,
  validateAndSplit,
  validateExportRequest,
} from '../../../src/otlp/index.js';
import {
  ld,
  logsJson,
  logsProtobuf,
  makeLogs,
  makeMetrics,
  makeSpans,
  metricsJson,
  metricsProtobuf,
  traceJson,
  traceProtobuf,
  varint,
  withoutDefaults,
} from './sdk-fixtures.js';

const BASE_SEED = Number(process.env.OTLP_FUZZ_SEED ?? 0x5eed0711);
const ITERATIONS = Number(process.env.OTLP_FUZZ_ITERATIONS ?? 20_000);
const JSON_ITERATIONS = Math.min(ITERATIONS, 3_000);
/** A hang guard only, far above the usual 5-25 s on a shared 2-core machine; not a speed assertion. */
const FUZZ_TIMEOUT_MS = 300_000;

/** mulberry32: small, fast, and the same sequence on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REQUEST: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
};

type Obj = Record<string, unknown>;
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);
const points = (data: unknown): number => list((data as Obj | undefined)?.dataPoints).length;

/** Counts resources and items the way a protobufjs consumer sees them. */
function countDecoded(signal: Signal, msg: Obj): { resources: number; items: number } {
  if (signal === 'traces') {
    const rs = list(msg.resourceSpans);
    return {
      resources: rs.length,
      items: rs.reduce((n, r) => n + list(r.scopeSpans).reduce((m, s) => m + list(s.spans).length, 0), 0),
    };
  }
  if (signal === 'metrics') {
    const rm = list(msg.resourceMetrics);
    const items = rm.reduce(
      (n, r) =>
        n +
        list(r.scopeMetrics).reduce(
          (m, s) =>
            m +
            list(s.metrics).reduce(
              (k, x) =>
                k +
                points(x.gauge) +
                points(x.sum) +
                points(x.histogram) +
                points(x.exponentialHistogram) +
                points(x.summary),
              0,
            ),
          0,
        ),
      0,
    );
    return { resources: rm.length, items };
  }
  const rl = list(msg.resourceLogs);
  return {
    resources: rl.length,
    items: rl.reduce((n, r) => n + list(r.scopeLogs).reduce((m, s) => m + list(s.logRecords).length, 0), 0),
  };
}

/** Positions of every length varint, found by reading each length-delimited payload as a message when it parses as one. */
function lengthFields(buf: Uint8Array): { at: number; size: number }[] {
  const found: { at: number; size: number }[] = [];
  const scan = (start: number, end: number, depth: number): boolean => {
    let pos = start;
    const read = (): number | undefined => {
      let v = 0;
      for (let i = 0; i < 5; i++) {
        if (pos >= end) return undefined;
        const b = buf[pos++]!;
        v += (b & 0x7f) * 2 ** (7 * i);
        if (b < 0x80) return v;
      }
      return undefined;
    };
    while (pos < end) {
      const tag = read();
      if (tag === undefined || tag < 8) return false;
      const wire = tag & 7;
      if (wire === 0) {
        if (read() === undefined) return false;
      } else if (wire === 1 || wire === 5) {
        pos += wire === 1 ? 8 : 4;
        if (pos > end) return false;
      } else if (wire === 2) {
        const at = pos;
        const len = read();
        if (len === undefined || pos + len > end) return false;
        found.push({ at, size: pos - at });
        if (depth < 40) scan(pos, pos + len, depth + 1);
        pos += len;
      } else return false;
    }
    return true;
  };
  scan(0, buf.length, 0);
  return found;
}

function nestedArrayBomb(depth: number, kv: boolean): Uint8Array {
  let value: Uint8Array = ld(1, new TextEncoder().encode('leaf'));
  for (let i = 0; i < depth; i++) {
    value = kv ? ld(6, ld(1, Buffer.concat([ld(1, [0x6b]), ld(2, value)]))) : ld(5, ld(1, value));
  }
  return ld(1, ld(2, ld(2, ld(9, Buffer.concat([ld(1, [0x6b]), ld(2, value)])))));
}

type Mutator = (input: Uint8Array, random: () => number, corpus: Uint8Array[]) => Uint8Array;
const int = (random: () => number, n: number): number => Math.floor(random() * n);

const MUTATORS: Record<string, Mutator> = {
  bitFlips: (input, random) => {
    const out = Uint8Array.from(input);
    const flips = 1 + int(random, 8);
    for (let i = 0; i < flips && out.length > 0; i++) out[int(random, out.length)]! ^= 1 << int(random, 8);
    return out;
  },
  randomBytes: (input, random) => {
    const out = Uint8Array.from(input);
    const n = 1 + int(random, 4);
    for (let i = 0; i < n && out.length > 0; i++) out[int(random, out.length)] = int(random, 256);
    return out;
  },
  truncate: (input, random) => input.subarray(0, int(random, input.length + 1)),
  dropRange: (input, random) => {
    const a = int(random, input.length + 1);
    const b = Math.min(input.length, a + 1 + int(random, 16));
    return Buffer.concat([input.subarray(0, a), input.subarray(b)]);
  },
  insertRandom: (input, random) => {
    const at = int(random, input.length + 1);
    const junk = Uint8Array.from({ length: 1 + int(random, 12) }, () => int(random, 256));
    return Buffer.concat([input.subarray(0, at), junk, input.subarray(at)]);
  },
  corruptLength: (input, random) => {
    const fields = lengthFields(input);
    if (fields.length === 0) return input;
    const { at, size } = fields[int(random, fields.length)]!;
    let len = 0;
    for (let i = 0; i < size; i++) len += (input[at + i]! & 0x7f) * 2 ** (7 * i);
    const choices = [
      len + 1,
      len - 1,
      len + 1 + int(random, 64),
      Math.max(0, len - 1 - int(random, 64)),
      0,
      2 ** 32 - 1,
      2 ** 31,
      int(random, 2 ** 20),
    ];
    const next = Math.max(0, choices[int(random, choices.length)]!);
    return Buffer.concat([input.subarray(0, at), Uint8Array.from(varint(next)), input.subarray(at + size)]);
  },
  allRandom: (_input, random) => Uint8Array.from({ length: int(random, 200) }, () => int(random, 256)),
  splice: (input, random, corpus) => {
    const other = corpus[int(random, corpus.length)]!;
    const a = int(random, input.length + 1);
    const b = int(random, other.length + 1);
    return Buffer.concat([input.subarray(0, a), other.subarray(b, b + 1 + int(random, 256))]);
  },
  duplicateEntry: (input) => {
    try {
      const entries = splitEntries(input);
      return entries.length > 0 ? Buffer.concat([input, entries[0]!]) : input;
    } catch {
      return input;
    }
  },
  nestingBomb: (_input, random) => nestedArrayBomb(1 + int(random, 400), random() < 0.5),
};
const MUTATOR_NAMES = Object.keys(MUTATORS);

describe('fuzzing the wire walker', () => {
  const corpus: Uint8Array[] = [];
  const types = {} as Record<Signal, protobuf.Type>;

  beforeAll(async () => {
    for (const s of SIGNALS) types[s] = lookupType(REQUEST[s]);
    corpus.push(traceProtobuf(makeSpans(3)), traceProtobuf(makeSpans(12, 4)));
    corpus.push(metricsProtobuf(await makeMetrics(2)));
    corpus.push(logsProtobuf(makeLogs(6)));
    // The SDK makes no summaries: add one, with exemplars on a gauge point, through our encoder.
    corpus.push(
      encodeExportRequest('metrics', {
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'rt',
                    summary: {
                      dataPoints: [{ count: '3', sum: 1.5, quantileValues: [{ quantile: 0.5, value: 0.4 }] }],
                    },
                  },
                  {
                    name: 'g',
                    gauge: {
                      dataPoints: [
                        {
                          asInt: '5',
                          exemplars: [
                            {
                              asDouble: 1,
                              spanId: '0102030405060708',
                              traceId: '0102030405060708090a0b0c0d0e0f10',
                            },
                          ],
                        },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
  });

  it(
    `either accepts with the same counts as protobufjs or throws OtlpDecodeError, over ${ITERATIONS} mutants`,
    () => {
      const stats = { accepted: 0, rejected: 0 };
      for (let i = 0; i < ITERATIONS; i++) {
        const seed = (BASE_SEED + Math.imul(i, 0x9e3779b1)) >>> 0;
        const random = rng(seed);
        const source = corpus[int(random, corpus.length)]!;
        const name = MUTATOR_NAMES[int(random, MUTATOR_NAMES.length)]!;
        let mutant = MUTATORS[name]!(source, random, corpus);
        if (random() < 0.2)
          mutant = MUTATORS[MUTATOR_NAMES[int(random, MUTATOR_NAMES.length)]!]!(mutant, random, corpus);
        const where = `fuzz seed ${seed} (OTLP_FUZZ_SEED=${seed} OTLP_FUZZ_ITERATIONS=1), mutator ${name}, ${mutant.length} bytes`;
        for (const signal of SIGNALS) {
          let summary: ReturnType<typeof validateExportRequest>;
          try {
            summary = validateExportRequest(signal, mutant);
          } catch (err) {
            if (!(err instanceof OtlpDecodeError))
              throw new Error(`${where}: ${signal} walk threw ${String(err)}`, { cause: err });
            expect(err.offset, where).toBeGreaterThanOrEqual(0);
            expect(err.offset, where).toBeLessThanOrEqual(mutant.length);
            stats.rejected++;
            continue;
          }
          stats.accepted++;
          let decoded: Obj;
          try {
            decoded = types[signal].decode(mutant) as unknown as Obj;
          } catch (err) {
            throw new Error(`${where}: walk accepted ${signal} but protobufjs failed: ${String(err)}`, {
              cause: err,
            });
          }
          expect(countDecoded(signal, decoded), `${where} (${signal})`).toEqual({
            resources: summary.resources,
            items: summary.items,
          });
          const entries = splitEntries(mutant);
          expect(entries.length, where).toBe(summary.resources);
          const counted = entries.map((e) => validateExportRequest(signal, e).items);
          expect(
            counted.reduce((a, b) => a + b, 0),
            where,
          ).toBe(summary.items);
          const oneWalk = validateAndSplit(signal, mutant);
          expect(oneWalk.summary, where).toEqual(summary);
          expect(
            oneWalk.entries.map((e) => e.items),
            where,
          ).toEqual(counted);
        }
      }
      // Both outcomes must actually occur, or the fuzzer is not exercising anything.
      expect(stats.accepted).toBeGreaterThan(ITERATIONS / 10);
      expect(stats.rejected).toBeGreaterThan(ITERATIONS / 10);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    `either converts or throws OtlpDecodeError for ${JSON_ITERATIONS} mutated SDK OTLP/JSON documents`,
    async () => {
      const jsonCorpus: [Signal, string][] = [
        ['traces', Buffer.from(traceJson(makeSpans(4))).toString('utf8')],
        ['metrics', Buffer.from(metricsJson(await makeMetrics(2))).toString('utf8')],
        ['logs', Buffer.from(logsJson(makeLogs(4))).toString('utf8')],
      ];
      const alphabet = '{}[]":,0123456789abcdefAZ-. \\nulltruefalse';
      let converted = 0;
      let agreed = 0;
      for (let i = 0; i < JSON_ITERATIONS; i++) {
        const seed = (BASE_SEED ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0;
        const random = rng(seed);
        const [signal, text] = jsonCorpus[int(random, jsonCorpus.length)]!;
        const chars = [...text];
        const edits = 1 + int(random, 4);
        for (let e = 0; e < edits; e++) {
          const at = int(random, chars.length);
          const op = int(random, 3);
          if (op === 0) chars[at] = alphabet[int(random, alphabet.length)]!;
          else if (op === 1) chars.splice(at, 1 + int(random, 8));
          else chars.splice(at, 0, alphabet[int(random, alphabet.length)]!);
        }
        const mutant = chars.join('');
        let bytes: Uint8Array;
        try {
          bytes = otlpJsonToProtobuf(signal, mutant);
          validateExportRequest(signal, bytes);
          converted++;
        } catch (err) {
          if (!(err instanceof OtlpDecodeError)) {
            throw new Error(`json fuzz seed ${seed}: ${signal} conversion threw ${String(err)}`, {
              cause: err,
            });
          }
          continue;
        }
        // Differential check: when protobufjs's reference encoder also accepts it, the data must match.
        let reference: Uint8Array | undefined;
        try {
          reference = jsonToProtobufWithProtobufjs(signal, mutant);
        } catch {
          reference = undefined;
        }
        if (reference) {
          expect(withoutDefaults(decodeExportRequest(signal, bytes)), `json fuzz seed ${seed}`).toEqual(
            withoutDefaults(decodeExportRequest(signal, reference)),
          );
          agreed++;
        }
      }
      expect(converted).toBeGreaterThan(0);
      expect(agreed).toBeGreaterThan(0);
    },
    FUZZ_TIMEOUT_MS,
  );
});
