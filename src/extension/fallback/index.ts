// Public surface of fallback/: the Delivery the extension plugs into its flush seam, and the pieces
// the `replay` CLI reuses (key layout, spool reader, config).
import type { DeliveryFactory } from '../export/types.js';
import { createFallbackDelivery } from './delivery.js';

/** main.ts calls this once at init (the seam in src/extension/export/types.ts). */
export const createDelivery: DeliveryFactory = (ctx) => createFallbackDelivery(ctx);

export type { FallbackConfig, S3SpillConfig } from '../settings/types.js';
export {
  createFallbackDelivery,
  type FallbackCounters,
  type FallbackDelivery,
  type FallbackDeliveryOptions,
} from './delivery.js';
export {
  hasDotSegment,
  minutePartition,
  objectKey,
  type ParsedObjectKey,
  parseObjectKey,
  parseS3Uri,
  type S3Location,
  uuidv7,
} from './s3-layout.js';
export { itemsText } from './spill.js';
export { listSpoolDir, parseSpoolName, Spool, type SpoolEntry, SpoolError } from './spool.js';
