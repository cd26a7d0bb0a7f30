// Making the invocation span the active context for the handler. wrapHandler runs the handler inside
// `context.with`. A middy middleware cannot: middy calls the handler itself, after `before`. So `before`
// enters the context with AsyncLocalStorage#enterWith, which reaches the handler when it happens in
// middy's synchronous start of the request, i.e. when otelRelay() is the first middleware and enters
// before any await. Our context manager stores a mutable cell, so `before` can enter the cell at once
// and fill it after awaiting (first-invocation setup) without losing the handler's context.
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, type ContextManager, context, ROOT_CONTEXT } from '@opentelemetry/api';

/** The value our AsyncLocalStorage holds: the active context, replaceable by the invocation that entered it. */
export interface ContextCell {
  ctx: Context;
}

/** An AsyncLocalStorage context manager whose stores are cells the middleware can enter and fill later. */
export class InvocationContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<ContextCell>();

  active(): Context {
    return this.storage.getStore()?.ctx ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const cb = thisArg == null ? fn : fn.bind(thisArg);
    return this.storage.run({ ctx }, cb as (...a: A) => ReturnType<F>, ...args);
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const manager = this;
    const fn = target as unknown as (...a: unknown[]) => unknown;
    return function (this: unknown, ...args: unknown[]) {
      return manager.with(ctx, () => fn.apply(this, args));
    } as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    return this;
  }

  /** Enters a fresh cell for the rest of the current async flow and returns it. */
  enterCell(ctx: Context): ContextCell {
    const cell = { ctx };
    this.storage.enterWith(cell);
    return cell;
  }
}

interface ForeignAsyncLocalStorageManager {
  _asyncLocalStorage?: { enterWith?: (ctx: Context) => void };
}

function registeredManager(): unknown {
  // `_getContextManager` is not public API; it is the only way to reach the registered manager.
  const api = context as unknown as { _getContextManager?: () => unknown };
  return api._getContextManager?.();
}

/**
 * Enters a context for the rest of the current async flow. With our manager: returns a cell to fill
 * later. With @opentelemetry/context-async-hooks' AsyncLocalStorageContextManager (its storage is not
 * public, hence the duck typing): enters `ctx` and returns 'entered'. Otherwise returns 'unsupported'.
 */
export function enterInvocationContext(ctx: Context): ContextCell | 'entered' | 'unsupported' {
  const manager = registeredManager();
  // Duck-typed: a second copy of this package (ESM beside CJS) has its own class.
  const ours = manager as Partial<InvocationContextManager> | undefined;
  if (typeof ours?.enterCell === 'function') return ours.enterCell(ctx);
  const als = (manager as ForeignAsyncLocalStorageManager | undefined)?._asyncLocalStorage;
  if (als && typeof als.enterWith === 'function') {
    als.enterWith(ctx);
    return 'entered';
  }
  return 'unsupported';
}
