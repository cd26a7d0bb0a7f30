// The example stack: one Node.js function (infra/example/handler.mjs, bundled with esbuild) with the
// relay attached by OtelRelay: layer, environment, fallback bucket, grants.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { type FlushStrategy, OtelRelay } from '../index.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');

export interface ExampleStackProps extends StackProps {
  /** Your collector's OTLP/HTTP endpoint. */
  otlpEndpoint: string;
  /** A Secrets Manager secret holding the OTLP headers (`k=v,...` or a JSON object), if your collector needs them. */
  otlpHeadersSecretArn?: string | undefined;
  flush?: FlushStrategy | undefined;
  /** The layer directory; default dist/layer. */
  relayLayerPath?: string | undefined;
}

export class ExampleStack extends Stack {
  constructor(scope: Construct, id: string, props: ExampleStackProps) {
    super(scope, id, props);

    const relay = new OtelRelay(this, 'Relay', {
      endpoint: props.otlpEndpoint,
      headersSecret: props.otlpHeadersSecretArn
        ? Secret.fromSecretCompleteArn(this, 'OtlpHeaders', props.otlpHeadersSecretArn)
        : undefined,
      flush: props.flush,
      layerPath: props.relayLayerPath,
    });

    const ordersApi = new NodejsFunction(this, 'OrdersApi', {
      entry: join(here, 'handler.mjs'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(10),
      projectRoot: repoRoot,
      depsLockFilePath: join(repoRoot, 'package-lock.json'),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        // Bundled CommonJS dependencies call require(); ESM output needs one.
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        minify: true,
      },
    });
    relay.addTo(ordersApi);

    new CfnOutput(this, 'FunctionName', { value: ordersApi.functionName });
    new CfnOutput(this, 'RelayLayerArn', { value: relay.layer.layerVersionArn });
    if (relay.fallbackBucket)
      new CfnOutput(this, 'FallbackBucket', { value: relay.fallbackBucket.bucketName });
  }
}
