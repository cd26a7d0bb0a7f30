// `lambda-otel-relay/serverless`: a Serverless Framework plugin (v3 API: osls, serverless 3) that adds
// the relay layer shipped in this package to Node.js functions, with its environment and the IAM
// statements it needs. Configured under `custom.otelRelay`:
//
//   plugins: [lambda-otel-relay/serverless]
//   custom:
//     otelRelay:
//       endpoint: https://otlp.example.com:4318      # required
//       flush: adaptive                             # optional
//       headersSecretArn: arn:aws:secretsmanager:…  # optional, granted GetSecretValue
//       fallbackS3Uri: s3://bucket/otel-relay/      # optional, granted s3:PutObject on the prefix
//       functions: [ordersApi]                      # optional; default every Node.js function
//       layerArn: arn:aws:lambda:…:layer:…:3        # optional; a published version instead of the zip
//       zeroCode: true                              # optional; AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-relay-handler
import { COMPATIBLE_ARCHITECTURES, COMPATIBLE_RUNTIMES } from '../../src/cli/lambda/layers.js';
import {
  RELAY_ENV,
  requiredStatements,
  validateEndpoint,
  validateFlush,
  validateS3Uri,
  validateSecretArn,
} from '../../src/cli/lambda/settings.js';
import { checkExecWrapper, EXEC_WRAPPER_ENV, ZERO_CODE_WRAPPER } from '../../src/cli/lambda/zero-code.js';
import { packagedLayerZip } from '../../src/cli/package/index.js';

/** The layer's key under `layers:`; the framework names its resource OtelRelayLambdaLayer. */
const LAYER_KEY = 'otelRelay';
const LAYER_REF = 'OtelRelayLambdaLayer';

interface RelayCustom {
  endpoint?: string;
  flush?: string;
  headersSecretArn?: string;
  fallbackS3Uri?: string;
  functions?: string[];
  layerArn?: string;
  zeroCode?: boolean;
}

interface FunctionConfig {
  runtime?: string;
  layers?: unknown[];
  environment?: Record<string, unknown>;
}

interface Serverless {
  service: {
    custom?: { otelRelay?: RelayCustom };
    provider: {
      runtime?: string;
      stage?: string;
      iam?: { role?: { statements?: unknown[] } | string };
      compiledCloudFormationTemplate: { Resources: Record<string, { Type: string }> };
    };
    layers?: Record<string, unknown>;
    functions?: Record<string, FunctionConfig>;
    getServiceName?(): string;
  };
  classes: { Error: new (message: string) => Error };
  cli?: { log(message: string): void };
}

/**
 * Points `{ Ref: <Name>LambdaLayer }` at a retained layer's compiled id: with `retain: true` the
 * framework appends a content hash to the id, and a plain Ref would name nothing.
 */
export function pointAtRetainedLayers(serverless: Serverless): void {
  const resources = serverless.service.provider.compiledCloudFormationTemplate.Resources;
  const ids = Object.keys(resources);
  for (const fn of Object.values(serverless.service.functions ?? {})) {
    if (!fn.layers) continue;
    fn.layers = fn.layers.map((layer) => {
      const ref = layer && typeof layer === 'object' ? (layer as { Ref?: unknown }).Ref : undefined;
      if (typeof ref !== 'string' || !ref.endsWith('LambdaLayer') || resources[ref]) return layer;
      const hashed = ids.find(
        (id) => id.startsWith(ref) && resources[id]?.Type === 'AWS::Lambda::LayerVersion',
      );
      return hashed ? { Ref: hashed } : layer;
    });
  }
}

class OtelRelayServerlessPlugin {
  readonly hooks: Record<string, () => void>;

  constructor(private readonly serverless: Serverless) {
    this.hooks = {
      initialize: () => this.addRelay(),
      'before:package:compileFunctions': () => pointAtRetainedLayers(this.serverless),
    };
  }

  private fail(message: string): never {
    throw new this.serverless.classes.Error(`lambda-otel-relay: ${message}`);
  }

