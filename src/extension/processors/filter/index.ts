// filter: removes items on purpose, by span name, metric name, log severity or attribute value.
// What it removes is counted as `filtered` (reason `filter`), never as dropped.
import { attributes, attributeText } from '../../destinations/model.js';
import { DestinationSettingError, type SettingContext, settingReader } from '../../destinations/read.js';
import { DecodedBatch, type ItemView } from '../items.js';
import { pairs, regex, regexList } from '../parse.js';
import {
  FILTER_ATTRIBUTES,
  FILTER_METRIC_NAMES,
  FILTER_MIN_SEVERITY,
  FILTER_SPAN_NAMES,
} from '../settings.js';
import type { Processor, Signal } from '../types.js';

const SEVERITIES: Record<string, number> = { TRACE: 1, DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17, FATAL: 21 };

export function parseSeverity(raw: string | undefined): number | undefined {
  if (!raw?.trim()) return undefined;
  const v = raw.trim().toUpperCase();
  const n = SEVERITIES[v] ?? Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 24)
    throw new DestinationSettingError(
      `${FILTER_MIN_SEVERITY.name}=${JSON.stringify(raw)} is not TRACE, DEBUG, INFO, WARN, ERROR, FATAL or 1-24`,
    );
  return n;
}

export interface FilterRules {
  spanNames: RegExp[];
  metricNames: RegExp[];
  minSeverity?: number;
  attributes: Array<[string, RegExp]>;
}

export function filterRules(ctx: SettingContext): FilterRules {
  const read = settingReader(ctx);
  return {
    spanNames: regexList(read(FILTER_SPAN_NAMES), FILTER_SPAN_NAMES),
    metricNames: regexList(read(FILTER_METRIC_NAMES), FILTER_METRIC_NAMES),
    minSeverity: parseSeverity(read(FILTER_MIN_SEVERITY)),
    attributes: pairs(read(FILTER_ATTRIBUTES), FILTER_ATTRIBUTES).map(([k, p]): [string, RegExp] => [
      k,
      regex(p, FILTER_ATTRIBUTES),
    ]),
  };
}

/** Whether the rules remove this item. */
export function removes(rules: FilterRules, v: ItemView): boolean {
  if (v.signal === 'traces' && rules.spanNames.some((r) => r.test(String(v.item.name ?? '')))) return true;
  if (v.signal === 'metrics' && rules.metricNames.some((r) => r.test(v.metric?.name ?? ''))) return true;
  if (v.signal === 'logs' && rules.minSeverity !== undefined) {
    const sev = Number(v.item.severityNumber ?? 0);
    if (sev > 0 && sev < rules.minSeverity) return true;
  }
  if (rules.attributes.length > 0) {
    const all = {
      ...attributes(v.resource.attributes),
      ...attributes(v.scope.attributes),
      ...attributes(v.item.attributes),
    };
    for (const [k, r] of rules.attributes) {
      const value = all[k];
      if (value !== undefined && r.test(attributeText(value))) return true;
    }
  }
  return false;
}

export function createFilterProcessor(ctx: SettingContext, signals: ReadonlySet<Signal>): Processor {
  const rules = filterRules(ctx);
  return {
    name: 'filter',
    signals,
    async process(batch) {
      const d = await DecodedBatch.of(batch);
      const removed = d.retain((v) => !removes(rules, v));
      if (removed === 0) return { batch, filtered: 0 };
      return { batch: d.toBatch(removed), filtered: removed, reason: 'filter' };
    },
  };
}
