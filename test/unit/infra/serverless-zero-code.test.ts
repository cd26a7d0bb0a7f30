// The Serverless plugin's zeroCode option, run through the plugin's own initialize hook on a service
// configuration as the framework hands it over.
import { describe, expect, it } from 'vitest';
import OtelRelayServerlessPlugin from '../../../infra/serverless/plugin.js';

function service(environment: Record<string, string> = {}) {
  return {
    service: {
      custom: {
        otelRelay: {
          endpoint: 'https://otlp.example.com:4318',
          layerArn: 'arn:aws:lambda:eu-west-1:123456789012:layer:lambda-otel-relay:3',
          zeroCode: true,
        },
      },
      provider: { runtime: 'nodejs22.x', compiledCloudFormationTemplate: { Resources: {} } },
      functions: { api: { environment } as { environment: Record<string, unknown> } },
    },
    classes: { Error },
  };
}

describe('serverless plugin zeroCode', () => {
  it('sets AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-relay-handler on the functions it equips', () => {
    const sls = service({ TABLE: 'orders' });
    new OtelRelayServerlessPlugin(sls as never).hooks.initialize?.();
    expect(sls.service.functions.api.environment).toMatchObject({
      TABLE: 'orders',
      AWS_LAMBDA_EXEC_WRAPPER: '/opt/otel-relay-handler',
    });
  });

  it('refuses a function that has another wrapper', () => {
    const sls = service({ AWS_LAMBDA_EXEC_WRAPPER: '/opt/otel-handler' });
    expect(() => new OtelRelayServerlessPlugin(sls as never).hooks.initialize?.()).toThrow(
      /already has AWS_LAMBDA_EXEC_WRAPPER=\/opt\/otel-handler/,
    );
  });
});
