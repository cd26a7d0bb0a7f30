// Time series -> the Prometheus text exposition format (version 0.0.4) for one Pushgateway group.
// The Pushgateway refuses pushed samples that carry timestamps, so each series is written once with
// its latest value; `job` and `instance` are the group's key (in the URL), not labels in the body.
import type { TimeSeries } from '../prometheusremotewrite/series.js';

export interface Group {
  job: string;
  instance: string;
  series: TimeSeries[];
}

/** Splits series by their job/instance labels, one group per push. */
export function groupSeries(series: readonly TimeSeries[]): Group[] {
  const groups = new Map<string, Group>();
  for (const s of series) {
    const job = s.labels.find(([k]) => k === 'job')?.[1] ?? '';
    const instance = s.labels.find(([k]) => k === 'instance')?.[1] ?? '';
    const key = `${job}\u0000${instance}`;
    let g = groups.get(key);
    if (!g) {
      g = { job, instance, series: [] };
      groups.set(key, g);
    }
    g.series.push(s);
  }
  return [...groups.values()];
}

const escapeValue = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

export function exposition(series: readonly TimeSeries[]): string {
  const lines: string[] = [];
  // Lines of one metric name must be together.
  const sorted = [...series].sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
  for (const s of sorted) {
    const last = s.samples[s.samples.length - 1];
    if (!last) continue;
    const labels = s.labels
      .filter(([k]) => k !== '__name__' && k !== 'job' && k !== 'instance')
      .map(([k, v]) => `${k}="${escapeValue(v)}"`)
      .join(',');
    lines.push(`${nameOf(s)}${labels ? `{${labels}}` : ''} ${formatValue(last.value)}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function nameOf(s: TimeSeries): string {
  return s.labels.find(([k]) => k === '__name__')?.[1] ?? '';
}

/** The group's URL path: base64url-encoded label values (`@base64`) so any value, `/` included, is safe. */
export function groupPath(g: { job: string; instance: string }): string {
  const b64 = (v: string) => (v === '' ? '=' : Buffer.from(v).toString('base64url'));
  return `/metrics/job@base64/${b64(g.job)}/instance@base64/${b64(g.instance)}`;
}
