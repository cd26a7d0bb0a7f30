// prometheus.WriteRequest (remote write 1.0) in protobuf, written by hand: field 1 repeated
// TimeSeries { 1: repeated Label { 1: name, 2: value }, 2: repeated Sample { 1: double value,
// 2: int64 timestamp (ms) } }.
import { ProtoWriter } from '../../telemetry/protobuf-writer.js';
import type { TimeSeries } from './series.js';

export function encodeWriteRequest(series: readonly TimeSeries[]): Uint8Array {
  const w = new ProtoWriter();
  for (const s of series) {
    w.message(1, (ts) => {
      for (const [name, value] of s.labels) ts.message(1, (l) => l.string(1, name).string(2, value));
      for (const sample of s.samples)
        ts.message(2, (x) => {
          x.double(1, sample.value);
          x.uint(2, BigInt(sample.timestampMs));
        });
    });
  }
  return w.finish();
}
