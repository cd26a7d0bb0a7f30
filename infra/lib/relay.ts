// The relay on functions in one call: the layer, its environment, an optional fallback bucket and
// least-privilege grants (s3:PutObject on the fallback prefix only; the headers secret only when used).
import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { type ILayerVersion, type Function as LambdaFunction, RuntimeFamily } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { parseFlushStrategy, parseOtlpHeaders } from '../../src/extension/settings/index.js';
import { OtelRelayLayer } from './layer.js';

/**
 * When the relay exports (see docs/flush-strategies.md); `periodic:` takes ms, or seconds with `s`.
 * Checked at synth time by the extension's own parser, so a value synth accepts is one the relay uses.
 */
export type FlushStrategy =
  | 'adaptive'
  | 'end'
  | 'continuous'
  | `periodic:${number}`
  | `periodic:${number}ms`
  | `periodic:${number}s`;

/** The extension's environment contract. */
export const RELAY_ENVIRONMENT = {
  endpoint: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  headers: 'OTEL_EXPORTER_OTLP_HEADERS',
  headersSecretArn: 'OTEL_RELAY_HEADERS_SECRET_ARN',
  flush: 'OTEL_RELAY_FLUSH',
  fallbackS3Uri: 'OTEL_RELAY_FALLBACK_S3_URI',
  fallbackS3KmsKeyId: 'OTEL_RELAY_FALLBACK_S3_KMS_KEY_ID',
} as const;

export interface OtelRelayFallbackProps {
  /** Use this bucket instead of creating one. */
  bucket?: IBucket;
  /** Key prefix the relay writes under; the grant covers only this prefix. Default: otel-relay/. */
  prefix?: string;
  /** Created bucket only: objects expire after this long. Default: 14 days. */
  expiration?: Duration;
  /** Created bucket only. Default: RETAIN, since it holds telemetry not yet delivered. */
  removalPolicy?: RemovalPolicy;
  /**
   * The customer-managed KMS key a given bucket is encrypted with, when the bucket was imported
   * (`Bucket.fromBucketName` knows no key). The relay then writes with it (SSE-KMS) and is granted
   * kms:GenerateDataKey on it through S3 only. Default: the bucket's own `encryptionKey`.
   */
  kmsKey?: IKey;
}

export interface OtelRelayProps {
  /** A layer version to use (e.g. from `lambda-otel-relay publish`); default: built from dist/layer. */
  layer?: ILayerVersion;
  /** Where the layer is built from when `layer` is not given. Default: dist/layer. */
  layerPath?: string;
  /** OTLP endpoint of your collector (OTEL_EXPORTER_OTLP_ENDPOINT). */
  endpoint?: string;
  /**
   * OTLP headers, `k=v,k2=v2` (the `OTEL_EXPORTER_OTLP_HEADERS` format, checked by the extension's own
   * parser). Visible to anyone who can read the function configuration: prefer `headersSecret`.
   */
  headers?: string;
  /**
   * A Secrets Manager secret holding OTLP headers: an `OTEL_EXPORTER_OTLP_HEADERS`-format string
   * (`k=v,k2=v2`) or a JSON object of header → value. The extension reads it at start, after it has
   * registered, and merges it over the static headers (the secret wins per key).
   */
  headersSecret?: ISecret;
  /**
   * The KMS key `headersSecret` is encrypted with, when it is a customer-managed key and the secret was
   * imported (`Secret.fromSecretNameV2` and friends know no key). Granted kms:Decrypt through Secrets
   * Manager only. Default: the secret's own `encryptionKey`.
   */
  headersSecretKey?: IKey;
  /** Default: the extension's default (adaptive). */
  flush?: FlushStrategy;
  /** S3 fallback for data the collector did not take: a created bucket (default), a given one, or off. */
  fallback?: OtelRelayFallbackProps | false;
  /**
   * Trace the functions without code changes: sets AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-relay-handler.
   * A function that already has another wrapper is refused at synth. Default false.
   */
  zeroCode?: boolean;
}

export interface AddToOptions {
  /** Per-function override of the relay's flush strategy. */
  flush?: FlushStrategy;
  /** Per-function override of `zeroCode`. */
  zeroCode?: boolean;
}

