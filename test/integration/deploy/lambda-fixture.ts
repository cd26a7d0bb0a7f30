// Functions and layers in moto for the CLI tests: an IAM role (moto checks it exists), functions
// created with the real SDK, and a stand-in layer zip of the real layer's shape.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateFunctionCommand,
  type CreateFunctionCommandInput,
  GetFunctionConfigurationCommand,
  LambdaClient,
  PublishLayerVersionCommand,
} from '@aws-sdk/client-lambda';
import { collectFiles, zipFiles } from '../../../layer/zip.mjs';

export const ROLE_ARN = 'arn:aws:iam::123456789012:role/otel-relay-test';

/** moto's IAM speaks the query protocol; it routes on the credential scope and checks no signature. */
export async function createRole(endpoint: string, region: string): Promise<void> {
  const body = new URLSearchParams({
    Action: 'CreateRole',
    Version: '2010-05-08',
    RoleName: 'otel-relay-test',
    AssumeRolePolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    }),
  });
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok && !text.includes('EntityAlreadyExists')) {
    throw new Error(`moto CreateRole answered HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
}

/** The smallest valid zip: an empty archive (end-of-central-directory record only). */
export const EMPTY_ZIP = Buffer.from('UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', 'base64');

export function lambdaClient(endpoint: string, region: string): LambdaClient {
  return new LambdaClient({
    region,
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
}

export async function createFunction(
  client: LambdaClient,
  name: string,
  extra: Partial<CreateFunctionCommandInput> = {},
): Promise<string> {
  const res = await client.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Role: ROLE_ARN,
      Handler: 'index.handler',
      Code: { ZipFile: EMPTY_ZIP },
      ...extra,
    }),
  );
  return res.FunctionArn!;
}

export async function publishOtherLayer(client: LambdaClient, name: string): Promise<string> {
  const res = await client.send(
    new PublishLayerVersionCommand({ LayerName: name, Content: { ZipFile: EMPTY_ZIP } }),
  );
  return res.LayerVersionArn!;
}

export async function configuration(client: LambdaClient, name: string) {
  return client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
}

/** A zip with the real layer's layout: extensions/otel-relay (executable) and otel-relay/extension.js. */
export function standInLayerZip(): string {
  const dir = mkdtempSync(join(tmpdir(), 'otel-relay-layer-'));
  const root = join(dir, 'layer');
  mkdirSync(join(root, 'extensions'), { recursive: true });
  mkdirSync(join(root, 'otel-relay'), { recursive: true });
  writeFileSync(
    join(root, 'extensions/otel-relay'),
    '#!/bin/sh\nexec node "$(dirname "$0")/../otel-relay/extension.js"\n',
  );
  chmodSync(join(root, 'extensions/otel-relay'), 0o755);
  writeFileSync(join(root, 'otel-relay/extension.js'), '// stand-in for the built extension\n');
  const zip = join(dir, 'layer.zip');
  writeFileSync(zip, zipFiles(collectFiles(root)));
  return zip;
}
