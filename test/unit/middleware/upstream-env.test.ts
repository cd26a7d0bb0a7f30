import { describe, expect, it } from 'vitest';
import { withoutUpstreamExporterEnv } from '../../../src/middleware/upstream-env.js';

function lambdaEnv(): NodeJS.ProcessEnv {
  return {
    AWS_LAMBDA_FUNCTION_NAME: 'orders-api',
    OTEL_SERVICE_NAME: 'orders',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318',
    OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer upstream-secret',
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-traces-key=t',
    OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '30000',
    OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'gzip',
    OTEL_EXPORTER_OTLP_CERTIFICATE: '/var/task/ca.pem',
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: '/var/task/key.pem',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
  };
}

describe('withoutUpstreamExporterEnv', () => {
  it('hides the upstream transport variables of every signal while the exporter is built', () => {
    // Prepare
    const env = lambdaEnv();

    // Act
    const seen = withoutUpstreamExporterEnv(() => Object.keys(env).sort(), env);

    // Assess: only the function's own and the data-shape variables were visible.
    expect(seen).toEqual([
      'AWS_LAMBDA_FUNCTION_NAME',
      'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
      'OTEL_SERVICE_NAME',
    ]);
  });

  it('puts every hidden variable back afterwards, also when the build throws', () => {
    const env = lambdaEnv();
    const build = () => {
      throw new Error('exporter config rejected');
    };

    expect(() => withoutUpstreamExporterEnv(build, env)).toThrow('exporter config rejected');
    expect(env).toEqual(lambdaEnv());
    expect(withoutUpstreamExporterEnv(() => 'built', env)).toBe('built');
    expect(env).toEqual(lambdaEnv());
  });
});
