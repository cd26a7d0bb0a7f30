import { Signer } from '@aws-sdk/rds-signer';
import { generateAuthTokenFromCredentialsProvider } from 'aws-msk-iam-sasl-signer-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mskIamToken } from '../../../src/extension/destinations/kafka/msk-iam.js';
import { rdsIamToken } from '../../../src/extension/destinations/postgres/rds-iam.js';

// AWS's own signer libraries read the clock themselves: both are pinned to the same instant.
const AT = new Date('2026-11-05T08:09:10.000Z');
const LONG_TERM = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const TEMPORARY = {
  ...LONG_TERM,
  accessKeyId: 'ASIAEXAMPLE',
  sessionToken: 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+token/with+slash=',
};

describe('IAM auth tokens, byte for byte against AWS signer libraries', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(AT);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  for (const [label, creds] of [
    ['long-term keys', LONG_TERM],
    ['temporary keys (session token)', TEMPORARY],
  ] as const) {
    it(`makes the MSK IAM token aws-msk-iam-sasl-signer-js makes, with ${label}`, async () => {
      // Prepare
      const region = 'eu-west-1';
      // Act
      const theirs = await generateAuthTokenFromCredentialsProvider({
        region,
        awsCredentialsProvider: async () => creds,
      });
      const ours = mskIamToken(creds, region, AT, 'aws-msk-iam-sasl-signer-js/1.0.3');
      // Assess
      expect(ours.token).toBe(theirs.token);
      expect(ours.expiresAt).toBe(theirs.expiryTime);
      const url = new URL(Buffer.from(ours.token, 'base64url').toString('utf8'));
      expect(url.host).toBe('kafka.eu-west-1.amazonaws.com');
      expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
    });

    it(`makes the RDS IAM token @aws-sdk/rds-signer makes, with ${label}`, async () => {
      // Prepare
      const signer = new Signer({
        hostname: 'db.cluster-abc.us-east-2.rds.amazonaws.com',
        port: 5432,
        username: 'relay_writer',
        region: 'us-east-2',
        credentials: creds,
      });
      // Act
      const theirs = await signer.getAuthToken();
      const ours = rdsIamToken(
        creds,
        'us-east-2',
        'db.cluster-abc.us-east-2.rds.amazonaws.com',
        5432,
        'relay_writer',
        AT,
      );
      // Assess
      expect(ours).toBe(theirs);
    });
  }

  it('shortens the MSK token to what is left of temporary credentials', () => {
    // Prepare
    const expiring = { ...TEMPORARY, expiration: AT.getTime() + 120_000 };
    // Act
    const token = mskIamToken(expiring, 'us-east-1', AT, 'ua');
    // Assess
    const url = new URL(Buffer.from(token.token, 'base64url').toString('utf8'));
    expect(url.searchParams.get('X-Amz-Expires')).toBe('120');
    expect(token.expiresAt).toBe(AT.getTime() + 120_000);
  });
});
