// STUB owned by the `fallback` branch, which replaces this file: it must keep exporting
// `createDelivery: DeliveryFactory` (the seam in src/extension/export/types.ts). main.ts calls it once
// at init with the exporter, the environment, the clock and the logger.
import { createSingleAttemptDelivery } from '../export/delivery.js';
import type { DeliveryFactory } from '../export/types.js';

export const createDelivery: DeliveryFactory = (ctx) => createSingleAttemptDelivery(ctx);
