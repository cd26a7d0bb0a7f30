// docs/configuration.md, rendered from the registry: the page cannot drift from what the extension
// reads (a test compares them; `npm run docs:config` rewrites the page).
import { ALL_SETTINGS } from './index.js';
import type { Setting, SettingGroup } from './registry.js';

const GROUPS: Record<SettingGroup, { title: string; intro: string }> = {
  startup: {
    title: 'Start-up',
    intro: 'Read before the extension registers with Lambda.',
  },
  receivers: {
    title: 'Receivers',
    intro: 'Where the function sends OTLP: loopback only, never reachable from outside the environment.',
  },
  buffer: { title: 'Buffer', intro: 'Memory the relay may hold across invocations.' },
  flush: {
    title: 'Flush',
    intro: 'When data leaves, and the time budget of every flush (shared by all destinations).',
  },
  destinations: {
    title: 'Destinations',
    intro:
      'Which destinations each signal goes to. The relay has its own variables, so that the SDK in the function, which reads `OTEL_TRACES_EXPORTER` and friends, is not reconfigured.',
  },
  export: {
    title: 'OTLP destination',
    intro:
      'The standard OTel exporter variables. Each `OTEL_EXPORTER_OTLP_*` variable marked "per signal" also exists as `OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_*`, which wins for that signal.',
  },
  fallback: {
    title: 'Fallback (S3 spill, /tmp spool, breaker)',
    intro: 'What happens to data a destination does not take. See [failure handling](failure-handling.md).',
  },
  telemetry: { title: 'Telemetry the relay makes', intro: 'Data the relay produces itself.' },
};

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function defaultCell(s: Setting): string {
  if (s.defaultText !== undefined)
    return s.defaultText.includes('`') || s.defaultText.startsWith('—')
      ? s.defaultText
      : `\`${s.defaultText}\``;
  return `\`${s.parse.format(s.default)}\``;
}

export function renderConfigurationPage(settings: readonly Setting[] = ALL_SETTINGS): string {
  const out: string[] = [
    '# Configuration',
    '',
    '<!-- Generated from src/extension/settings by `npm run docs:config`; do not edit by hand. -->',
    '',
    'Every setting is an environment variable of the function (extensions share it). An invalid value never stops the relay: it logs one `config:` line naming the variable, what it expects, and the value used instead, and counts it in `otel_relay.config.problems`.',
    '',
    '```sh',
    'aws lambda update-function-configuration --function-name my-fn \\',
    '  --environment "Variables={OTEL_EXPORTER_OTLP_ENDPOINT=https://collector.example.com:4318,OTEL_RELAY_FLUSH=adaptive,OTEL_RELAY_FALLBACK_S3_URI=s3://my-bucket/otel}"',
    '```',
    '',
  ];
  for (const [group, { title, intro }] of Object.entries(GROUPS) as [
    SettingGroup,
    (typeof GROUPS)[SettingGroup],
  ][]) {
    const rows = settings.filter((s) => s.group === group);
    if (rows.length === 0) continue;
    out.push(
      `## ${title}`,
      '',
      intro,
      '',
      '| variable | default | accepts | description |',
      '| --- | --- | --- | --- |',
    );
    for (const s of rows) {
      const name = s.perSignal ? `\`${s.name}\` (per signal)` : `\`${s.name}\``;
      out.push(`| ${name} | ${cell(defaultCell(s))} | ${cell(s.parse.expects)} | ${cell(s.description)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
