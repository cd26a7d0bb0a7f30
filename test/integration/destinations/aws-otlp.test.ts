// The awsxray and awslogs destinations against a local endpoint that verifies each request's SigV4
// signature the way AWS does: it takes the headers the request says it signed, signs the same request
// with the AWS SDK's signer (@smithy/signature-v4) and compares. The OTLP body must arrive untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDestination as createLogs } from '../../../src/extension/destinations/awslogs/index.js';
import { createDestination as createXray } from '../../../src/extension/destinations/awsxray/index.js';
import { otlpJsonToProtobuf } from '../../../src/otlp/index.js';
import { type SigV4Endpoint, startSigV4Endpoint } from '../../helpers/sigv4-endpoint.js';
import { budget, clock, memoryLog, tracesRequest } from './fixtures.js';

const credentials = {
  accessKeyId: 'AKIDRELAYTEST',
  secretAccessKey: 'secret/with+odd=chars',
  sessionToken: 'tok/en+=',
};
const region = 'eu-central-1';

describe('awsxray and awslogs destinations, signed with SigV4', () => {
  let verifier: SigV4Endpoint;
  let endpoint: string;
  let seen: SigV4Endpoint['seen'];
  beforeAll(async () => {
    verifier = await startSigV4Endpoint(credentials);
    endpoint = verifier.url;
    seen = verifier.seen;
  });
  afterAll(async () => {
    await verifier?.close();
  });
  const awsEnv = {
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
  };

  it('awsxray posts the untouched OTLP traces with a signature for service xray the SDK agrees with', async () => {
    // Prepare
    seen.length = 0;
    const dest = createXray({
      env: { ...awsEnv, OTEL_RELAY_AWSXRAY_ENDPOINT: `${endpoint}/v1/traces` },
      clock,
      log: memoryLog(),
    });
    const req = tracesRequest('xray-fn');
    // Act
    const outcome = await dest.export('traces', req.body, budget());
    // Assess
    expect(outcome).toEqual({ kind: 'success' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ valid: true, service: 'xray', path: '/v1/traces' });
    expect(seen[0]!.headers['content-type']).toBe('application/x-protobuf');
    expect(seen[0]!.headers['x-amz-security-token']).toBe(credentials.sessionToken);
    expect(Buffer.compare(seen[0]!.body, Buffer.from(req.body))).toBe(0);
  });

  it('awslogs signs the log group and stream headers for service logs', async () => {
    // Prepare
    seen.length = 0;
    const dest = createLogs({
      env: {
        ...awsEnv,
        OTEL_RELAY_AWSLOGS_ENDPOINT: `${endpoint}/v1/logs`,
        OTEL_RELAY_AWSLOGS_LOG_GROUP: '/aws/otel/app',
        OTEL_RELAY_AWSLOGS_LOG_STREAM: 'relay stream',
      },
      clock,
      log: memoryLog(),
    });
    const body = otlpJsonToProtobuf(
      'logs',
      JSON.stringify({
        resourceLogs: [
          { scopeLogs: [{ logRecords: [{ body: { stringValue: 'hello' }, severityNumber: 9 }] }] },
        ],
      }),
    );
    // Act
    const outcome = await dest.export('logs', body, budget());
    // Assess
    expect(outcome).toEqual({ kind: 'success' });
    expect(seen[0]).toMatchObject({ valid: true, service: 'logs', path: '/v1/logs' });
    expect(seen[0]!.headers).toMatchObject({
      'x-aws-log-group': '/aws/otel/app',
      'x-aws-log-stream': 'relay stream',
    });
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(seen[0]!.headers.authorization!)?.[1]?.split(';');
    expect(signedHeaders).toEqual(
      expect.arrayContaining(['x-aws-log-group', 'x-aws-log-stream', 'host', 'x-amz-date']),
    );
  });

  it('a request signed with other credentials is refused by the verifier (the check can fail)', async () => {
    seen.length = 0;
    const dest = createXray({
      env: {
        ...awsEnv,
        AWS_SECRET_ACCESS_KEY: 'not-the-secret',
        OTEL_RELAY_AWSXRAY_ENDPOINT: `${endpoint}/v1/traces`,
      },
      clock,
      log: memoryLog(),
    });
    const outcome = await dest.export('traces', tracesRequest('x').body, budget());
    expect(outcome).toMatchObject({ kind: 'failed', status: 403 });
    expect(seen[0]!.valid).toBe(false);
  });

  it('without credentials the batch is kept (retryable, not this flush) and the reason says so', async () => {
    const dest = createXray({
      env: { AWS_REGION: region, OTEL_RELAY_AWSXRAY_ENDPOINT: `${endpoint}/v1/traces` },
      clock,
      log: memoryLog(),
    });
    const outcome = await dest.export('traces', tracesRequest('x').body, budget());
    expect(outcome).toMatchObject({
      kind: 'retryable',
      notThisFlush: true,
      reason: expect.stringMatching(/no AWS credentials/),
    });
  });

  it('defaults to the regional endpoint and requires a log group for awslogs', () => {
    expect(() => createLogs({ env: awsEnv, clock, log: memoryLog() })).toThrow(
      /OTEL_RELAY_AWSLOGS_LOG_GROUP is required/,
    );
  });
});
