import type { Batch, Delivery, DeliveryContext, DeliveryResult, FlushBudget } from './types.js';

/**
 * The simplest Delivery: one export attempt; what the collector did not take stays buffered for the
 * next flush. A definitive rejection (a 4xx other than 429: the collector says the data itself is bad)
 * is dropped, because re-sending it forever would block every batch behind it.
 */
export function isDefinitiveRejection(status: number | undefined): boolean {
  if (status === undefined) return false;
  // HTTP 4xx (429 is retryable and never gets here) or a gRPC code that is about the request itself:
  // INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, FAILED_PRECONDITION, UNIMPLEMENTED, UNAUTHENTICATED.
  if (status >= 400 && status < 500) return true;
  return [3, 5, 6, 7, 9, 12, 16].includes(status);
}

export function createSingleAttemptDelivery(ctx: DeliveryContext): Delivery {
  return {
    async deliver(batch: Batch, budget: FlushBudget): Promise<DeliveryResult> {
      const outcome = await ctx.exporter.export(batch.signal, batch.body, budget);
      switch (outcome.kind) {
        case 'success':
          return { kind: 'exported', items: batch.items, rejected: 0 };
        case 'partial':
          ctx.log.warn(`collector rejected ${outcome.rejected} of ${batch.items} ${batch.signal} items`, {
            message: outcome.message,
          });
          return { kind: 'exported', items: batch.items, rejected: outcome.rejected };
        case 'retryable':
          return { kind: 'retained', items: batch.items, reason: outcome.reason };
        case 'failed':
          if (isDefinitiveRejection(outcome.status)) {
            return { kind: 'dropped', items: batch.items, reason: outcome.reason };
          }
          return { kind: 'retained', items: batch.items, reason: outcome.reason };
      }
    },
  };
}
