// The HTML document the reports share: one self-contained file with its styles, the chart library and the page
// script inlined and the data as JSON inside it, so it opens from disk with the network off. A Content Security
// Policy forbids every fetch, font, image or frame from elsewhere, so nothing can leave the page even by mistake.
// Pure: strings in, a string out.
import { renderCharts } from './client.js';
import type { ChartSpec, ReportData } from './spec.js';

/** The chart library the page inlines (vendor.ts reads it from the installed package). */
export interface ChartLibrary {
  readonly name: string;
  readonly version: string;
  readonly js: string;
  readonly css: string;
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML element content or a quoted attribute. */
export const esc = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** JSON safe inside a <script> element: `<` is escaped, so no `</script>` or `<!--` can end it early. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Code safe inside a <script> element (a `</script` inside a string literal would end it). */
export const scriptCode = (code: string): string => code.replace(/<\/(script)/gi, '<\\/$1');

export type Cell = string | number | null | undefined;
/** A cell given as ready HTML (already escaped), e.g. with a colour swatch or emphasis. */
export interface RawCell {
  readonly html: string;
}

const cellHtml = (c: Cell | RawCell): string => (c !== null && typeof c === 'object' ? c.html : c === null || c === undefined || c === '' ? '-' : esc(c));

/** A table: columns from `numericFrom` on are right-aligned (numbers). */
export function table(header: readonly string[], rows: readonly (readonly (Cell | RawCell)[])[], opts: { numericFrom?: number; className?: string } = {}): string {
  const from = opts.numericFrom ?? 1;
  const cls = (i: number) => (i >= from ? ' class="num"' : '');
  return [
    `<table${opts.className ? ` class="${esc(opts.className)}"` : ''}>`,
    `<thead><tr>${header.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${cellHtml(c)}</td>`).join('')}</tr>`),
    '</tbody></table>',
  ].join('\n');
}

/** A chart's place in the page: the script draws into its .plot. */
export function figure(spec: ChartSpec): string {
  return `<figure class="chart" id="${esc(spec.id)}"><figcaption>${esc(spec.title)}</figcaption><div class="plot"></div></figure>`;
}

/** A section of charts in a grid, or a note in their place when there are none. */
export function chartGrid(charts: readonly ChartSpec[], emptyNote: string, opts: { wide?: boolean } = {}): string {
  if (!charts.length) return emptyNote ? `<p class="muted">${esc(emptyNote)}</p>` : '';
  return `<div class="grid${opts.wide ? ' wide' : ''}">\n${charts.map(figure).join('\n')}\n</div>`;
}

export const section = (id: string, title: string, body: string): string => `<section id="${esc(id)}">\n<h2>${esc(title)}</h2>\n${body}\n</section>`;

const CSP = ["default-src 'none'", "script-src 'unsafe-inline'", "style-src 'unsafe-inline'", 'img-src data:', "connect-src 'none'", "font-src 'none'", "base-uri 'none'", "form-action 'none'"].join('; ');

const STYLE = `
:root { --fg: #1a1a1a; --muted: #5f6368; --rule: #d9d9d9; --bg-alt: #f6f7f9; --warn-bg: #fff4d6; --warn: #7a5200; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; font-size: 14px; color: var(--fg); background: #fff; }
body { margin: 0 auto; max-width: 1240px; padding: 16px 24px 48px; line-height: 1.4; }
h1 { font-size: 1.6rem; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.2rem; margin: 1.6em 0 0.5em; padding-bottom: 0.2em; border-bottom: 1px solid var(--rule); }
.sub { color: var(--muted); margin: 0 0 0.8em; }
.muted { color: var(--muted); }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.92em; }
.warn { background: var(--warn-bg); color: var(--warn); border-left: 4px solid #E69F00; padding: 6px 10px; margin: 8px 0; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 2px 24px; margin: 8px 0; }
.facts div { display: flex; gap: 8px; padding: 2px 0; border-bottom: 1px dotted var(--rule); }
.facts dt { color: var(--muted); min-width: 7.5em; flex: none; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: 6px 0 10px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th { background: var(--bg-alt); font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fbfbfc; }
.best { font-weight: 700; }
.delta { color: var(--muted); font-size: 0.9em; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px; vertical-align: -0.1em; margin-right: 6px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 12px 20px; }
.grid.wide { grid-template-columns: 1fr; }
figure.chart { margin: 0; padding: 6px 8px 2px; border: 1px solid var(--rule); border-radius: 4px; min-width: 0; }
figure.chart figcaption { font-weight: 600; margin: 0 0 2px; }
.plot { width: 100%; min-height: 60px; }
.uplot { font-family: inherit; }
.uplot .u-legend { font-size: 12px; }
/* The x value's legend entry only repeats the axis: the series' entries carry the values. */
.uplot .u-legend .u-series:first-child { display: none; }
td:first-child { white-space: nowrap; }
.table-scroll { overflow-x: auto; }
footer { margin-top: 32px; color: var(--muted); font-size: 0.9em; }
@media (max-width: 700px) { body { padding: 8px 10px 32px; } .grid { grid-template-columns: 1fr; } }
@media print {
  @page { margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 11px; }
  .grid { grid-template-columns: 1fr 1fr; }
  figure.chart, table, .facts div { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  .uplot .u-legend { font-size: 10px; }
  /* Charts drawn for the screen's width scale down to the printed column (the canvas holds the axes too). */
  .uplot, .uplot .u-wrap { width: 100% !important; height: auto !important; }
  .uplot .u-wrap canvas { width: 100% !important; height: auto !important; }
  .uplot .u-over, .uplot .u-under, .uplot .u-axis { display: none; }
  .table-scroll { overflow: visible; }
  td.num, th.num { white-space: normal; }
}
`;

export interface PageInput {
  readonly title: string;
  /** The page's HTML between <body> and the scripts (already escaped). */
  readonly body: string;
  readonly data: ReportData;
  readonly lib: ChartLibrary;
}

/** The whole document. */
export function htmlPage(p: PageInput): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="${esc(p.data.generatedBy)}">`,
    // No favicon request: an empty inline one.
    '<link rel="icon" href="data:,">',
    `<title>${esc(p.title)}</title>`,
    `<style>/* ${esc(p.lib.name)} ${esc(p.lib.version)} */\n${p.lib.css.replace(/<\/(style)/gi, '<\\/$1')}</style>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    p.body,
    `<footer>${esc(p.data.generatedBy)} · charts by ${esc(p.lib.name)} ${esc(p.lib.version)} (MIT), inlined · Okabe-Ito colours · this file makes no network request</footer>`,
    `<script type="application/json" id="gb-data">${scriptJson(p.data)}</script>`,
    `<script>/* ${esc(p.lib.name)} ${esc(p.lib.version)}, MIT licence */\n${scriptCode(p.lib.js)}</script>`,
    `<script>\n"use strict";\n(${scriptCode(renderCharts.toString())})(window.uPlot, JSON.parse(document.getElementById("gb-data").textContent));\n</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
