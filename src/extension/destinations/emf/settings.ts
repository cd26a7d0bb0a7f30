import type { SettingSpec } from '../read.js';

export const EMF_NAMESPACE: SettingSpec = {
  name: 'OTEL_RELAY_EMF_NAMESPACE',
  description: 'CloudWatch namespace of the metrics; default: service.namespace, else service.name.',
};
export const EMF_DIMENSIONS: SettingSpec = {
  name: 'OTEL_RELAY_EMF_DIMENSIONS',
  description:
    'Comma-separated attribute keys used as dimensions (at most 30); default: every data point attribute plus service.name. Other attributes are written as plain properties.',
};
export const EMF_RESOLUTION: SettingSpec = {
  name: 'OTEL_RELAY_EMF_STORAGE_RESOLUTION',
  default: '60',
  description: '60 (standard) or 1 (high resolution).',
};
export const SETTINGS: readonly SettingSpec[] = [EMF_NAMESPACE, EMF_DIMENSIONS, EMF_RESOLUTION];
