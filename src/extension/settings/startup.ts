// The settings read before `register` (by run.ts and main.ts). Kept in their own small file so the code
// that runs before `register` loads no more than it needs; they are still entries of the one registry.
import { LOG_LEVELS, type LogLevel } from '../log.js';
import { boolean, type Env, oneOf, readSetting, type Setting, setting, text } from './registry.js';

export const EXTENSION_NAME = setting({
  name: 'OTEL_RELAY_EXTENSION_NAME',
  group: 'startup',
  default: 'otel-relay',
  parse: text,
  description:
    'The name the extension registers with; set by the launcher, it must equal the launcher file name in /opt/extensions.',
});

export const MANAGED_INSTANCES = setting({
  name: 'OTEL_RELAY_MANAGED_INSTANCES',
  group: 'startup',
  default: false,
  parse: boolean,
  description:
    'Forces Managed Instances mode (SHUTDOWN only, background flushes). Normally detected from `AWS_LAMBDA_INITIALIZATION_TYPE`.',
});

export const LOG_LEVEL = setting<LogLevel>({
  name: 'OTEL_RELAY_LOG_LEVEL',
  group: 'startup',
  default: 'info',
  parse: oneOf(LOG_LEVELS, true),
  description:
    "The relay's own log lines on stdout (CloudWatch Logs): `debug`, `info`, `warn`, `error` or `off`.",
});

export const STARTUP_SETTINGS: readonly Setting[] = [EXTENSION_NAME, MANAGED_INSTANCES, LOG_LEVEL];

/** Managed Instances: from Lambda's initialization type, or forced by the setting. The one rule. */
export function isManagedInstances(env: Env, problems: string[] = []): boolean {
  return (
    env.AWS_LAMBDA_INITIALIZATION_TYPE === 'lambda-managed-instances' ||
    readSetting(env, MANAGED_INSTANCES, problems)
  );
}
