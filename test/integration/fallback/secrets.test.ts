// Secrets Manager GetSecretValue through our signed JSON client, against moto.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsServiceError, awsJsonCall, getSecretValue } from '../../../src/aws/index.js';
import { type MotoServer, startMotoServer } from '../../helpers/moto.js';

let moto: MotoServer;
const creds = async () => ({ accessKeyId: 'testing', secretAccessKey: 'testing' });

beforeAll(async () => {
  moto = await startMotoServer();
});
afterAll(async () => {
  await moto?.stop();
});

describe('getSecretValue', () => {
  it('returns the SecretString of a secret by name and by ARN', async () => {
    const options = { region: moto.region, endpoint: moto.endpoint, credentials: creds };
    const created = await awsJsonCall(
      'secretsmanager',
      'secretsmanager.CreateSecret',
      { Name: 'otlp-headers', SecretString: 'authorization=Bearer abc' },
      options,
    );
    expect(await getSecretValue('otlp-headers', options)).toBe('authorization=Bearer abc');
    expect(await getSecretValue(String(created.ARN), options)).toBe('authorization=Bearer abc');
  });

  it('raises AwsServiceError with the service error code for a missing secret', async () => {
    const err = await getSecretValue('nope', {
      region: moto.region,
      endpoint: moto.endpoint,
      credentials: creds,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsServiceError);
    expect((err as AwsServiceError).code).toBe('ResourceNotFoundException');
  });
});
