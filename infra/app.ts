// The example CDK app: `cd infra && npx aws-cdk synth -c otlpEndpoint=https://otlp.example.com:4318`
// (cdk.json runs this file with tsx). Build the layer and the middleware first: `npm run build:layer`.
import { App } from 'aws-cdk-lib';
import { ExampleStack } from './example/stack.js';
import type { FlushStrategy } from './index.js';

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value !== '' ? value : undefined;
};

new ExampleStack(app, 'OtelRelayExample', {
  otlpEndpoint: context('otlpEndpoint') ?? 'https://otlp.example.com:4318',
  otlpHeadersSecretArn: context('otlpHeadersSecretArn'),
  flush: context('flush') as FlushStrategy | undefined,
  relayLayerPath: context('relayLayerPath'),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

app.synth();
