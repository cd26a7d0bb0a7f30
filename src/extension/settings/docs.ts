// The settings tables of docs/configuration.md, rendered from the registry so that the page cannot
// drift from what the extension reads. The page's prose is written by hand; each table sits between
// `<!-- settings: <group>[,<group>...] -->` and `<!-- /settings -->` and is replaced by
// `npm run docs:config` (a test fails when a table differs or a group has no table).
import { ALL_SETTINGS } from './index.js';
import type { Setting, SettingGroup } from './registry.js';

const REGION = /<!-- settings: ([a-z,]+) -->\n[\s\S]*?<!-- \/settings -->/g;

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function defaultCell(s: Setting): string {
  const t = s.defaultText;
  if (t === undefined) return `\`${s.parse.format(s.default)}\``;
  return t.includes('`') || t.startsWith('—') || /^[A-Z][a-z]/.test(t) ? t : `\`${t}\``;
}

/** One markdown table of the given groups' settings, in registry order. */
export function settingsTable(
  groups: readonly SettingGroup[],
  settings: readonly Setting[] = ALL_SETTINGS,
): string {
  const rows = settings.filter((s) => groups.includes(s.group));
  const lines = ['| variable | default | accepts | meaning |', '| --- | --- | --- | --- |'];
  for (const s of rows) {
    const name = s.perSignal ? `\`${s.name}\` (also per signal)` : `\`${s.name}\``;
    lines.push(`| ${name} | ${cell(defaultCell(s))} | ${cell(s.parse.expects)} | ${cell(s.description)} |`);
  }
  return lines.join('\n');
}

/** The page with every settings region re-rendered; `missing` lists groups no region shows. */
export function renderConfigurationPage(
  page: string,
  settings: readonly Setting[] = ALL_SETTINGS,
): { page: string; missing: SettingGroup[] } {
  const shown = new Set<string>();
  const out = page.replace(REGION, (_all, list: string) => {
    const groups = list.split(',') as SettingGroup[];
    for (const g of groups) shown.add(g);
    return `<!-- settings: ${list} -->\n${settingsTable(groups, settings)}\n<!-- /settings -->`;
  });
  const missing = [...new Set(settings.map((s) => s.group))].filter((g) => !shown.has(g));
  return { page: out, missing };
}
