// Every destination's settings, aggregated for the registry and the docs page WITHOUT loading any
// destination's code: each destination declares its entries in a small `<name>/settings.ts`.
// Add one line per destination.

import { settings as processors } from '../processors/settings.js';
import type { Setting } from '../settings/registry.js';
import { settings as awslogs } from './awslogs/settings.js';
import { settings as awsxray } from './awsxray/settings.js';
import { settings as emf } from './emf/settings.js';
import { settings as file } from './file/settings.js';
import { settings as kafka } from './kafka/settings.js';
import { settings as otlp } from './otlp/settings.js';
import { settings as postgres } from './postgres/settings.js';
import { settings as prometheusremotewrite } from './prometheusremotewrite/settings.js';
import { settings as pushgateway } from './pushgateway/settings.js';
import { settings as redis } from './redis/settings.js';
import { settings as zipkin } from './zipkin/settings.js';

export const DESTINATION_SETTINGS: readonly Setting[] = [
  ...otlp,
  ...kafka,
  ...redis,
  ...postgres,
  ...zipkin,
  ...prometheusremotewrite,
  ...pushgateway,
  ...emf,
  ...file,
  ...awsxray,
  ...awslogs,
  ...processors,
];
