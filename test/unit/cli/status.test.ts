import { describe, expect, it } from 'vitest';
import { describeFunction, renderTable } from '../../../src/cli/commands/status.js';
import type { FunctionState } from '../../../src/cli/lambda/plan.js';

const base: FunctionState = {
  name: 'api',
  arn: 'arn:aws:lambda:us-east-1:123456789012:function:api',
  region: 'us-east-1',
  runtime: 'nodejs22.x',
  packageType: 'Zip',
  layers: ['arn:aws:lambda:us-east-1:123456789012:layer:lambda-otel-relay:7'],
  environment: {
    OTEL_RELAY_HEADERS_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:h-AbCdEf',
  },
  revisionId: 'r',
  lastUpdateStatus: 'Successful',
};

describe('status rows', () => {
  it('reads the relay version from the layer ARN and says where headers come from', () => {
    expect(describeFunction(base, 'lambda-otel-relay')).toMatchObject({
      layerVersion: 7,
      headers: 'secret',
      flush: null,
    });
  });

  it('shows the default flush strategy for attached functions that set none, and aligns columns', () => {
    const rows = [
      describeFunction(base, 'lambda-otel-relay'),
      describeFunction(
        { ...base, name: 'a-much-longer-name', layers: [], environment: {} },
        'lambda-otel-relay',
      ),
    ];
    const lines = renderTable(rows);
    expect(lines[1]).toMatch(/^api\s+nodejs22\.x\s+v7\s+adaptive \(default\)\s+-\s+-\s+secret\s+Successful$/);
    expect(lines[2]).toMatch(/^a-much-longer-name\s+nodejs22\.x\s+-\s+-\s+/);
    expect(lines[1]!.indexOf('nodejs22.x')).toBe(lines[2]!.indexOf('nodejs22.x'));
  });
});
