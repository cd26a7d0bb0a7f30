// A schema check of one CloudWatch Embedded Metric Format log event, written from the specification's
// rules (not from the relay's encoder): the _aws metadata, namespaces, dimension sets of at most 30
// keys that each name a string member, at most 100 metrics per directive with known units, and at
// most 100 numeric values per metric.

const UNITS = new Set(
  'Seconds Microseconds Milliseconds Bytes Kilobytes Megabytes Gigabytes Terabytes Bits Kilobits Megabits Gigabits Terabits Percent Count Bytes/Second Kilobytes/Second Megabytes/Second Gigabytes/Second Terabytes/Second Bits/Second Kilobits/Second Megabits/Second Gigabits/Second Terabits/Second Count/Second None'.split(
    ' ',
  ),
);

/** The specification's rules for one EMF log event; returns every violation found. */
export function emfViolations(o: Record<string, unknown>): string[] {
  const bad: string[] = [];
  const aws = o._aws as Record<string, unknown> | undefined;
  if (!aws || typeof aws !== 'object') return ['_aws missing'];
  if (!Number.isInteger(aws.Timestamp) || (aws.Timestamp as number) < 0)
    bad.push('Timestamp not a non-negative integer');
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives) || directives.length === 0) return [...bad, 'CloudWatchMetrics empty'];
  for (const d of directives as Array<Record<string, unknown>>) {
    if (typeof d.Namespace !== 'string' || d.Namespace.length < 1 || d.Namespace.length > 255)
      bad.push('Namespace');
    if (!Array.isArray(d.Dimensions)) bad.push('Dimensions not an array');
    for (const set of (d.Dimensions ?? []) as unknown[]) {
      if (!Array.isArray(set)) bad.push('DimensionSet not an array');
      else {
        if (set.length > 30) bad.push(`DimensionSet of ${set.length} > 30`);
        for (const k of set)
          if (typeof o[k as string] !== 'string') bad.push(`dimension ${k} has no string member`);
      }
    }
    const metrics = d.Metrics as Array<Record<string, unknown>>;
    if (!Array.isArray(metrics)) bad.push('Metrics not an array');
    else {
      if (metrics.length > 100) bad.push(`${metrics.length} metrics > 100`);
      for (const m of metrics) {
        const name = m.Name as string;
        if (typeof name !== 'string' || name.length < 1 || name.length > 255) bad.push('metric Name');
        if (m.Unit !== undefined && !UNITS.has(m.Unit as string)) bad.push(`Unit ${m.Unit}`);
        if (m.StorageResolution !== undefined && m.StorageResolution !== 1 && m.StorageResolution !== 60)
          bad.push('StorageResolution');
        const v = o[name];
        const values = Array.isArray(v) ? v : [v];
        if (values.length > 100) bad.push(`${name} has ${values.length} values > 100`);
        if (!values.every((x) => typeof x === 'number' && Number.isFinite(x)))
          bad.push(`${name} value not a number`);
      }
    }
  }
  return bad;
}
