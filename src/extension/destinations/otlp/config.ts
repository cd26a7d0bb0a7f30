// The OTLP destination's endpoints, one per signal, from the standard OTel exporter variables (read
// through the settings registry: per-signal first, then general).
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { Signal } from '../../../otlp/index.js';
import { redactEndpoint } from '../../redact.js';
import { type Env, rawValue, readPerSignal } from '../../settings/registry.js';
import type { ExportProtocol, SignalEndpoint, TlsFiles } from '../../settings/types.js';
import {
  OTLP_CERTIFICATE,
  OTLP_CLIENT_CERTIFICATE,
  OTLP_CLIENT_KEY,
  OTLP_COMPRESSION,
  OTLP_ENDPOINT,
  OTLP_HEADERS,
  OTLP_INSECURE,
  OTLP_PROTOCOL,
  OTLP_TIMEOUT,
} from './settings.js';

/**
 * Headers in the `OTEL_EXPORTER_OTLP_HEADERS` format: `key=value` pairs separated by commas, both
 * URL-encoded; keys lowercased. A bad entry is skipped and described by its position only: the value
 * may be a secret, so problems never quote it.
 */
export function parseOtlpHeaders(raw: string): { headers: Record<string, string>; problems: string[] } {
  const headers: Record<string, string> = {};
  const problems: string[] = [];
  const pairs = raw.split(',');
  pairs.forEach((pair, index) => {
    if (pair.trim() === '') return;
    const i = pair.indexOf('=');
    if (i <= 0) {
      problems.push('has an entry without "key=value"; it is ignored');
      return;
    }
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(pair.slice(0, i).trim()).toLowerCase();
      value = decodeURIComponent(pair.slice(i + 1).trim());
    } catch {
      problems.push('has an entry that is not URL-encoded; it is ignored');
      return;
    }
    // A header the HTTP client would refuse would fail every export forever: refuse it here, once.
    try {
      validateHeaderName(name);
    } catch {
      problems.push(`has a header name that is not a valid HTTP token (entry ${index + 1}); it is ignored`);
      return;
    }
    try {
      validateHeaderValue(name, value);
    } catch {
      problems.push(`has an invalid value for header ${name}; it is ignored`);
      return;
    }
    headers[name] = value;
  });
  return { headers, problems };
}

/** Connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2): a gRPC request carrying one fails. */
const HTTP2_FORBIDDEN_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
  'te',
]);

const addOnce = (problems: string[], p: string) => {
  if (!problems.includes(p)) problems.push(p);
};

/** The OTel exporter variables, per-signal first (OTEL_EXPORTER_OTLP_TRACES_*) then general. */
export function signalEndpoint(env: Env, signal: Signal, problems: string[]): SignalEndpoint {
  let protocol: ExportProtocol = 'http/protobuf';
  const p = readPerSignal(env, OTLP_PROTOCOL, signal, problems);
  if (p.value === 'http/json')
    problems.push(
      `config: ${p.name}=http/json is not supported for export; sending ${signal} as http/protobuf (same endpoint)`,
    );
  else protocol = p.value;

  const defaultOrigin = protocol === 'grpc' ? 'http://localhost:4317' : 'http://localhost:4318';
  let url = new URL(protocol === 'grpc' ? defaultOrigin : `${defaultOrigin}/v1/${signal}`);
  const e = readPerSignal(env, OTLP_ENDPOINT, signal, problems);
  if (e.value !== undefined) {
    try {
      let endpoint = e.value;
      // A gRPC endpoint without a scheme (`collector:4317`, as gRPC clients accept) gets one from
      // OTEL_EXPORTER_OTLP_[SIGNAL_]INSECURE, as the OTel spec says: https unless it is true.
      if (protocol === 'grpc' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint)) {
        const insecure = readPerSignal(env, OTLP_INSECURE, signal, problems).value;
        endpoint = `${insecure ? 'http' : 'https'}://${endpoint}`;
      }
      const parsed = new URL(endpoint);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http(s)');
      if (protocol === 'grpc' || e.specific) url = parsed;
      else {
        // The general endpoint is a base: the signal path is appended (OTel spec).
        const base = parsed.href.endsWith('/') ? parsed.href : `${parsed.href}/`;
        url = new URL(`v1/${signal}`, base);
      }
    } catch {
      problems.push(
        `config: ${e.name}=${redactEndpoint(e.value)} is not an http(s) URL; ${signal} go to ${url.href}`,
      );
    }
  }

  const headers: Record<string, string> = {};
  for (const name of [OTLP_HEADERS.name, `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_HEADERS`]) {
    const raw = rawValue(env, name);
    if (raw === undefined) continue;
    const parsed = parseOtlpHeaders(raw);
    Object.assign(headers, parsed.headers);
    for (const p of parsed.problems) addOnce(problems, `config: ${name} ${p}`);
  }
  if (protocol === 'grpc') {
    for (const name of Object.keys(headers)) {
      if (!HTTP2_FORBIDDEN_HEADERS.has(name)) continue;
      delete headers[name];
      addOnce(problems, `config: header ${name} is not allowed over gRPC (HTTP/2); it is not sent`);
    }
  }

  const compression = readPerSignal(env, OTLP_COMPRESSION, signal, problems).value;
  const timeoutMs = readPerSignal(env, OTLP_TIMEOUT, signal, problems).value;
  const endpoint: SignalEndpoint = { url, protocol, headers, compression, timeoutMs };
  const tls: TlsFiles = {};
  const ca = readPerSignal(env, OTLP_CERTIFICATE, signal, problems);
  if (ca.value !== undefined) tls.certificate = ca.value;
  const cert = readPerSignal(env, OTLP_CLIENT_CERTIFICATE, signal, problems);
  const key = readPerSignal(env, OTLP_CLIENT_KEY, signal, problems);
  if (cert.value !== undefined && key.value !== undefined) {
    tls.clientCertificate = cert.value;
    tls.clientKey = key.value;
  } else if (cert.value !== undefined || key.value !== undefined) {
    const missing = cert.value !== undefined ? OTLP_CLIENT_KEY.name : OTLP_CLIENT_CERTIFICATE.name;
    problems.push(
      `config: ${cert.name ?? key.name} is set but ${missing} is not; ${signal} are sent without a client certificate`,
    );
  }
  if (Object.keys(tls).length > 0) endpoint.tls = tls;
  return endpoint;
}
