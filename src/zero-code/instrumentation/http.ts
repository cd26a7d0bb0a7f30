// Loaded by the zero-code wrapper at Init: node:http/https CLIENT spans (incoming requests are the
// runtime's business, not the function's), without the platform's own loopback calls.
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';

export function create(platform: Set<string>) {
  return new HttpInstrumentation({
    disableIncomingRequestInstrumentation: true,
    ignoreOutgoingRequestHook: (req) => {
      const host = req.hostname ?? req.host ?? 'localhost';
      return platform.has(`${String(host).replace(/:\d+$/, '')}:${req.port ?? 80}`);
    },
  });
}