/** The exec wrapper the layer ships for zero-code tracing. */
export const ZERO_CODE_WRAPPER = '/opt/otel-relay-handler';

/** Sets the zero-code wrapper on `fn`, refusing one that already has another (Lambda runs one only). */
function setZeroCodeWrapper(fn: LambdaFunction): void {
  // Function keeps its variables in a private field (a map of name -> { value }); reading it is the
  // only way to see a wrapper set earlier (addEnvironment would overwrite it silently).
  const env = (fn as unknown as { environment?: { map?: Map<string, { value?: unknown }> } }).environment;
  const current = env?.map?.get('AWS_LAMBDA_EXEC_WRAPPER')?.value;
  if (current !== undefined && current !== ZERO_CODE_WRAPPER) {
    throw new Error(
      `OtelRelay: ${fn.node.path} already has AWS_LAMBDA_EXEC_WRAPPER=${String(current)}, and Lambda runs one ` +
        `wrapper only; zero-code needs ${ZERO_CODE_WRAPPER}. Remove the other wrapper, or leave zeroCode off.`,
    );
  }
  fn.addEnvironment('AWS_LAMBDA_EXEC_WRAPPER', ZERO_CODE_WRAPPER);
}

function checkFlush(flush: string | undefined): void {
  // The extension would log the value as invalid and run adaptive: refuse it at synth instead.
  if (flush === undefined || parseFlushStrategy(flush) !== undefined) return;
  throw new Error(
    `OtelRelay: flush "${flush}" is not adaptive, end, continuous or periodic:<ms> (e.g. periodic:5000 or periodic:5s)`,
  );
}

function checkHeaders(headers: string | undefined): void {
  if (headers === undefined) return;
  // The extension skips such an entry with a log line; refuse it at synth so every header is sent.
  // Problems name the entry's position only: the value is a credential and stays out of the error.
  const { problems } = parseOtlpHeaders(headers);
  if (problems.length > 0) {
    throw new Error(`OtelRelay: headers ${problems[0]} by the extension; give k=v,k2=v2 (URL-encoded)`);
  }
}

/**
 * @example
 * const relay = new OtelRelay(this, 'Relay', { endpoint: 'https://otlp.example.com:4318', headersSecret });
 * relay.addTo(ordersFn);
 */
export class OtelRelay extends Construct {
  readonly layer: ILayerVersion;
  /** The fallback bucket, created or given; undefined when the fallback is off. */
  readonly fallbackBucket: IBucket | undefined;
  readonly fallbackPrefix: string;
  private readonly props: OtelRelayProps;

  constructor(scope: Construct, id: string, props: OtelRelayProps = {}) {
    super(scope, id);
    if (props.headers !== undefined && props.headersSecret !== undefined) {
      throw new Error('OtelRelay: give either headers or headersSecret, not both');
    }
    checkFlush(props.flush);
    checkHeaders(props.headers);
    this.props = props;
    this.layer = props.layer ?? new OtelRelayLayer(this, 'Layer', { path: props.layerPath }).layerVersion;

    const fallback = props.fallback === false ? undefined : (props.fallback ?? {});
    const prefix = fallback?.prefix ?? 'otel-relay/';
    this.fallbackPrefix = prefix.endsWith('/') || prefix === '' ? prefix : `${prefix}/`;
    if (!fallback) {
      this.fallbackBucket = undefined;
    } else if (fallback.bucket) {
      this.fallbackBucket = fallback.bucket;
    } else {
      this.fallbackBucket = new Bucket(this, 'FallbackBucket', {
        encryption: BucketEncryption.S3_MANAGED,
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        lifecycleRules: [
          {
            id: 'expire-undelivered-telemetry',
            prefix: this.fallbackPrefix || undefined,
            expiration: fallback.expiration ?? Duration.days(14),
            abortIncompleteMultipartUploadAfter: Duration.days(1),
          },
        ],
        removalPolicy: fallback.removalPolicy ?? RemovalPolicy.RETAIN,
      });
    }
    if (props.headers !== undefined) {
      Annotations.of(this).addWarningV2(
        'lambda-otel-relay:inline-headers',
        'OTLP headers are set inline and readable in the function configuration; prefer headersSecret',
      );
    }
  }

