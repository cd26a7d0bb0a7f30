// The Extensions API (/2020-01-01): register, the event long poll, the init and
// exit error calls, and delivery of INVOKE/SHUTDOWN events to a parked (or soon parked) extension.
import { randomUUID } from 'node:crypto';
import type { ApiRequest, Reply } from '../api-server.js';
import { header, parseRegistration, UUID_RE } from '../wire.js';
import { type ExtensionSlot, MAX_EXTENSIONS, type PendingEvent, type Sandbox } from './sandbox.js';

/** POST /extension/register: RIE's 403 errors, the internal-extension rule, the 10-extension limit. */
export function register(env: Sandbox, req: ApiRequest, reply: Reply): void {
  const name = header(req, 'lambda-extension-name');
  if (!name) return void reply.error(403, 'Extension.InvalidExtensionName', 'Empty extension name');
  const parsed = parseRegistration(req.body.toString('utf8'));
  if ('errorType' in parsed) return void reply.error(403, parsed.errorType, parsed.errorMessage);
  const wanted = parsed.events;
  let slot = env.slots.find((s) => s.name === name);
  if (!env.registrationOpen && !(slot && !slot.internal && env.phase === 'init')) {
    return void reply.error(
      403,
      'Extension.RegistrationClosed',
      'registration is closed: the runtime is already initialised',
    );
  }
  if (slot?.id) {
    return void reply.error(
      403,
      'Extension.InvalidExtensionState',
      `extension ${name} is already registered`,
    );
  }
  const lmi = env.mode === 'managed-instances';
  if (slot) {
    if (lmi && wanted.includes('INVOKE')) {
      return void reply.error(
        403,
        'Extension.InvalidEventType',
        'extensions cannot subscribe to INVOKE on Lambda Managed Instances',
      );
    }
  } else {
    // A name that is not a launched executable is an internal extension (RIE's rule).
    if (lmi && wanted.length) {
      return void reply.error(
        403,
        'Extension.InvalidEventType',
        'internal extensions cannot subscribe to events on Lambda Managed Instances',
      );
    }
    if (wanted.includes('SHUTDOWN')) {
      return void reply.error(
        403,
        'Extension.InvalidEventType',
        'internal extensions cannot subscribe to SHUTDOWN',
      );
    }
  }
  if (env.slots.filter((s) => s.id).length >= MAX_EXTENSIONS) {
    return void reply.error(
      403,
      'Extension.TooManyExtensions',
      `at most ${MAX_EXTENSIONS} extensions can register`,
    );
  }
  if (!slot) {
    slot = { name, internal: true, events: [], ready: false, crashed: false };
    env.slots.push(slot);
  }
  slot.id = randomUUID();
  slot.events = wanted;
  const features = (header(req, 'lambda-extension-accept-feature') ?? '').split(',').map((f) => f.trim());
  reply.json(
    200,
    {
      functionName: env.cfg.functionName,
      functionVersion: env.cfg.functionVersion,
      handler: env.cfg.handler,
      ...(features.includes('accountId') ? { accountId: env.cfg.accountId } : {}),
    },
    { 'Lambda-Extension-Identifier': slot.id },
  );
  env.poke();
}

/** The slot named by Lambda-Extension-Identifier, or undefined after answering 403. */
export function identify(env: Sandbox, req: ApiRequest, reply: Reply): ExtensionSlot | undefined {
  const id = header(req, 'lambda-extension-identifier');
  if (!id)
    return void reply.error(
      403,
      'Extension.MissingExtensionIdentifier',
      'Lambda-Extension-Identifier header is required',
    );
  if (!UUID_RE.test(id)) {
    return void reply.error(
      403,
      'Extension.InvalidExtensionIdentifier',
      `${id} is not an extension identifier`,
    );
  }
  const slot = env.slots.find((s) => s.id === id);
  if (!slot)
    return void reply.error(
      403,
      'Extension.UnknownExtensionIdentifier',
      `no extension is registered as ${id}`,
    );
  return slot;
}

/** GET /extension/event/next: marks the extension done with the previous phase and parks it. */
export function extensionNext(env: Sandbox, req: ApiRequest, reply: Reply): void {
  const slot = identify(env, req, reply);
  if (!slot) return;
  if (slot.reportedError) {
    return void reply.error(
      403,
      'Extension.InvalidExtensionState',
      `extension ${slot.name} reported ${slot.reportedError}; it must exit`,
    );
  }
  if (slot.parked && !slot.parked.done)
    slot.parked.error(403, 'Extension.InvalidExtensionState', 'a newer /next replaced this one');
  slot.ready = true;
  const inv = env.current;
  if (
    inv &&
    env.phase === 'invoke' &&
    slot.events.includes('INVOKE') &&
    !inv.extensionNext.has(slot.name) &&
    !slot.pending
  ) {
    inv.extensionNext.set(slot.name, req.receivedAt);
  }
  const pending = slot.pending;
  if (pending) {
    slot.pending = undefined;
    reply.raw(200, pending.body, pending.headers);
  } else {
    slot.parked = reply;
  }
  env.poke();
}

/** POST /extension/init/error and /exit/error: fails the phase; the extension must exit. */
export function extensionError(env: Sandbox, kind: 'init' | 'exit', req: ApiRequest, reply: Reply): void {
  const slot = identify(env, req, reply);
  if (!slot) return;
  const type = header(req, 'lambda-extension-function-error-type');
  if (!type)
    return void reply.error(
      403,
      'Extension.MissingHeader',
      'Lambda-Extension-Function-Error-Type header is required',
    );
  const errorType = kind === 'init' ? 'Extension.InitError' : 'Extension.ExitError';
  slot.reportedError = errorType;
  reply.json(202, { status: 'OK' });
  if (env.phase === 'init' || env.phase === 'invoke') {
    env.failure ??= { errorType, message: `extension ${slot.name} reported ${kind}/error ${type}` };
    env.poke();
  }
}

/** Answers the extension's parked /next with the event, or keeps it for its next /next. */
export function deliver(slot: ExtensionSlot, event: PendingEvent): void {
  if (slot.parked && !slot.parked.done) {
    slot.parked.raw(200, event.body, event.headers);
    slot.parked = undefined;
  } else {
    slot.pending = event;
  }
}
