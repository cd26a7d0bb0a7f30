// The Telemetry API subscription (/2022-07-01); batching and delivery live in
// ../telemetry.ts.
import type { ApiRequest, Reply } from '../api-server.js';
import { parseSubscription } from '../telemetry.js';
import { identify } from './extensions-api.js';
import type { Sandbox } from './sandbox.js';

/** PUT /2022-07-01/telemetry: accepted only during Init, validated, then relayed. */
export function subscribe(env: Sandbox, req: ApiRequest, reply: Reply): void {
  const slot = identify(env, req, reply);
  if (!slot) return;
  if (!env.subscriptionOpen) {
    return void reply.error(403, 'Telemetry.SubscriptionClosed', 'Telemetry API subscription is closed');
  }
  let body: unknown;
  try {
    body = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    return void reply.error(
      400,
      'ValidationError',
      `subscription body is not JSON: ${(err as Error).message}`,
    );
  }
  const parsed = parseSubscription(body, { managedInstances: env.mode === 'managed-instances' });
  if ('error' in parsed) return void reply.error(400, 'ValidationError', parsed.error);
  env.relay.subscribe(slot.name, parsed.subscription);
  env.relay.emit('platform.telemetrySubscription', {
    name: slot.name,
    state: 'Subscribed',
    types: parsed.subscription.types,
  });
  reply.raw(200, JSON.stringify('OK'), { 'Content-Type': 'application/json' });
}
