// The "invocation done" hand-off to the extension: POST /relay/v1/invocations/<requestId>/done -> 204.
// It tells the extension that everything this invocation produced has been handed over, so it can
// decide to flush (or not) and call /next without waiting for platform.runtimeDone (>= 25 ms later).
// Loopback, keep-alive, and bounded by a deadline. If nothing listens (no layer), the first refusal is
// logged once and every later call returns at once: a function without the layer pays nothing.
import { Agent, request } from 'node:http';
import { errorMessage, type RelayLog } from './log.js';

export type HandoffOutcome = 'delivered' | 'absent' | 'failed';

export class ExtensionHandoff {
  /** Set once the extension has refused a connection; it does not come back within this process. */
  private refused = false;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  private readonly host: string;
  private readonly port: number;

  constructor(
    readonly endpoint: URL,
    private readonly log: RelayLog,
  ) {
    this.host = endpoint.hostname;
    this.port = Number(endpoint.port || 80);
  }

  /** True once a connection was refused: there is no extension to hand anything to. */
  get absent(): boolean {
    return this.refused;
  }

  /** Signals the end of invocation `requestId`; never throws, never waits past `timeoutMs`. */
  signalDone(requestId: string, timeoutMs: number): Promise<HandoffOutcome> {
    if (this.absent) return Promise.resolve('absent');
    return new Promise<HandoffOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: HandoffOutcome) => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      const req = request(
        {
          host: this.host,
          port: this.port,
          method: 'POST',
          path: `/relay/v1/invocations/${encodeURIComponent(requestId)}/done`,
          agent: this.agent,
          headers: { 'content-length': '0' },
        },
        (res) => {
          res.resume();
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) finish('delivered');
          else {
            this.log.once(
              `done-status-${status}`,
              'warn',
              `the extension answered ${status} to the invocation-done signal; it will wait for the platform's ` +
                'runtimeDone event instead (telemetry is kept, the hand-off is up to ~25 ms slower)',
              { requestId, status },
            );
            finish('failed');
          }
        },
      );
      req.setTimeout(Math.max(1, timeoutMs), () => {
        req.destroy(new Error(`no answer within ${timeoutMs} ms`));
      });
      req.on('error', (err) => {
        if ((err as { code?: string }).code === 'ECONNREFUSED') {
          this.refused = true;
          this.log.once(
            'absent',
            'warn',
            `no otel-relay extension listens on ${this.endpoint.origin}; telemetry from this function is not ` +
              'exported (add the lambda-otel-relay layer). Not trying again in this environment.',
          );
          finish('absent');
          return;
        }
        this.log.once('done-error', 'warn', 'the invocation-done signal did not reach the extension', {
          requestId,
          error: errorMessage(err),
        });
        finish('failed');
      });
      req.end();
    });
  }
}

/**
 * One hand-off per extension endpoint for the whole process: whether the extension is there is a fact
 * about the execution environment, shared by every middleware and wrapper in it.
 */
const handoffs = new Map<string, ExtensionHandoff>();

export function handoffFor(endpoint: URL, log: RelayLog): ExtensionHandoff {
  let h = handoffs.get(endpoint.origin);
  if (!h) {
    h = new ExtensionHandoff(endpoint, log);
    handoffs.set(endpoint.origin, h);
  }
  return h;
}
