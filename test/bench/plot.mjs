#!/usr/bin/env node
// Draws the peers bench's sweeps as SVG: extension CPU, memory, duration and collector requests against
// spans per invocation and against concurrent environments, one line per variant; and prints the peers
// and outage rows as Markdown tables (what docs/benchmarks.md shows).
//   npm run bench -- --only=peers --json > peers.json
//   node test/bench/plot.mjs peers.json [outDir]       (default outDir: docs/benchmarks)
// Uses only Node built-ins.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PANELS = [
  ['extensionCpuMsPerInvocation', 'extension CPU per invocation (ms)'],
  ['maxMemoryUsedMB', 'Max Memory Used (MB)'],
  ['durationP50Ms', 'duration p50 (ms)'],
  ['exportRequests', 'collector export requests'],
];
const COLORS = { relay: '#1b7837', 'otel-collector': '#762a83', 'otel-collector-batch': '#e08214' };
const W = 360;
const H = 240;
const M = { left: 56, right: 12, top: 28, bottom: 40 };

/** The bench document in a file that may hold other output before it (npm's banner, build lines). */
export function readBenchDocument(text) {
  const start = text.search(/^\{$/m);
  if (start < 0) throw new Error('plot: no JSON document (a line with only "{") in the input');
  return JSON.parse(text.slice(start));
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** One panel: y linear from 0, x on a log scale (the sweeps grow by factors). */
function panel(points, xKey, yKey, title, ox, oy) {
  const xs = [...new Set(points.map((p) => p[xKey]))].sort((a, b) => a - b);
  const lx = (x) => Math.log10(x);
  const [x0, x1] = [lx(xs[0]), lx(xs.at(-1))];
  const ymax = niceMax(Math.max(...points.map((p) => Number(p[yKey]) || 0)));
  const px = (x) => ox + M.left + ((lx(x) - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const py = (y) => oy + H - M.bottom - (y / ymax) * (H - M.top - M.bottom);
  const out = [
    `<text x="${ox + W / 2}" y="${oy + 16}" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
  ];
  out.push(
    `<line x1="${px(xs[0])}" y1="${py(0)}" x2="${px(xs.at(-1))}" y2="${py(0)}" stroke="#999"/>`,
    `<line x1="${px(xs[0])}" y1="${py(0)}" x2="${px(xs[0])}" y2="${py(ymax)}" stroke="#999"/>`,
  );
  for (const x of xs) {
    out.push(`<text x="${px(x)}" y="${py(0) + 14}" text-anchor="middle">${x.toLocaleString('en')}</text>`);
  }
  for (const f of [0, 0.5, 1]) {
    out.push(
      `<text x="${px(xs[0]) - 4}" y="${py(ymax * f) + 4}" text-anchor="end">${+(ymax * f).toPrecision(3)}</text>`,
    );
  }
  for (const variant of Object.keys(COLORS)) {
    const line = points.filter((p) => p.variant === variant && typeof p[yKey] === 'number');
    if (line.length === 0) continue;
    const d = line
      .map((p, i) => `${i ? 'L' : 'M'}${px(p[xKey]).toFixed(1)},${py(p[yKey]).toFixed(1)}`)
      .join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${COLORS[variant]}" stroke-width="2"/>`);
    for (const p of line)
      out.push(`<circle cx="${px(p[xKey])}" cy="${py(p[yKey])}" r="3" fill="${COLORS[variant]}"/>`);
  }
  return out.join('\n');
}

/** A 2×2 grid of the four panels for one sweep, with a legend and the x axis named once. */
export function sweepSvg(points, xKey, xLabel, caption) {
  const width = 2 * W;
  const height = 2 * H + 60;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<title>${esc(`extension CPU, memory, duration and collector requests against ${xLabel}`)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  PANELS.forEach(([key, title], i) => {
    parts.push(panel(points, xKey, key, title, (i % 2) * W, Math.floor(i / 2) * H));
  });
  let lx = 12;
  for (const [variant, color] of Object.entries(COLORS)) {
    if (!points.some((p) => p.variant === variant)) continue;
    parts.push(
      `<rect x="${lx}" y="${2 * H + 14}" width="12" height="12" fill="${color}"/>`,
      `<text x="${lx + 16}" y="${2 * H + 24}">${esc(variant)}</text>`,
    );
    lx += 160;
  }
  parts.push(
    `<text x="${width - 12}" y="${2 * H + 24}" text-anchor="end">x: ${esc(xLabel)} (log scale)</text>`,
  );
  parts.push(`<text x="12" y="${2 * H + 48}" fill="#555">${esc(caption)}</text>`, '</svg>');
  return parts.join('\n');
}

const fmt = (s) =>
  s === null || s === undefined
    ? ''
    : typeof s === 'number'
      ? `${Math.round(s * 10) / 10}`
      : s.median === null
        ? ''
        : s.min === s.max
          ? `${s.median}`
          : `${s.median} (${s.min}–${s.max})`;

/** The peers rows (median, min–max over rounds) as a Markdown table. */
export function peersMarkdown(peers) {
  const cols = [
    ['variant', (r) => `\`${r.variant}\``],
    ['MB', (r) => r.memoryMb],
    ['Init ms', (r) => fmt(r.initMs)],
    ['duration p50 ms', (r) => fmt(r.durationP50Ms)],
    ['duration p99 ms', (r) => fmt(r.durationP99Ms)],
    ['post-runtime p50 ms', (r) => fmt(r.postRuntimeP50Ms)],
    ['billed ms, sum', (r) => fmt(r.billedSumMs)],
    ['Max Memory Used MB', (r) => fmt(r.maxMemoryUsedMB)],
    ['extension CPU ms / invocation', (r) => fmt(r.extensionCpuMsPerInvocation)],
    ['export requests', (r) => fmt(r.exportRequests)],
    ['spans sent / delivered', (r) => `${fmt(r.spansSent)} / ${fmt(r.spansDelivered)}`],
  ];
  const lines = [`| ${cols.map(([h]) => h).join(' | ')} |`, `| ${cols.map(() => '---').join(' | ')} |`];
  for (const r of peers.rows ?? []) {
    lines.push(
      r.skipped
        ? `| \`${r.variant}\` | ${r.memoryMb} | skipped: ${r.skipped} |`
        : `| ${cols.map(([, f]) => f(r)).join(' | ')} |`,
    );
  }
  if (peers.outage?.length) {
    lines.push(
      '',
      '| outage (collector down for the first third) | MB | duration p50 ms | duration p99 ms | billed ms, sum | extension CPU ms / invocation | spans sent / delivered | failed invocations |',
    );
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of peers.outage) {
      if (r.skipped) continue;
      lines.push(
        `| \`${r.variant}\` | ${r.memoryMb} | ${fmt(r.durationP50Ms)} | ${fmt(r.durationP99Ms)} | ${r.billedSumMs} | ${fmt(r.extensionCpuMsPerInvocation)} | ${r.spansSent} / ${r.spansDelivered} | ${r.failedInvocations}${r.failures.length ? ` (${r.failures.join(', ')})` : ''} |`,
      );
    }
  }
  return lines.join('\n');
}

async function main() {
  const [input, outDir = 'docs/benchmarks'] = process.argv.slice(2);
  if (!input) {
    console.error('usage: node test/bench/plot.mjs <bench.json> [outDir]');
    return 2;
  }
  const doc = readBenchDocument(readFileSync(input, 'utf8'));
  const peers = doc.benches?.peers;
  if (!peers)
    throw new Error(`plot: ${input} has no benches.peers (run npm run bench -- --only=peers --json)`);
  mkdirSync(outDir, { recursive: true });
  const caption = `npm run bench -- --only=peers, ${doc.startedAt}, ${doc.machine?.cpus} CPUs, cost model ${peers.costModel}`;
  const written = [];
  if (peers.spansSweep?.length) {
    const file = join(outDir, 'peers-spans.svg');
    writeFileSync(file, sweepSvg(peers.spansSweep, 'spans', 'spans per invocation, 1,769 MB', caption));
    written.push(file);
  }
  if (peers.concurrencySweep?.length) {
    const file = join(outDir, 'peers-concurrency.svg');
    writeFileSync(
      file,
      sweepSvg(peers.concurrencySweep, 'environments', 'concurrent environments, 1,769 MB', caption),
    );
    written.push(file);
  }
  console.log(peersMarkdown(peers));
  console.error(written.length ? `plot: wrote ${written.join(', ')}` : 'plot: no sweeps in the document');
  return 0;
}

if (process.argv[1]?.endsWith('plot.mjs')) process.exitCode = await main();
