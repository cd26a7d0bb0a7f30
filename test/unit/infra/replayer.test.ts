// OtelRelayReplayer: the replay function, what invokes it, its cap, its dead-letter queue and its
// grants, asserted on the synthesized template.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { OtelRelayReplayer } from '../../../infra/index.js';
import { metricsLine } from '../../../src/cli/replay/lambda.js';
import { emptyTally } from '../../../src/cli/replay/run.js';

let codePath: string;
beforeAll(() => {
  codePath = join(mkdtempSync(join(tmpdir(), 'replayer-')), 'replayer');
  mkdirSync(codePath);
  writeFileSync(join(codePath, 'index.mjs'), 'export const handler = async () => ({});\n');
});

/** The replay function's properties (the template also has CDK's own notifications handler). */
function replayFunction(template: Template): Record<string, unknown> {
  const found = Object.values(template.findResources('AWS::Lambda::Function'))
    .map((r) => (r as { Properties: Record<string, unknown> }).Properties)
    .filter((p) => p.Handler === 'index.handler' && p.Runtime === 'nodejs22.x');
  expect(found).toHaveLength(1);
  return found[0]!;
}

function synth(extra: Partial<ConstructorParameters<typeof OtelRelayReplayer>[2]> = {}) {
  const stack = new Stack(new App(), 'Replay', { env: { account: '123456789012', region: 'eu-west-1' } });
  const bucket = new Bucket(stack, 'Spill');
  const replayer = new OtelRelayReplayer(stack, 'Replayer', {
    bucket,
    endpoint: 'https://collector.example.com:4318',
    codePath,
    ...extra,
  });
  return { stack, replayer, template: Template.fromStack(stack) };
}

describe('OtelRelayReplayer', () => {
  it('runs the replay function with a concurrency cap, retries and a dead-letter queue', () => {
    const { template } = synth({ maxConcurrency: 3 });
    const fn = replayFunction(template);
    expect(fn).toMatchObject({
      Runtime: 'nodejs22.x',
      ReservedConcurrentExecutions: 3,
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [expect.stringMatching(/DeadLetters/), 'Arn'] } },
      Environment: {
        Variables: {
          OTEL_RELAY_REPLAY_FROM: {
            'Fn::Join': ['', ['s3://', { Ref: expect.stringMatching(/^Spill/) }, '/otel-relay/']],
          },
          OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example.com:4318',
          OTEL_RELAY_REPLAY_METRICS_NAMESPACE: 'lambda-otel-relay/replay',
        },
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 86_400 });
  });

  it('is invoked by object-created events under the prefix only', () => {
    const { template } = synth({ prefix: 'spill' });
    const [notifications] = Object.values(template.findResources('Custom::S3BucketNotifications')) as {
      Properties: { NotificationConfiguration: { LambdaFunctionConfigurations: unknown[] } };
    }[];
    expect(notifications!.Properties.NotificationConfiguration.LambdaFunctionConfigurations).toEqual([
      expect.objectContaining({
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'spill/' }] } },
      }),
    ]);
  });

  it('sweeps on a schedule when given one, and refuses a setup that nothing would invoke', () => {
    const { template } = synth({ schedule: Schedule.rate(Duration.minutes(15)), onObjectCreated: false });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    expect(() => synth({ onObjectCreated: false })).toThrow(/give a schedule, or nothing invokes it/);
    expect(() => synth({ maxConcurrency: 0 })).toThrow(/maxConcurrency 0/);
  });

  it('may read and delete under the prefix, and list the bucket, nothing else', () => {
    const { template } = synth();
    const role = (replayFunction(template).Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .map(
        (p) =>
          (
            p as {
              Properties: {
                Roles: { Ref: string }[];
                PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] };
              };
            }
          ).Properties,
      )
      .filter((p) => p.Roles.some((r) => r.Ref === role))
      .flatMap((p) => p.PolicyDocument.Statement);
    const s3 = statements.filter((s) => JSON.stringify(s.Action).includes('s3:'));
    const actions = s3.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(new Set(actions)).toEqual(
      new Set(['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*']),
    );
    expect(JSON.stringify(s3)).toContain('/otel-relay/*');
  });
});

describe('replay self-metrics', () => {
  it('is one embedded-metric-format line with the invocation counts', () => {
    const line = metricsLine(
      {
        ...emptyTally(),
        sent: 3,
        failed: 1,
        gone: 2,
        bytes: 900,
        items: { traces: 40, logs: 2 },
        objects: 6,
        skipped: 0,
      },
      'lambda-otel-relay/replay',
      1_700_000_000_000,
    );
    const doc = JSON.parse(line);
    expect(doc._aws.CloudWatchMetrics[0].Namespace).toBe('lambda-otel-relay/replay');
    expect(doc._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toEqual([
      'ObjectsSent',
      'ObjectsFailed',
      'ObjectsGone',
      'ObjectsSkipped',
      'BytesSent',
      'ItemsSent',
    ]);
    expect(doc).toMatchObject({
      ObjectsSent: 3,
      ObjectsFailed: 1,
      ObjectsGone: 2,
      BytesSent: 900,
      ItemsSent: 42,
    });
  });
});
