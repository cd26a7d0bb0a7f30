// The relay as a Lambda layer version built from the package's dist/layer (npm run build:layer).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, Code, type ILayerVersion, LayerVersion, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { packagedLayerDir } from '../../src/cli/package/index.js';

/** The runtimes whose image has the Node.js the extension runs on. */
export const RELAY_RUNTIMES = [Runtime.NODEJS_20_X, Runtime.NODEJS_22_X, Runtime.NODEJS_24_X];
export const RELAY_ARCHITECTURES = [Architecture.X86_64, Architecture.ARM_64];

/**
 * dist/layer of the lambda-otel-relay package (found from this module, not from the caller's working
 * directory): extensions/otel-relay (the launcher) and otel-relay/extension.js.
 */
export function defaultLayerPath(): string {
  return packagedLayerDir();
}

/** Left out of the asset: the launcher does not enable source maps, so in /opt they are unused bytes. */
export const LAYER_ASSET_EXCLUDE = ['*.map', '**/*.map'];

export interface OtelRelayLayerProps {
  /** A directory with the layer's contents. Default: dist/layer of this package. */
  path?: string;
  /** Default: lambda-otel-relay. */
  layerVersionName?: string;
  /** Old versions are kept by default: functions still running them would lose their extension. */
  removalPolicy?: RemovalPolicy;
}

export class OtelRelayLayer extends Construct {
  readonly layerVersion: ILayerVersion;

  constructor(scope: Construct, id: string, props: OtelRelayLayerProps = {}) {
    super(scope, id);
    const path = props.path ?? defaultLayerPath();
    if (!existsSync(join(path, 'extensions', 'otel-relay'))) {
      throw new Error(
        `OtelRelayLayer: ${path} has no extensions/otel-relay; build the layer first with \`npm run build:layer\``,
      );
    }
    this.layerVersion = new LayerVersion(this, 'Layer', {
      code: Code.fromAsset(path, { exclude: LAYER_ASSET_EXCLUDE }),
      layerVersionName: props.layerVersionName ?? 'lambda-otel-relay',
      description: 'lambda-otel-relay: OpenTelemetry relay extension (OTLP in, batched export, S3 fallback)',
      compatibleRuntimes: RELAY_RUNTIMES,
      compatibleArchitectures: RELAY_ARCHITECTURES,
      license: 'Apache-2.0',
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
