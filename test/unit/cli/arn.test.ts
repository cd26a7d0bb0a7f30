import { describe, expect, it } from 'vitest';
import { functionQualifier, parseFunctionArn, parseLayerVersionArn } from '../../../src/cli/lambda/arn.js';

describe('Lambda ARNs', () => {
  it('splits a layer version ARN into the layer and its version', () => {
    expect(parseLayerVersionArn('arn:aws:lambda:eu-west-1:123456789012:layer:lambda-otel-relay:12')).toEqual({
      arn: 'arn:aws:lambda:eu-west-1:123456789012:layer:lambda-otel-relay:12',
      layerArn: 'arn:aws:lambda:eu-west-1:123456789012:layer:lambda-otel-relay',
      region: 'eu-west-1',
      account: '123456789012',
      name: 'lambda-otel-relay',
      version: 12,
    });
    expect(
      parseLayerVersionArn('arn:aws:lambda:eu-west-1:123456789012:layer:lambda-otel-relay'),
    ).toBeUndefined();
  });

  it('reads region and qualifier from function ARNs and names', () => {
    expect(parseFunctionArn('arn:aws-cn:lambda:cn-north-1:123456789012:function:api')).toMatchObject({
      region: 'cn-north-1',
      name: 'api',
      qualifier: undefined,
    });
    expect(functionQualifier('arn:aws:lambda:us-east-1:123456789012:function:api:live')).toBe('live');
    expect(functionQualifier('api:7')).toBe('7');
    expect(functionQualifier('api')).toBeUndefined();
  });
});
