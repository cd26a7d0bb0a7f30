// attach --zero-code: sets the exec wrapper, refuses a function that has another one, and detach
// takes back only its own value.
import { describe, expect, it } from 'vitest';
import { type FunctionState, planAttach, planDetach, RefusedError } from '../../../src/cli/lambda/plan.js';

const RELAY = 'arn:aws:lambda:us-east-1:111111111111:layer:lambda-otel-relay:4';

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

describe('attach --zero-code', () => {
  it('sets AWS_LAMBDA_EXEC_WRAPPER and detach removes it again', () => {
    const attached = planAttach(fn(), RELAY, {}, { zeroCode: true });
    expect(attached.environment.AWS_LAMBDA_EXEC_WRAPPER).toBe('/opt/otel-relay-handler');
    expect(attached.changes).toContainEqual({
      kind: 'env-set',
      name: 'AWS_LAMBDA_EXEC_WRAPPER',
      from: undefined,
      to: '/opt/otel-relay-handler',
    });
    const detached = planDetach(fn({ layers: attached.layers, environment: attached.environment }), {
      layerArn: 'arn:aws:lambda:us-east-1:111111111111:layer:lambda-otel-relay',
      name: 'lambda-otel-relay',
    });
    expect(detached.environment).not.toHaveProperty('AWS_LAMBDA_EXEC_WRAPPER');
    expect(detached.changes).toContainEqual({
      kind: 'env-remove',
      name: 'AWS_LAMBDA_EXEC_WRAPPER',
      from: '/opt/otel-relay-handler',
    });
  });

  it('refuses a function that already has another wrapper, and changes nothing', () => {
    const other = fn({ environment: { ...fn().environment, AWS_LAMBDA_EXEC_WRAPPER: '/opt/otel-handler' } });
    expect(() => planAttach(other, RELAY, {}, { zeroCode: true })).toThrow(RefusedError);
    expect(() => planAttach(other, RELAY, {}, { zeroCode: true })).toThrow(
      /already has AWS_LAMBDA_EXEC_WRAPPER=\/opt\/otel-handler/,
    );
    // Without the switch the other wrapper is not ours to touch, on attach or on detach.
    const plain = planAttach(other, RELAY, {});
    expect(plain.environment.AWS_LAMBDA_EXEC_WRAPPER).toBe('/opt/otel-handler');
    const detached = planDetach(fn({ layers: plain.layers, environment: plain.environment }), {
      name: 'lambda-otel-relay',
    });
    expect(detached.environment.AWS_LAMBDA_EXEC_WRAPPER).toBe('/opt/otel-handler');
  });
});
