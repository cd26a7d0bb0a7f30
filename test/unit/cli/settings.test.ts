import { describe, expect, it } from 'vitest';
import {
  validateEndpoint,
  validateFlush,
  validateHeaders,
  validateS3Uri,
  validateSecretArn,
} from '../../../src/cli/lambda/settings.js';
import { UsageError } from '../../../src/cli/usage.js';
import { parseS3Uri } from '../../../src/extension/fallback/index.js';
import { parseFlushStrategy, parseOtlpHeaders } from '../../../src/extension/settings/index.js';

describe('relay settings given on the command line', () => {
  it('accepts every flush strategy the extension knows', () => {
    for (const s of ['adaptive', 'end', 'continuous', 'periodic:250', 'periodic:5s', 'periodic:250ms'])
      expect(validateFlush(s)).toBe(s);
  });

  it.each([
    'periodic:5s',
    'periodic:5000',
    'periodic:0',
    'periodic:5m',
    'periodic:',
    'Adaptive',
    'sometimes',
  ])('accepts --flush %s exactly when the extension does', (flush) => {
    if (parseFlushStrategy(flush) !== undefined) expect(validateFlush(flush)).toBe(flush);
    else expect(() => validateFlush(flush)).toThrow(UsageError);
  });

  it('rejects an unknown flush strategy with the list of valid ones', () => {
    expect(() => validateFlush('sometimes')).toThrow(UsageError);
    expect(() => validateFlush('periodic:0')).toThrow(/adaptive, end, continuous, periodic:<ms>/);
  });

  it.each([
    'x-api-key=abc,x-team=ops',
    'authorization=Bearer%20abc',
    'a=b,,c=d,',
    'a=',
    'supersecretvalue',
    'a=b,novalue',
    '=abc',
    'a=%E0%A4%A',
  ])('accepts --headers %j exactly when the extension uses every entry', (headers) => {
    if (parseOtlpHeaders(headers).problems.length === 0) expect(validateHeaders(headers)).toBe(headers);
    else expect(() => validateHeaders(headers)).toThrow(UsageError);
  });

  it('refuses headers the extension could not decode, without echoing them', () => {
    let message = '';
    try {
      validateHeaders('authorization=Bearer%zzsecret');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/not URL-encoded/);
    expect(message).not.toContain('secret');
  });

  it('accepts http(s) endpoints only', () => {
    expect(validateEndpoint('https://otlp.example.com:4318')).toBe('https://otlp.example.com:4318');
    expect(() => validateEndpoint('grpc://x:4317')).toThrow(/http:\/\/ or https:\/\//);
    expect(() => validateEndpoint('not a url')).toThrow(/is not a URL/);
  });

  it('rejects malformed headers without echoing their value', () => {
    expect(validateHeaders('x-api-key=abc,x-team=ops')).toBe('x-api-key=abc,x-team=ops');
    let message = '';
    try {
      validateHeaders('supersecretvalue');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/key=value pairs/);
    expect(message).not.toContain('supersecretvalue');
  });

  it.each([
    's3://my-bucket',
    's3://my-bucket/otel/',
    ' s3://my-bucket/p',
    's3://My_Bucket/p',
    's3://',
    'https://b/p',
  ])('accepts --fallback-s3-uri %j exactly when the extension does', (uri) => {
    const accepted = (() => {
      try {
        parseS3Uri(uri);
        return true;
      } catch {
        return false;
      }
    })();
    if (accepted) expect(validateS3Uri(uri)).toBe(uri);
    else expect(() => validateS3Uri(uri)).toThrow(UsageError);
  });

  it('checks S3 URIs, and takes a headers secret by ARN or by name as the extension does', () => {
    expect(validateS3Uri('s3://my-bucket/otel/')).toBe('s3://my-bucket/otel/');
    expect(() => validateS3Uri('https://my-bucket.s3.amazonaws.com/')).toThrow(/s3:\/\/bucket\/prefix/);
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:otlp-AbCdEf';
    expect(validateSecretArn(arn)).toBe(arn);
    // The extension passes the value to GetSecretValue as SecretId, which takes a name too.
    expect(validateSecretArn('otlp-headers')).toBe('otlp-headers');
    expect(validateSecretArn('team/otlp-headers')).toBe('team/otlp-headers');
    expect(() => validateSecretArn('otlp headers')).toThrow(
      /neither a Secrets Manager secret ARN nor a secret name/,
    );
    expect(() => validateSecretArn('arn:aws:s3:::bucket')).toThrow(UsageError);
  });
});
