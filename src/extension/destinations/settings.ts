// Every destination's settings, aggregated for the registry and the docs page WITHOUT loading any
// destination's code: each destination declares its entries in a small `<name>/settings.ts`.
// Add one line per destination.
import type { Setting } from '../settings/registry.js';
import { settings as kafka } from './kafka/settings.js';
import { settings as otlp } from './otlp/settings.js';
import { settings as postgres } from './postgres/settings.js';
import { settings as redis } from './redis/settings.js';

export const DESTINATION_SETTINGS: readonly Setting[] = [...otlp, ...kafka, ...redis, ...postgres];
