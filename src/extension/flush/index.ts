// Public surface of flush/: the policy (pure), budgets, and the flusher.
export { createBudget, invokeFlushDeadline, type OwnedBudget } from './budget.js';
export { ABORT_GRACE_MS, Flusher, type FlushSummary } from './flusher.js';
export {
  ArrivalPredictor,
  type BufferView,
  type Decision,
  decideAtInvocationEnd,
  deferWithoutWaiting,
  exportAtInvokeStart,
  type PolicyLimits,
  type PolicyState,
} from './policy.js';
