// Attribute names from the OpenTelemetry semantic conventions (v1.45: FaaS, AWS Lambda, HTTP server,
// URL, messaging). Spelled out here rather than imported so the function pays no module load for them.
import type { Attributes } from '@opentelemetry/api';

export const ATTR = {
  faasTrigger: 'faas.trigger',
  faasInvocationId: 'faas.invocation_id',
  faasColdstart: 'faas.coldstart',
  faasName: 'faas.name',
  faasVersion: 'faas.version',
  faasInstance: 'faas.instance',
  faasMaxMemory: 'faas.max_memory',
  faasTime: 'faas.time',
  faasDocumentCollection: 'faas.document.collection',
  faasDocumentOperation: 'faas.document.operation',
  faasDocumentName: 'faas.document.name',
  faasDocumentTime: 'faas.document.time',
  cloudProvider: 'cloud.provider',
  cloudPlatform: 'cloud.platform',
  cloudRegion: 'cloud.region',
  cloudAccountId: 'cloud.account.id',
  cloudResourceId: 'cloud.resource_id',
  awsLambdaInvokedArn: 'aws.lambda.invoked_arn',
  awsLogGroupNames: 'aws.log.group.names',
  awsLogStreamNames: 'aws.log.stream.names',
  serviceName: 'service.name',
  httpRequestMethod: 'http.request.method',
  httpRequestMethodOriginal: 'http.request.method_original',
  httpRoute: 'http.route',
  httpResponseStatusCode: 'http.response.status_code',
  urlPath: 'url.path',
  urlQuery: 'url.query',
  urlScheme: 'url.scheme',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  clientAddress: 'client.address',
  userAgentOriginal: 'user_agent.original',
  networkProtocolVersion: 'network.protocol.version',
  errorType: 'error.type',
  exceptionType: 'exception.type',
  messagingSystem: 'messaging.system',
  messagingOperationType: 'messaging.operation.type',
  messagingOperationName: 'messaging.operation.name',
  messagingDestinationName: 'messaging.destination.name',
  messagingBatchMessageCount: 'messaging.batch.message_count',
  messagingMessageId: 'messaging.message.id',
  awsSqsQueueUrl: 'aws.sqs.queue.url',
  awsSnsTopicArn: 'aws.sns.topic.arn',
  awsS3Bucket: 'aws.s3.bucket',
  awsKinesisStreamName: 'aws.kinesis.stream_name',
  awsDynamodbTableNames: 'aws.dynamodb.table_names',
} as const;

export type FaasTrigger = 'http' | 'pubsub' | 'datasource' | 'timer' | 'other';

/** The environment variables the resource is built from (the Lambda runtime sets them). */
export interface LambdaEnvironment {
  AWS_REGION?: string;
  AWS_LAMBDA_FUNCTION_NAME?: string;
  AWS_LAMBDA_FUNCTION_VERSION?: string;
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE?: string;
  AWS_LAMBDA_LOG_STREAM_NAME?: string;
  AWS_LAMBDA_LOG_GROUP_NAME?: string;
  OTEL_SERVICE_NAME?: string;
  [name: string]: string | undefined;
}

/**
 * Resource attributes of this function instance, per the FaaS and cloud resource conventions.
 * `faas.instance` is the log stream name (unique per execution environment); `faas.max_memory` is in
 * bytes; `service.name` defaults to the function name unless OTEL_SERVICE_NAME says otherwise.
 */
export function lambdaResourceAttributes(env: LambdaEnvironment): Attributes {
  const attrs: Attributes = { [ATTR.cloudProvider]: 'aws', [ATTR.cloudPlatform]: 'aws_lambda' };
  const region = env.AWS_REGION;
  const name = env.AWS_LAMBDA_FUNCTION_NAME;
  if (region) attrs[ATTR.cloudRegion] = region;
  if (name) attrs[ATTR.faasName] = name;
  if (env.AWS_LAMBDA_FUNCTION_VERSION) attrs[ATTR.faasVersion] = env.AWS_LAMBDA_FUNCTION_VERSION;
  const memoryMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  if (Number.isFinite(memoryMb) && memoryMb > 0) attrs[ATTR.faasMaxMemory] = memoryMb * 1024 * 1024;
  if (env.AWS_LAMBDA_LOG_STREAM_NAME) {
    attrs[ATTR.faasInstance] = env.AWS_LAMBDA_LOG_STREAM_NAME;
    attrs[ATTR.awsLogStreamNames] = [env.AWS_LAMBDA_LOG_STREAM_NAME];
  }
  if (env.AWS_LAMBDA_LOG_GROUP_NAME) attrs[ATTR.awsLogGroupNames] = [env.AWS_LAMBDA_LOG_GROUP_NAME];
  const service = env.OTEL_SERVICE_NAME || name;
  if (service) attrs[ATTR.serviceName] = service;
  return attrs;
}

/** `arn:aws:lambda:region:account:function:name[:qualifier]` split into what the span needs. */
export interface FunctionArn {
  /** The ARN without alias or version: `cloud.resource_id`. */
  resourceId: string;
  accountId: string;
}

export function parseFunctionArn(arn: string | undefined): FunctionArn | undefined {
  if (!arn) return undefined;
  const parts = arn.split(':');
  if (parts.length < 7 || parts[0] !== 'arn' || parts[5] !== 'function') return undefined;
  return { resourceId: parts.slice(0, 7).join(':'), accountId: parts[4] ?? '' };
}
