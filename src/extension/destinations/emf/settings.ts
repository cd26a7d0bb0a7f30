import { oneOf, optionalText, type Setting, setting } from '../../settings/registry.js';

export const EMF_NAMESPACE = setting({
  name: 'OTEL_RELAY_EMF_NAMESPACE',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: '`service.namespace`, else `service.name`',
  parse: optionalText,
  description: 'CloudWatch namespace of the metrics written by `emf`.',
});
export const EMF_DIMENSIONS = setting({
  name: 'OTEL_RELAY_EMF_DIMENSIONS',
  group: 'destinations',
  default: undefined as string | undefined,
  defaultText: 'every data point attribute and `service.name`',
  parse: optionalText,
  description:
    'Comma-separated attribute keys used as EMF dimensions (at most 30); other attributes are written as plain properties.',
});
export const EMF_RESOLUTION = setting({
  name: 'OTEL_RELAY_EMF_STORAGE_RESOLUTION',
  group: 'destinations',
  default: '60' as '60' | '1',
  parse: oneOf(['60', '1'] as const),
  description: '`60` (standard) or `1` (high resolution) for the metrics written by `emf`.',
});
export const settings: readonly Setting[] = [EMF_NAMESPACE, EMF_DIMENSIONS, EMF_RESOLUTION];
