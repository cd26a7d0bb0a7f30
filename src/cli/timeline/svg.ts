// The timeline as a standalone SVG: invocation phases on one lane, the relay's flushes, exports and
// spills on another, both against one axis in milliseconds from the first thing drawn.
import type { RelayEventKind, TimelineModel, TimelinePhase } from './record.js';

const COLORS: Record<TimelinePhase['kind'] | RelayEventKind, string> = {
  init: '#9467bd',
  runtime: '#1f77b4',
  'post-runtime': '#ff7f0e',
  frozen: '#d9d9d9',
  flush: '#2ca02c',
  export: '#17becf',
  spill: '#d62728',
  error: '#8c564b',
};

const xmlText = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A "nice" tick step (1, 2 or 5 times a power of ten) for about `count` ticks over `span` ms. */
function tickStep(span: number, count = 8): number {
  const raw = Math.max(span / count, 1);
  const pow = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw;
}

export function renderTimeline(model: TimelineModel, title = 'lambda-otel-relay local run'): string {
  const width = 960;
  const left = 110;
  const right = 20;
  const lanes = { phases: 50, events: 110 };
  const height = 190;
  const times = [...model.phases.flatMap((p) => [p.start, p.end]), ...model.events.map((e) => e.at)];
  const t0 = times.length ? Math.min(...times) : 0;
  const t1 = times.length ? Math.max(...times) : 1;
  const span = Math.max(t1 - t0, 1);
  const x = (t: number) => left + ((t - t0) / span) * (width - left - right);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<title>${xmlText(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-weight="bold">${xmlText(title)}</text>`,
    `<text x="8" y="${lanes.phases + 14}">invocations</text>`,
    `<text x="8" y="${lanes.events + 14}">relay</text>`,
  ];
  const step = tickStep(span);
  for (let t = 0; t <= span; t += step) {
    const tx = x(t0 + t).toFixed(1);
    out.push(
      `<line x1="${tx}" y1="${lanes.phases - 6}" x2="${tx}" y2="${lanes.events + 30}" stroke="#eee"/>`,
    );
    out.push(`<text x="${tx}" y="${lanes.events + 44}" text-anchor="middle">${Math.round(t)} ms</text>`);
  }
  for (const p of model.phases) {
    const w = Math.max(x(p.end) - x(p.start), 1);
    out.push(
      `<rect class="phase ${p.kind}" x="${x(p.start).toFixed(1)}" y="${lanes.phases}" width="${w.toFixed(1)}" height="20" fill="${COLORS[p.kind]}">` +
        `<title>#${p.invocation} ${p.kind}: ${Math.round(p.end - p.start)} ms</title></rect>`,
    );
  }
  for (const e of model.events) {
    const ex = x(e.at).toFixed(1);
    out.push(
      `<path class="event ${e.kind}" d="M${ex} ${lanes.events} l6 10 l-6 10 l-6 -10 z" fill="${COLORS[e.kind]}">` +
        `<title>${Math.round(e.at - t0)} ms ${e.kind}: ${xmlText(e.text)}</title></path>`,
    );
  }
  const legend = Object.entries(COLORS);
  legend.forEach(([name, color], i) => {
    const lx = left + i * 105;
    out.push(`<rect x="${lx}" y="${height - 22}" width="10" height="10" fill="${color}"/>`);
    out.push(`<text x="${lx + 14}" y="${height - 13}">${name}</text>`);
  });
  out.push('</svg>', '');
  return out.join('\n');
}
