// Loaded by the zero-code wrapper at Init: fetch() and undici CLIENT spans (diagnostics channels).
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';

export function create(platform: Set<string>) {
  return new UndiciInstrumentation({
    ignoreRequestHook: (req) => {
      try {
        return platform.has(new URL(req.origin).host);
      } catch {
        return false;
      }
    },
  });
}
