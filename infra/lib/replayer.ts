// Replay at fleet scale, on Lambda itself: a function that re-sends the relay's fallback objects to
// the collector with the same code as `lambda-otel-relay replay`, invoked by S3 object-created events
// under the fallback prefix and/or on a schedule (which also picks up what earlier attempts left).
import { Duration } from 'aws-cdk-lib';
import { Rule, type Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaTarget } from 'aws-cdk-lib/aws-events-targets';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { EventType, type IBucket } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { packageRoot } from '../../src/cli/package/index.js';
import { REPLAYER_ENV } from '../../src/cli/replay/env.js';
import { LAYER_ASSET_EXCLUDE } from './layer.js';

export interface OtelRelayReplayerProps {
  /** The fallback bucket (e.g. `OtelRelay.fallbackBucket`). */
  bucket: IBucket;
  /** The prefix the relay writes under. Default: otel-relay/. */
  prefix?: string;
  /** The collector's OTLP endpoint (http/protobuf, or grpc:// for gRPC). */
  endpoint: string;
  /**
   * Replay invocations at once: the cap that protects a collector just back from an outage
   * (reserved concurrency). Default 2.
   */
  maxConcurrency?: number;
  /** Replay each object as soon as it is written. Default true. */
  onObjectCreated?: boolean;
  /** Also sweep the whole prefix on this schedule (objects whose event-driven replay failed). */
  schedule?: Schedule;
  /** Per invocation. Default 5 minutes. */
  timeout?: Duration;
  /** Where the function's bundle is. Default: dist/replayer of this package. */
  codePath?: string;
}

export class OtelRelayReplayer extends Construct {
  readonly function: LambdaFunction;
  /** Events whose replay still failed after Lambda's retries (the objects stay in the bucket). */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: OtelRelayReplayerProps) {
    super(scope, id);
    const concurrency = props.maxConcurrency ?? 2;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new Error(
        `OtelRelayReplayer: maxConcurrency ${concurrency} must be a whole number of at least 1`,
      );
    }
    const raw = props.prefix ?? 'otel-relay/';
    const prefix = raw === '' || raw.endsWith('/') ? raw : `${raw}/`;
    if (props.onObjectCreated === false && !props.schedule) {
      throw new Error(
        'OtelRelayReplayer: with onObjectCreated false, give a schedule, or nothing invokes it',
      );
    }
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.function = new LambdaFunction(this, 'Function', {
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: Code.fromAsset(props.codePath ?? `${packageRoot()}/dist/replayer`, {
        exclude: LAYER_ASSET_EXCLUDE,
      }),
      timeout: props.timeout ?? Duration.minutes(5),
      memorySize: 512,
      reservedConcurrentExecutions: concurrency,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 2,
      environment: {
        [REPLAYER_ENV.from]: `s3://${props.bucket.bucketName}/${prefix}`,
        OTEL_EXPORTER_OTLP_ENDPOINT: props.endpoint,
        [REPLAYER_ENV.namespace]: 'lambda-otel-relay/replay',
      },
      description: `lambda-otel-relay replay of s3://…/${prefix} to the collector`,
    });
    // Read and delete under the prefix only (and list it, for the schedule's sweep).
    props.bucket.grantRead(this.function, `${prefix}*`);
    props.bucket.grantDelete(this.function, `${prefix}*`);
    if (props.onObjectCreated !== false) {
      props.bucket.addEventNotification(
        EventType.OBJECT_CREATED,
        new LambdaDestination(this.function),
        prefix ? { prefix } : {},
      );
    }
    if (props.schedule) {
      new Rule(this, 'Schedule', { schedule: props.schedule, targets: [new LambdaTarget(this.function)] });
    }
  }
}
