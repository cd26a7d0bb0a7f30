import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { ensurePythonVenv } from '../setup/peers.mjs';

const script = resolve(import.meta.dirname, '../peers/python/export_otlp.py');

export interface PythonExportOptions {
  /** http/protobuf: base URL (`http://127.0.0.1:P`); grpc: `http://127.0.0.1:Q`. */
  endpoint: string;
  protocol: 'http/protobuf' | 'grpc';
  /** Spans in one trace (a root and N-1 children), each exported in its own request. */
  spans?: number;
  logs?: number;
  /** One counter data point, `python.count` = 3. */
  metrics?: boolean;
  service?: string;
  /** Per-export timeout inside the SDK, seconds. Default 10. */
  timeoutS?: number;
}

export interface PythonExportResult {
  /** Every export the SDK attempted succeeded. */
  ok: boolean;
  traceId: string | null;
  spanIds: string[];
  logBodies: string[];
  exported: Record<'traces' | 'logs' | 'metrics', { ok: number; failed: number }>;
  /** The SDK's own complaints (retries, failures). */
  stderr: string;
}

/**
 * Exports telemetry with the real OpenTelemetry Python SDK (from the project venv), for checking that
 * a non-JavaScript client interoperates. Resolves with what was attempted and whether it succeeded;
 * rejects only if the script itself could not run.
 */
export async function exportWithPythonSdk(opts: PythonExportOptions): Promise<PythonExportResult> {
  const venv = await ensurePythonVenv();
  const args = JSON.stringify({
    endpoint: opts.endpoint,
    protocol: opts.protocol,
    spans: opts.spans ?? 0,
    logs: opts.logs ?? 0,
    metrics: opts.metrics ?? false,
    service: opts.service ?? 'python-client',
    timeout_s: opts.timeoutS ?? 10,
  });
  // The SDK retries with backoff for up to its timeout per export; allow for every export plus startup.
  const deadlineMs = 30_000 + (opts.timeoutS ?? 10) * 1000 * ((opts.spans ?? 0) + (opts.logs ?? 0) + 1);
  return new Promise((resolvePromise, reject) => {
    execFile(
      venv.python,
      [script, args],
      { timeout: deadlineMs, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
      (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        let parsed: Omit<PythonExportResult, 'ok' | 'stderr'>;
        try {
          parsed = JSON.parse(line) as Omit<PythonExportResult, 'ok' | 'stderr'>;
        } catch {
          reject(
            new Error(
              `python-otel: export_otlp.py printed no result (${err?.message ?? 'no error'})\n${stderr}`,
              { cause: err },
            ),
          );
          return;
        }
        resolvePromise({ ...parsed, ok: !err, stderr });
      },
    );
  });
}
