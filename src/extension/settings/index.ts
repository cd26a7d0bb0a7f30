// The settings registry: every variable the extension reads, as one list (the docs page and its drift
// test read it), and the loaders that build the typed configuration from it.
import { DESTINATION_SETTINGS } from '../destinations/settings.js';
import type { Setting } from './registry.js';
import { FALLBACK_SETTINGS, RELAY_SETTINGS } from './relay.js';
import { STARTUP_SETTINGS } from './startup.js';

export { loadConfig, loadFallbackConfig } from './load.js';
export * from './registry.js';
export { formatFlushStrategy, parseFlushStrategy } from './relay.js';
export { isManagedInstances } from './startup.js';
export type * from './types.js';

/** Every setting, in the order the docs list them. */
export const ALL_SETTINGS: readonly Setting[] = [
  ...STARTUP_SETTINGS,
  ...RELAY_SETTINGS,
  ...DESTINATION_SETTINGS,
  ...FALLBACK_SETTINGS,
];
export { parseOtlpHeaders } from '../destinations/otlp/config.js';
