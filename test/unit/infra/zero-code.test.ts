// OtelRelay zeroCode: the CDK construct sets the zero-code exec wrapper and refuses another one.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { OtelRelay } from '../../../infra/index.js';

let layerPath: string;
beforeAll(() => {
  layerPath = join(mkdtempSync(join(tmpdir(), 'relay-layer-')), 'layer');
  mkdirSync(join(layerPath, 'extensions'), { recursive: true });
  mkdirSync(join(layerPath, 'otel-relay'), { recursive: true });
  writeFileSync(join(layerPath, 'extensions/otel-relay'), '#!/bin/sh\n');
  chmodSync(join(layerPath, 'extensions/otel-relay'), 0o755);
  writeFileSync(join(layerPath, 'otel-relay/extension.js'), '');
});

function stackWith(environment: Record<string, string>) {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const fn = new LambdaFunction(stack, 'Fn', {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => 1;'),
    environment,
  });
  return { stack, fn };
}

describe('OtelRelay zeroCode', () => {
  it('sets AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-relay-handler next to the function’s own variables', () => {
    const { stack, fn } = stackWith({ TABLE: 'orders' });
    new OtelRelay(stack, 'Relay', { layerPath, zeroCode: true, fallback: false }).addTo(fn);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ TABLE: 'orders', AWS_LAMBDA_EXEC_WRAPPER: '/opt/otel-relay-handler' }),
      },
    });
  });

  it('refuses a function that already has another wrapper', () => {
    const { stack, fn } = stackWith({ AWS_LAMBDA_EXEC_WRAPPER: '/opt/otel-handler' });
    const relay = new OtelRelay(stack, 'Relay', { layerPath, fallback: false });
    expect(() => relay.addTo(fn, { zeroCode: true })).toThrow(
      /already has AWS_LAMBDA_EXEC_WRAPPER=\/opt\/otel-handler/,
    );
  });
});
