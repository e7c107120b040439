// `qsim run --html FILE`: one self-contained page (inline CSS and SVG, no external assets) with the
// summary table and step plots over simulated time of queue depth, accepted messages, refusals,
// cut-off runs and power losses (red lines on every plot). Pure: text in, text out.

import type { Sample } from './run-sampler.ts';

export interface HtmlPlot {
  title: string;
  /** Points (t ms, value), t ascending. */
  points: readonly (readonly [number, number])[];
}

export interface HtmlReportInput {
  title: string;
  rows: readonly (readonly [string, string])[];
  plots: readonly HtmlPlot[];
  /** Virtual ms of each power loss. */
  crashTimes: readonly number[];
  /** One-line replay command, or any footer text. */
  footer: string;
}

const plotWidth = 760;
const plotHeight = 170;
const margin = { left: 56, right: 12, top: 22, bottom: 28 } as const;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** The plots the queue-crash scenario has, from a sampler's series. */
export function queuePlots(samples: readonly Sample[]): HtmlPlot[] {
  const series = (title: string, f: (s: Sample) => number): HtmlPlot => ({ title, points: samples.map((s) => [s.tMs, f(s)] as const) });
  return [
    series('queue depth (messages in mess/)', (s) => s.depth),
    series('accepted (qmail-queue exit 0), cumulative', (s) => s.accepted),
    series('refused (exit code reported), cumulative', (s) => s.refused),
    series('cut off by a power loss, cumulative', (s) => s.cut),
    series('power losses, cumulative', (s) => s.crashes),
  ];
}

export function htmlReport(r: HtmlReportInput): string {
  const times = [...r.plots.flatMap((p) => p.points.map(([t]) => t)), ...r.crashTimes];
  const tMin = times.length === 0 ? 0 : Math.min(...times);
  const span: Span = { tMin, tMax: Math.max(tMin + 1, ...times) };
  const table = r.rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n');
  const plots = r.plots.map((p, i) => plotSvg(p, i, span, r.crashTimes)).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin-bottom: 18px; }
th, td { text-align: left; padding: 2px 12px 2px 0; font-weight: normal; }
th { color: #555; }
td { font-family: ui-monospace, monospace; }
svg { display: block; margin-bottom: 10px; }
svg text { font: 11px system-ui, sans-serif; fill: #444; }
.line { fill: none; stroke: #2563eb; stroke-width: 1.5; }
.crash { stroke: #dc2626; stroke-width: 1; stroke-dasharray: 3 2; }
.axis { stroke: #999; stroke-width: 1; }
code { background: #f3f3f3; padding: 2px 4px; }
</style></head>
<body>
<h1>${escapeHtml(r.title)}</h1>
<table id="summary">
${table}
</table>
<div id="plots">
${plots}
</div>
<p>Red dashed lines: power losses. Time axis: simulated seconds.</p>
<p><code>${escapeHtml(r.footer)}</code></p>
<script>document.body.dataset.plots = String(document.querySelectorAll('svg.plot path.line').length);</script>
</body></html>
`;
}

/** The time axis: from the first sample to the last (virtual ms). */
interface Span {
  tMin: number;
  tMax: number;
}

function plotSvg(p: HtmlPlot, index: number, span: Span, crashTimes: readonly number[]): string {
  const w = plotWidth - margin.left - margin.right;
  const h = plotHeight - margin.top - margin.bottom;
  const vMax = Math.max(1, ...p.points.map(([, v]) => v));
  const x = (t: number) => (margin.left + ((t - span.tMin) / (span.tMax - span.tMin)) * w).toFixed(1);
  const y = (v: number) => (margin.top + h - (v / vMax) * h).toFixed(1);
  // A step line: the value holds until the next sample.
  const d = p.points.map(([t, v], i) => {
    const prev = p.points[i - 1];
    return i === 0 ? `M${x(t)},${y(v)}` : `L${x(t)},${y((prev as readonly [number, number])[1])} L${x(t)},${y(v)}`;
  }).join(' ');
  const crashes = crashTimes.map((t) => `<line class="crash" x1="${x(t)}" x2="${x(t)}" y1="${margin.top}" y2="${margin.top + h}"/>`).join('');
  const yTop = margin.top;
  const yBase = margin.top + h;
  return `<svg class="plot" id="plot-${index}" width="${plotWidth}" height="${plotHeight}" viewBox="0 0 ${plotWidth} ${plotHeight}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(p.title)}">
<text x="${margin.left}" y="14">${escapeHtml(p.title)}</text>
<line class="axis" x1="${margin.left}" x2="${margin.left}" y1="${yTop}" y2="${yBase}"/>
<line class="axis" x1="${margin.left}" x2="${margin.left + w}" y1="${yBase}" y2="${yBase}"/>
<text x="${margin.left - 6}" y="${yTop + 4}" text-anchor="end">${vMax}</text>
<text x="${margin.left - 6}" y="${yBase}" text-anchor="end">0</text>
<text x="${margin.left}" y="${yBase + 16}">${(span.tMin / 1000).toFixed(3)} s</text>
<text x="${margin.left + w}" y="${yBase + 16}" text-anchor="end">${(span.tMax / 1000).toFixed(3)} s</text>
${crashes}
<path class="line" d="${d}"/>
</svg>`;
}