  /**
   * Adds the layer, the relay's environment and the grants it needs to one function. Adding to the same
   * function again changes only its flush override: the layer and the grants are added once.
   */
  addTo(fn: LambdaFunction, options: AddToOptions = {}): void {
    checkFlush(options.flush);
    // The extension is a Node.js process; other managed runtimes have no node binary to run it.
    if (fn.runtime.family !== RuntimeFamily.NODEJS) {
      throw new Error(
        `OtelRelay: ${fn.node.path} runs ${fn.runtime.name}, which has no Node.js for the relay extension; ` +
          'the layer supports nodejs20.x, nodejs22.x and nodejs24.x',
      );
    }
    const flush = options.flush ?? this.props.flush;
    if (options.zeroCode ?? this.props.zeroCode) setZeroCodeWrapper(fn);
    const owner = relayOf.get(fn);
    if (owner !== undefined && owner !== this) {
      throw new Error(
        `OtelRelay: ${fn.node.path} already has the relay from ${owner.node.path}; ` +
          'a second one would run two extensions on the same data',
      );
    }
    if (owner === this) {
      if (flush !== undefined) fn.addEnvironment(RELAY_ENVIRONMENT.flush, flush);
      return;
    }
    relayOf.set(fn, this);
    fn.addLayers(this.layer);
    const { endpoint, headers, headersSecret } = this.props;
    if (endpoint !== undefined) fn.addEnvironment(RELAY_ENVIRONMENT.endpoint, endpoint);
    if (headers !== undefined) fn.addEnvironment(RELAY_ENVIRONMENT.headers, headers);
    if (flush !== undefined) fn.addEnvironment(RELAY_ENVIRONMENT.flush, flush);
    if (headersSecret) {
      fn.addEnvironment(RELAY_ENVIRONMENT.headersSecretArn, headersSecret.secretArn);
      // GetSecretValue on this one secret, on the ARN form a policy needs: a secret imported by name
      // has a partial ARN, and only `<name>-??????` matches the real one (grantRead's rule). The
      // DescribeSecret that grantRead adds is not needed.
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [headersSecret.secretFullArn ?? `${headersSecret.secretArn}-??????`],
        }),
      );
      const key = this.props.headersSecretKey ?? headersSecret.encryptionKey;
      if (key) grantKeyVia(fn, key, 'secretsmanager', 'kms:Decrypt');
    }
    const bucket = this.fallbackBucket;
    if (bucket) {
      fn.addEnvironment(RELAY_ENVIRONMENT.fallbackS3Uri, `s3://${bucket.bucketName}/${this.fallbackPrefix}`);
      // Write-only, and only under the prefix: the relay never reads, lists or deletes here.
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['s3:PutObject'],
          resources: [bucket.arnForObjects(`${this.fallbackPrefix}*`)],
        }),
      );
      const key = this.fallbackKey;
      if (key) {
        // A bucket encrypted with a customer key: the relay writes with that key (SSE-KMS), which
        // takes kms:GenerateDataKey on it, through S3 only, and nothing more for a single PutObject.
        fn.addEnvironment(RELAY_ENVIRONMENT.fallbackS3KmsKeyId, key.keyArn);
        grantKeyVia(fn, key, 's3', 'kms:GenerateDataKey');
      }
    }
  }

  private get fallbackKey(): IKey | undefined {
    const fallback = this.props.fallback;
    return (fallback ? fallback.kmsKey : undefined) ?? this.fallbackBucket?.encryptionKey;
  }
}

/** Which relay a function has, so a second addTo (from the same relay or another) adds nothing twice. */
const relayOf = new WeakMap<LambdaFunction, OtelRelay>();

/**
 * `action` on `key` for the function, only when called by `service` in the function's region
 * (kms:ViaService). On the role, so it works for an imported key too; a key policy that delegates to
 * IAM (the default) honours it.
 */
function grantKeyVia(fn: LambdaFunction, key: IKey, service: 'secretsmanager' | 's3', action: string): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: [action],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `${service}.${Stack.of(fn).region}.amazonaws.com` } },
    }),
  );
}
