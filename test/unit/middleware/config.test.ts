import { describe, expect, it } from 'vitest';
import { localEndpoint, resolveConfig } from '../../../src/middleware/config.js';
import { logCapture } from '../../fixtures/middleware/harness.js';

describe('resolveConfig', () => {
  it('sends to the relay port on loopback and never to OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    const env = {
      OTEL_RELAY_HTTP_PORT: '14318',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318',
    };
    expect(resolveConfig({}, env).endpoint.href).toBe('http://127.0.0.1:14318/');
    expect(resolveConfig({}, {}).endpoint.href).toBe('http://127.0.0.1:4318/');
  });

  it('lets an explicit endpoint win over the environment', () => {
    expect(
      resolveConfig({ endpoint: 'http://127.0.0.1:9999/ignored/path' }, { OTEL_RELAY_HTTP_PORT: '1' })
        .endpoint.href,
    ).toBe('http://127.0.0.1:9999/');
  });

  it('logs a bad OTEL_RELAY_HTTP_PORT once and uses the default instead of failing', () => {
    const log = logCapture();
    const cfg = resolveConfig({ log: log.sink }, { OTEL_RELAY_HTTP_PORT: 'sometimes' });
    expect(cfg.endpoint.port).toBe('4318');
    expect(log.lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: expect.stringMatching(/OTEL_RELAY_HTTP_PORT=sometimes is not a port/),
      }),
    ]);
  });

  it('hands off after the response on demand, and before it on Managed Instances', () => {
    expect(resolveConfig({}, { AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' }).handoff).toBe('after-response');
    expect(resolveConfig({}, {}).handoff).toBe('after-response');
    expect(resolveConfig({}, { AWS_LAMBDA_INITIALIZATION_TYPE: 'lambda-managed-instances' }).handoff).toBe(
      'before-response',
    );
    expect(
      resolveConfig(
        { handoff: 'after-response' },
        { AWS_LAMBDA_INITIALIZATION_TYPE: 'lambda-managed-instances' },
      ).handoff,
    ).toBe('after-response');
  });

  it('sets up the SDK on its own unless OTEL_SDK_DISABLED=true or autoSetup is false', () => {
    expect(resolveConfig({}, {}).autoSetup).toBe(true);
    expect(resolveConfig({}, { OTEL_SDK_DISABLED: 'TRUE' }).autoSetup).toBe(false);
    expect(resolveConfig({}, { OTEL_SDK_DISABLED: 'false' }).autoSetup).toBe(true);
    expect(resolveConfig({ autoSetup: false }, {}).autoSetup).toBe(false);
  });

  it('reads the port with localEndpoint for setup as well', () => {
    expect(localEndpoint({ OTEL_RELAY_HTTP_PORT: '4999' }).port).toBe('4999');
  });
});