  private addRelay(): void {
    const service = this.serverless.service;
    const custom = service.custom?.otelRelay;
    if (!custom?.endpoint) {
      this.fail(
        'custom.otelRelay.endpoint is not set; without it the relay exports to localhost, where nothing ' +
          'listens in Lambda. Set it to your collector, e.g. https://otlp.example.com:4318',
      );
    }
    const env: Record<string, string> = {};
    try {
      env[RELAY_ENV.endpoint] = validateEndpoint(custom.endpoint);
      if (custom.flush !== undefined) env[RELAY_ENV.flush] = validateFlush(custom.flush);
      if (custom.headersSecretArn !== undefined)
        env[RELAY_ENV.headersSecretArn] = validateSecretArn(custom.headersSecretArn);
      if (custom.fallbackS3Uri !== undefined)
        env[RELAY_ENV.fallbackS3Uri] = validateS3Uri(custom.fallbackS3Uri);
    } catch (err) {
      this.fail(`custom.otelRelay: ${(err as Error).message.replace(/^--([a-z-]+)/, '$1')}`);
    }

    const layer = custom.layerArn ?? { Ref: LAYER_REF };
    if (custom.layerArn === undefined) {
      service.layers ??= {};
      service.layers[LAYER_KEY] = {
        name: `lambda-otel-relay-${service.provider.stage ?? 'dev'}`,
        description: 'lambda-otel-relay OpenTelemetry relay extension',
        package: { artifact: packagedLayerZip() },
        compatibleRuntimes: COMPATIBLE_RUNTIMES,
        compatibleArchitectures: [...COMPATIBLE_ARCHITECTURES],
        licenseInfo: 'Apache-2.0',
        // Functions still on an older version keep their extension when a deploy publishes a new one.
        retain: true,
      };
    }

    const functions = service.functions ?? {};
    const wanted = custom.functions ?? Object.keys(functions);
    for (const name of wanted) {
      const fn = functions[name];
      if (!fn) this.fail(`custom.otelRelay.functions names ${name}, which is not a function of this service`);
      const runtime = fn.runtime ?? service.provider.runtime ?? '';
      if (!COMPATIBLE_RUNTIMES.includes(runtime as never)) {
        // Listed explicitly: refuse. Picked by default: a function on another runtime is left out.
        if (custom.functions) {
          this.fail(
            `${name} runs ${runtime || 'no runtime'}; the relay needs ${COMPATIBLE_RUNTIMES.join(', ')}`,
          );
        }
        continue;
      }
      const layers = fn.layers ?? [];
      const present = layers.some((l) => JSON.stringify(l) === JSON.stringify(layer));
      fn.layers = present ? layers : [...layers, layer];
      // The function's own values win: a per-function flush override stays.
      fn.environment = { ...env, ...(fn.environment ?? {}) };
      if (custom.zeroCode) {
        const own = Object.fromEntries(Object.entries(fn.environment).map(([k, v]) => [k, String(v)]));
        checkExecWrapper(name, own, (m) => new this.serverless.classes.Error(`lambda-otel-relay: ${m}`));
        fn.environment[EXEC_WRAPPER_ENV] = ZERO_CODE_WRAPPER;
      }
    }

    const statements = requiredStatements({
      headersSecretArn: custom.headersSecretArn,
      fallbackS3Uri: custom.fallbackS3Uri,
    });
    if (statements.length > 0) {
      service.provider.iam ??= {};
      const iam = service.provider.iam;
      if (typeof iam.role === 'string') {
        this.serverless.cli?.log(
          `lambda-otel-relay: provider.iam.role is an existing role; add to it: ${JSON.stringify(statements)}`,
        );
      } else {
        iam.role ??= {};
        iam.role.statements = [...(iam.role.statements ?? []), ...statements];
      }
    }
  }
}

// The framework `require()`s a plugin and calls `new` on what it gets: the CommonJS build (see
// layer/build.mjs) makes this class the module itself, with pointAtRetainedLayers on it.
export default OtelRelayServerlessPlugin;
