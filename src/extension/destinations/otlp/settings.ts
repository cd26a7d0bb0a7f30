// The OTLP destination's settings: the standard OTel exporter variables (each also per signal,
// OTEL_EXPORTER_OTLP_<SIGNAL>_*) and the relay's secret-headers source.
import {
  boolean,
  oneOf,
  optionalText,
  positiveNumber,
  type Setting,
  setting,
} from '../../settings/registry.js';

export const OTLP_ENDPOINT = setting({
  name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
  group: 'export',
  default: undefined as string | undefined,
  defaultText: '`http://localhost:4318` (`:4317` for grpc)',
  parse: optionalText,
  perSignal: true,
  description:
    'The collector. For http the general endpoint is a base (`/v1/<signal>` is appended); a per-signal endpoint is used as is. Never the relay itself: an endpoint that resolves to its own receiver is refused.',
});
export const OTLP_PROTOCOL = setting({
  name: 'OTEL_EXPORTER_OTLP_PROTOCOL',
  group: 'export',
  default: 'http/protobuf' as 'http/protobuf' | 'grpc' | 'http/json',
  parse: oneOf(['http/protobuf', 'grpc', 'http/json'] as const),
  perSignal: true,
  description: '`http/protobuf` or `grpc` (`http/json` is accepted and sent as protobuf).',
});
export const OTLP_HEADERS = setting({
  name: 'OTEL_EXPORTER_OTLP_HEADERS',
  group: 'export',
  default: undefined as string | undefined,
  defaultText: '—',
  parse: optionalText,
  perSignal: true,
  secret: true,
  description:
    '`key=value,key2=value2` (URL-encoded), e.g. auth; per-signal headers are merged over these. Never logged.',
});
export const OTLP_COMPRESSION = setting({
  name: 'OTEL_EXPORTER_OTLP_COMPRESSION',
  group: 'export',
  default: 'gzip' as 'gzip' | 'none',
  parse: oneOf(['gzip', 'none'] as const),
  perSignal: true,
  description: '`gzip` or `none`.',
});
export const OTLP_TIMEOUT = setting({
  name: 'OTEL_EXPORTER_OTLP_TIMEOUT',
  group: 'export',
  default: 10_000,
  parse: positiveNumber,
  perSignal: true,
  description: 'ms per export attempt; always further capped by the flush budget.',
});
export const OTLP_INSECURE = setting({
  name: 'OTEL_EXPORTER_OTLP_INSECURE',
  group: 'export',
  default: false,
  defaultText: 'false (TLS)',
  parse: boolean,
  perSignal: true,
  description:
    'gRPC only, for an endpoint given without a scheme (`collector:4317`): `true` = plaintext, else TLS.',
});
export const OTLP_CERTIFICATE = setting({
  name: 'OTEL_EXPORTER_OTLP_CERTIFICATE',
  group: 'export',
  default: undefined as string | undefined,
  defaultText: "Node's bundled CAs",
  parse: optionalText,
  perSignal: true,
  description: 'PEM file of the CA(s) that verify an `https` collector (HTTP and gRPC).',
});
export const OTLP_CLIENT_CERTIFICATE = setting({
  name: 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
  group: 'export',
  default: undefined as string | undefined,
  defaultText: '—',
  parse: optionalText,
  perSignal: true,
  description: 'PEM client certificate for mutual TLS; needs `OTEL_EXPORTER_OTLP_CLIENT_KEY`.',
});
export const OTLP_CLIENT_KEY = setting({
  name: 'OTEL_EXPORTER_OTLP_CLIENT_KEY',
  group: 'export',
  default: undefined as string | undefined,
  defaultText: '—',
  parse: optionalText,
  perSignal: true,
  description: 'PEM private key of the client certificate.',
});
export const HEADERS_SECRET_ARN = setting({
  name: 'OTEL_RELAY_HEADERS_SECRET_ARN',
  group: 'export',
  default: undefined as string | undefined,
  defaultText: '—',
  parse: optionalText,
  description:
    'Secrets Manager secret (ARN or name) holding more OTLP headers (the `OTEL_EXPORTER_OTLP_HEADERS` format or a JSON object), merged over the static ones. Nothing is exported until it has been read.',
});

export const settings: readonly Setting[] = [
  OTLP_ENDPOINT,
  OTLP_PROTOCOL,
  OTLP_HEADERS,
  OTLP_COMPRESSION,
  OTLP_TIMEOUT,
  OTLP_INSECURE,
  OTLP_CERTIFICATE,
  OTLP_CLIENT_CERTIFICATE,
  OTLP_CLIENT_KEY,
  HEADERS_SECRET_ARN,
];
