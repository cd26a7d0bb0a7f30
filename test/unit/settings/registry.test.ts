// The settings registry is the one description of what the extension reads: docs/configuration.md is
// generated from it, every entry is read by a loader, every variable the extension reads is an entry,
// and each documented default is the value used when the variable is unset.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderConfigurationPage } from '../../../src/extension/settings/docs.js';
import {
  ALL_SETTINGS,
  type Env,
  isManagedInstances,
  loadConfig,
  perSignalName,
} from '../../../src/extension/settings/index.js';

const root = resolve(import.meta.dirname, '../../..');
// S3 settings are read only when the S3 spill is on, so every probe runs with it on.
const BASE: Env = { OTEL_RELAY_FALLBACK_S3_URI: 's3://docs-bucket/prefix' };

function load(env: Env): { value: string; problems: string[] } {
  const r = loadConfig(env);
  return { value: JSON.stringify(r.config), problems: r.problems };
}

/** Whether the loaders react to `name` (a changed config, or a problem that names it). */
function configReads(name: string): boolean {
  // INSECURE applies only to a gRPC endpoint given without a scheme.
  const grpc = {
    ...BASE,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317',
  };
  for (const start of [BASE, grpc]) {
    const base = load(start);
    for (const probe of ['x-docs-probe', '12345', 'true', 'http://127.0.0.9:1234']) {
      const r = load({ ...start, [name]: probe });
      if (r.value !== base.value || r.problems.some((p) => p.includes(name))) return true;
    }
  }
  return false;
}

function sourceWithoutComments(folder: string): string {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('settings.ts') && !f.startsWith('settings/'))
    .map((f) =>
      readFileSync(join(root, folder, f), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:])\/\/.*$/gm, '$1'),
    )
    .join('\n');
}

/** Settings of a destination other than otlp: read by that destination's factory, not by loadConfig. */
const destinationOwn = (name: string) =>
  ALL_SETTINGS.some((s) => s.name === name && s.group === 'destinations') &&
  !/^OTEL_RELAY_(TRACES|METRICS|LOGS)_EXPORTER$/.test(name);

describe('settings registry', () => {
  it('is what docs/configuration.md says (run `npm run docs:config` after changing a setting)', () => {
    const page = readFileSync(join(root, 'docs/configuration.md'), 'utf8');
    const rendered = renderConfigurationPage(page);
    expect(rendered.missing, 'groups with no settings table on the page').toEqual([]);
    expect(page).toBe(rendered.page);
  });

  it('has each variable once', () => {
    const names = ALL_SETTINGS.map((s) => s.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    expect(names.length).toBeGreaterThan(35);
  });

  it('lists only variables that a loader reads', () => {
    const unread = ALL_SETTINGS.filter((s) => !destinationOwn(s.name)).flatMap((s) => {
      const names = s.perSignal
        ? [s.name, ...['traces', 'metrics', 'logs'].map((x) => perSignalName(s.name, x))]
        : [s.name];
      return names.filter((n) => !configReads(n));
    });
    expect(unread, 'in the registry but not read by loadConfig').toEqual([]);
  });

  it('lists every OTEL_* variable the extension reads', () => {
    const seen = new Set<string>();
    const env = new Proxy(BASE, {
      get(target, key) {
        if (typeof key === 'string') seen.add(key);
        return target[key as string];
      },
    });
    loadConfig(env);
    isManagedInstances(env);
    const source = sourceWithoutComments('src/extension') + sourceWithoutComments('src/aws');
    for (const m of source.matchAll(/\bOTEL_[A-Z0-9_]*[A-Z0-9]\b/g)) seen.add(m[0]);
    const known = new Set(
      ALL_SETTINGS.flatMap((s) =>
        s.perSignal
          ? [s.name, ...['traces', 'metrics', 'logs'].map((x) => perSignalName(s.name, x))]
          : [s.name],
      ),
    );
    const missing = [...seen].filter((n) => n.startsWith('OTEL_') && !known.has(n));
    expect(missing, 'read by src/extension but not in the registry').toEqual([]);
  });

  it('uses the documented default when a variable is unset (setting it to the default changes nothing)', () => {
    const base = load(BASE);
    const wrong: string[] = [];
    let checked = 0;
    for (const s of ALL_SETTINGS) {
      if (s.default === undefined || s.defaultText !== undefined || destinationOwn(s.name)) continue;
      checked++;
      const r = load({ ...BASE, [s.name]: s.parse.format(s.default) });
      if (r.value !== base.value || r.problems.length > 0)
        wrong.push(`${s.name}=${s.parse.format(s.default)}: ${r.problems.join(' ') || 'the config differs'}`);
    }
    expect(checked).toBeGreaterThan(20);
    expect(wrong).toEqual([]);
  });

  it('reads a switch the same way everywhere: 1/yes/on are true, 0/no/off false, anything else a problem', () => {
    for (const v of ['1', 'yes', 'on', 'TRUE']) {
      expect(isManagedInstances({ OTEL_RELAY_MANAGED_INSTANCES: v })).toBe(true);
      expect(loadConfig({ OTEL_RELAY_MANAGED_INSTANCES: v }).config.managedInstances).toBe(true);
    }
    const bad = loadConfig({ OTEL_RELAY_SELF_TELEMETRY: 'maybe' });
    expect(bad.config.selfTelemetry).toBe(true);
    expect(bad.problems).toEqual([
      'config: OTEL_RELAY_SELF_TELEMETRY=maybe is not true or false; using true',
    ]);
  });

  it('never quotes a secret setting in a problem line', () => {
    const r = loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%ZZsecret' });
    expect(r.problems.length).toBe(1);
    expect(r.problems.join('\n')).not.toContain('secret');
  });
});
