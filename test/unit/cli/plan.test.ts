import { describe, expect, it } from 'vitest';
import {
  describeChanges,
  type FunctionState,
  planAttach,
  planDetach,
  RefusedError,
} from '../../../src/cli/lambda/plan.js';

const RELAY = (v: number) => `arn:aws:lambda:us-east-1:111111111111:layer:lambda-otel-relay:${v}`;
const OTHER = (name: string) => `arn:aws:lambda:us-east-1:222222222222:layer:${name}:3`;

function fn(overrides: Partial<FunctionState> = {}): FunctionState {
  return {
    name: 'orders',
    arn: 'arn:aws:lambda:us-east-1:333333333333:function:orders',
    region: 'us-east-1',
    runtime: 'nodejs22.x',
    packageType: 'Zip',
    layers: [],
    environment: { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c.example:4318' },
    revisionId: 'r1',
    lastUpdateStatus: 'Successful',
    ...overrides,
  };
}

describe('planAttach', () => {
  it('appends the relay after the existing layers when the function has none of it', () => {
    const plan = planAttach(fn({ layers: [OTHER('a'), OTHER('b')] }), RELAY(4), {});
    expect(plan.layers).toEqual([OTHER('a'), OTHER('b'), RELAY(4)]);
    expect(plan.changes).toEqual([{ kind: 'layer-add', to: RELAY(4) }]);
  });

  it('replaces an older version where it stands so the order of the others is kept', () => {
    const plan = planAttach(fn({ layers: [OTHER('a'), RELAY(2), OTHER('b')] }), RELAY(4), {});
    expect(plan.layers).toEqual([OTHER('a'), RELAY(4), OTHER('b')]);
    expect(plan.changes).toEqual([{ kind: 'layer-upgrade', from: RELAY(2), to: RELAY(4) }]);
  });

  it('treats a layer of the same name from another account as the relay, so only one extension runs', () => {
    const foreign = 'arn:aws:lambda:us-east-1:999999999999:layer:lambda-otel-relay:9';
    const plan = planAttach(fn({ layers: [foreign, OTHER('a'), RELAY(1)] }), RELAY(4), {});
    expect(plan.layers).toEqual([RELAY(4), OTHER('a')]);
    expect(plan.changes).toEqual([
      { kind: 'layer-upgrade', from: foreign, to: RELAY(4) },
      { kind: 'layer-remove', from: RELAY(1) },
    ]);
  });

  it('plans no change when the version and settings are already there', () => {
    const current = fn({
      layers: [RELAY(4)],
      environment: { OTEL_RELAY_FLUSH: 'end', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318' },
    });
    const plan = planAttach(current, RELAY(4), { flush: 'end' });
    expect(plan.changes).toEqual([]);
    expect(plan.layers).toEqual([RELAY(4)]);
  });

  it('refuses when the relay would be a sixth layer', () => {
    const layers = ['a', 'b', 'c', 'd', 'e'].map(OTHER);
    expect(() => planAttach(fn({ layers }), RELAY(4), {})).toThrow(
      /already has 5 layers; adding the relay would make 6 and Lambda allows 5/,
    );
  });

  it('upgrades in place on a function that already has 5 layers, one of them the relay', () => {
    const layers = [OTHER('a'), OTHER('b'), RELAY(1), OTHER('c'), OTHER('d')];
    const plan = planAttach(fn({ layers }), RELAY(4), {});
    expect(plan.layers).toEqual([OTHER('a'), OTHER('b'), RELAY(4), OTHER('c'), OTHER('d')]);
  });

  it('refuses container-image functions and non-Node.js runtimes unless allowed', () => {
    expect(() => planAttach(fn({ packageType: 'Image', runtime: undefined }), RELAY(4), {})).toThrow(
      RefusedError,
    );
    expect(() => planAttach(fn({ runtime: 'python3.12' }), RELAY(4), {})).toThrow(
      /runs python3.12.*--any-runtime/,
    );
    expect(planAttach(fn({ runtime: 'provided.al2023' }), RELAY(4), {}, { anyRuntime: true }).layers).toEqual(
      [RELAY(4)],
    );
  });

  it('refuses a layer from another region', () => {
    const west = 'arn:aws:lambda:us-west-2:111111111111:layer:lambda-otel-relay:4';
    expect(() => planAttach(fn(), west, {})).toThrow(/is in us-west-2 but orders is in us-east-1/);
  });

  it('merges settings into the environment and keeps the user variables', () => {
    const plan = planAttach(fn({ environment: { TABLE: 'orders', OTEL_RELAY_FLUSH: 'end' } }), RELAY(4), {
      endpoint: 'https://c:4318',
      flush: 'adaptive',
      fallbackS3Uri: 's3://b/p/',
    });
    expect(plan.environment).toEqual({
      TABLE: 'orders',
      OTEL_RELAY_FLUSH: 'adaptive',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318',
      OTEL_RELAY_FALLBACK_S3_URI: 's3://b/p/',
      // The flush value attach replaced, for detach to put back.
      OTEL_RELAY_ATTACH_PREVIOUS: '{"OTEL_RELAY_FLUSH":"end"}',
    });
  });

  it('retires inline headers when a headers secret is set, and the other way round', () => {
    const secret = 'arn:aws:secretsmanager:us-east-1:333333333333:secret:otlp-headers-AbCdEf';
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4318' };
    const attached = (env: Record<string, string>) =>
      fn({ layers: [RELAY(4)], environment: { ...endpoint, ...env } });
    const toSecret = planAttach(attached({ OTEL_EXPORTER_OTLP_HEADERS: 'k=v' }), RELAY(4), {
      headersSecretArn: secret,
    });
    expect(toSecret.environment).toEqual({ ...endpoint, OTEL_RELAY_HEADERS_SECRET_ARN: secret });
    const toInline = planAttach(attached({ OTEL_RELAY_HEADERS_SECRET_ARN: secret }), RELAY(4), {
      headers: 'k=v',
    });
    expect(toInline.environment).toEqual({ ...endpoint, OTEL_EXPORTER_OTLP_HEADERS: 'k=v' });
  });
});

describe('planDetach', () => {
  it('removes every relay layer and relay variable and keeps everything else in order', () => {
    const current = fn({
      layers: [OTHER('a'), RELAY(2), OTHER('b')],
      environment: {
        TABLE: 't',
        OTEL_RELAY_FLUSH: 'end',
        OTEL_RELAY_HTTP_PORT: '4400',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'x',
      },
    });
    const plan = planDetach(current, { name: 'lambda-otel-relay' });
    expect(plan.layers).toEqual([OTHER('a'), OTHER('b')]);
    expect(plan.environment).toEqual({ TABLE: 't' });
  });

  it('plans nothing for a function without the relay', () => {
    const plan = planDetach(fn({ layers: [OTHER('a')], environment: { TABLE: 't' } }), {
      name: 'lambda-otel-relay',
    });
    expect(plan.changes).toEqual([]);
  });
});

describe('describeChanges', () => {
  it('prints one line per change and never a header value', () => {
    const lines = describeChanges([
      { kind: 'layer-add', to: RELAY(4) },
      { kind: 'env-set', name: 'OTEL_EXPORTER_OTLP_HEADERS', from: 'k=old', to: 'k=new' },
      { kind: 'env-set', name: 'OTEL_RELAY_FLUSH', from: undefined, to: 'end' },
      { kind: 'env-remove', name: 'OTEL_EXPORTER_OTLP_HEADERS', from: 'k=old' },
    ]);
    expect(lines).toEqual([
      `+ layer ${RELAY(4)}`,
      '~ env OTEL_EXPORTER_OTLP_HEADERS=<redacted> -> <redacted>',
      '+ env OTEL_RELAY_FLUSH=end',
      '- env OTEL_EXPORTER_OTLP_HEADERS=<redacted>',
    ]);
  });
});

describe('safe by default', () => {
  const ADOT = 'arn:aws:lambda:us-east-1:901920570463:layer:aws-otel-nodejs-arm64-ver-1-30-1:1';

  it('refuses an attach that leaves the function without an endpoint, with the flag that fixes it', () => {
    const bare = fn({ environment: {} });
    expect(() => planAttach(bare, RELAY(4), { flush: 'end' })).toThrow(
      /orders would have no endpoint to export to .*pass --endpoint https:\/\/your-collector:4318\. Nothing was changed/,
    );
    expect(planAttach(bare, RELAY(4), { endpoint: 'https://c:4318' }).changes).toHaveLength(2);
    // A destination's own endpoint is somewhere to send too.
    const zipkin = fn({ environment: { OTEL_RELAY_ZIPKIN_ENDPOINT: 'http://z:9411' } });
    expect(planAttach(zipkin, RELAY(4), {}).changes).toEqual([{ kind: 'layer-add', to: RELAY(4) }]);
  });

  it.each(['nodejs16.x', 'nodejs18.x'])('refuses %s with the runtime update that fixes it', (runtime) => {
    expect(() => planAttach(fn({ runtime }), RELAY(4), {})).toThrow(
      new RegExp(
        `orders runs ${runtime.replace('.', '\\.')}, older than the Node.js 20 .*--runtime nodejs22\\.x\\), then attach`,
      ),
    );
  });

  it('records what attach replaced and detach puts it back (an ADOT-instrumented function)', () => {
    const adot = fn({
      layers: [ADOT],
      environment: {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-key=adot',
        AWS_LAMBDA_EXEC_WRAPPER: '/opt/otel-handler',
      },
    });
    const attached = planAttach(adot, RELAY(4), { endpoint: 'https://c:4318', headers: 'x-key=relay' });
    const afterAttach = fn({ layers: attached.layers, environment: attached.environment });
    // Attaching again records nothing new: the current values are the relay's own.
    expect(
      planAttach(afterAttach, RELAY(4), { endpoint: 'https://c:4318', headers: 'x-key=relay' }).changes,
    ).toEqual([]);

    const detached = planDetach(afterAttach, { name: 'lambda-otel-relay' });

    expect(detached.layers).toEqual([ADOT]);
    expect(detached.environment).toEqual(adot.environment);
  });

  it('leaves a function without the relay layer alone, whatever OTEL_* variables it has', () => {
    const adot = fn({
      layers: [ADOT],
      environment: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318', OTEL_RELAY_FLUSH: 'end' },
    });
    const plan = planDetach(adot, { name: 'lambda-otel-relay' });
    expect(plan.changes).toEqual([]);
    expect(plan.skip).toMatch(/does not carry the relay layer \(lambda-otel-relay\); left alone/);
  });

  it('redacts credentials inside endpoint URLs in the diff', () => {
    const plan = planAttach(fn({ environment: {} }), RELAY(4), {
      endpoint: 'https://user:hunter2@c.example:4318/?api_key=abc123',
    });
    const lines = describeChanges(plan.changes).join('\n');
    expect(lines).toContain('+ env OTEL_EXPORTER_OTLP_ENDPOINT=https://***@c.example:4318/');
    expect(lines).not.toMatch(/hunter2|abc123/);
  });
});
