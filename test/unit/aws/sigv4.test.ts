// Vectors from AWS's published Signature Version 4 test suite (AKIDEXAMPLE, 2015-08-30, service
// "service") and from the S3 API reference's worked examples (AKIAIOSFODNN7EXAMPLE, 2013-05-24).
import { describe, expect, it } from 'vitest';
import { type SignableRequest, signRequest } from '../../../src/aws/index.js';

const suiteCreds = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const suiteDate = new Date('2015-08-30T12:36:00Z');
const suiteHost = 'example.amazonaws.com';

function suite(req: Omit<SignableRequest, 'host'>, sessionToken?: string) {
  return signRequest(
    { host: suiteHost, ...req },
    {
      credentials: sessionToken ? { ...suiteCreds, sessionToken } : suiteCreds,
      region: 'us-east-1',
      service: 'service',
      date: suiteDate,
    },
  );
}

function signature(authorization: string | undefined): string {
  return /Signature=([0-9a-f]{64})$/.exec(authorization ?? '')?.[1] ?? 'none';
}

describe('signRequest against the AWS SigV4 test suite', () => {
  const cases: Array<[string, Omit<SignableRequest, 'host'>, string, string?]> = [
    [
      'get-vanilla',
      { method: 'GET', path: '/' },
      '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    ],
    [
      'post-vanilla',
      { method: 'POST', path: '/' },
      '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
    ],
    [
      'get-vanilla-query-order-key',
      {
        method: 'GET',
        path: '/',
        query: [
          ['Param1', 'value2'],
          ['Param1', 'Value1'],
        ],
      },
      'eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1',
    ],
    [
      'get-vanilla-utf8-query',
      { method: 'GET', path: '/', query: [['ሴ', 'bar']] },
      '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04',
    ],
    [
      'get-vanilla-query-unreserved',
      {
        method: 'GET',
        path: '/',
        query: [
          [
            '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
            '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
          ],
        ],
      },
      '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197',
    ],
    [
      'get-space',
      { method: 'GET', path: '/example space/' },
      '652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741',
    ],
    [
      'post-header-key-sort',
      { method: 'POST', path: '/', headers: { 'My-Header1': 'value1' } },
      'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c',
    ],
    [
      'post-x-www-form-urlencoded',
      {
        method: 'POST',
        path: '/',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'Param1=value1',
      },
      'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
    ],
    [
      'post-sts-header-before',
      { method: 'POST', path: '/' },
      '85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead',
      'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==',
    ],
  ];

  for (const [name, req, expected, token] of cases) {
    it(`produces the published signature for ${name}`, () => {
      const signed = suite(req, token);
      expect(signature(signed.headers.authorization)).toBe(expected);
      expect(signed.headers.authorization).toContain(
        'Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request',
      );
    });
  }

  it('builds the published canonical request and string to sign for get-vanilla-query-order-key', () => {
    const signed = suite({
      method: 'GET',
      path: '/',
      query: [
        ['Param1', 'value2'],
        ['Param1', 'Value1'],
      ],
    });
    expect(signed.canonicalRequest).toBe(
      'GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(signed.stringToSign).toBe(
      'AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89',
    );
    expect(signed.pathAndQuery).toBe('/?Param1=Value1&Param1=value2');
  });
});

describe('signRequest against the S3 API reference examples', () => {
  const s3Creds = {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  };
  const s3 = (req: SignableRequest) =>
    signRequest(req, {
      credentials: s3Creds,
      region: 'us-east-1',
      service: 's3',
      date: new Date('2013-05-24T00:00:00Z'),
      contentSha256Header: true,
    });
  const host = 'examplebucket.s3.amazonaws.com';

  it('signs GET Object with a Range header', () => {
    const signed = s3({ method: 'GET', host, path: '/test.txt', headers: { Range: 'bytes=0-9' } });
    expect(signed.stringToSign.split('\n')[3]).toBe(
      '7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972',
    );
    expect(signature(signed.headers.authorization)).toBe(
      'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it('signs PUT Object with a body and an encoded key', () => {
    const signed = s3({
      method: 'PUT',
      host,
      path: '/test$file.text',
      headers: { Date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY' },
      body: 'Welcome to Amazon S3.',
    });
    expect(signed.headers['x-amz-content-sha256']).toBe(
      '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
    );
    expect(signed.pathAndQuery).toBe('/test%24file.text');
    expect(signature(signed.headers.authorization)).toBe(
      '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
    );
  });

  it('signs a ListObjects query', () => {
    const signed = s3({
      method: 'GET',
      host,
      path: '/',
      query: [
        ['prefix', 'J'],
        ['max-keys', '2'],
      ],
    });
    expect(signature(signed.headers.authorization)).toBe(
      '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
    );
  });

  it('changes the signature when the secret key is wrong', () => {
    const good = s3({ method: 'GET', host, path: '/test.txt' });
    const bad = signRequest(
      { method: 'GET', host, path: '/test.txt' },
      {
        credentials: { ...s3Creds, secretAccessKey: 'x' },
        region: 'us-east-1',
        service: 's3',
        date: new Date('2013-05-24T00:00:00Z'),
        contentSha256Header: true,
      },
    );
    expect(signature(bad.headers.authorization)).not.toBe(signature(good.headers.authorization));
  });
});
