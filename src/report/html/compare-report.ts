// The HTML report of a comparison (runs side by side) and of a sweep (a comparison of its points, plus the scatter
// of p95 E2E latency against throughput with the Pareto frontier drawn, its points marked and listed with their
// knob values). One colour per run throughout (Okabe-Ito), the legend naming each run by its name and id suffix.
// Pure.
import type { RunFile } from '../../engine/types.js';
import { type CompareModel } from '../compare.js';
import { changeText, formatCompareValue } from '../compare-text.js';
import { modelLabel, pointLabel } from '../describe.js';
import { fmtMs, fmtRate } from '../format.js';
import { paretoFrontier } from '../frontier.js';
import { localTime, panScanText } from '../phrases.js';
import { alignCdfs, cdf, round2, sortedFinite } from './distributions.js';
import { chartGrid, esc, section, table, type Cell, type RawCell } from './page.js';
import { OKABE_ITO, seriesStyle } from './palette.js';
import { environmentCapsule } from './run-report.js';
import type { ChartSpec, ReportData } from './spec.js';

/** The id's last part ("b952" of 20261127-171555-balanced-b952), which tells runs of one name apart. */
export const idSuffix = (id: string): string => id.slice(id.lastIndexOf('-') + 1) || id;

/** How a run is named in legends: "balanced · b952". */
export const legendName = (r: Pick<RunFile, 'id' | 'name'>): string => `${r.name} · ${idSuffix(r.id)}`;

/** True when every run belongs to one sweep. */
export const isSweep = (runs: readonly RunFile[]): boolean => runs.length >= 1 && runs[0].group !== null && runs.every((r) => r.group?.id === runs[0].group!.id);

const swatch = (color: string): string => `<span class="swatch" style="background:${esc(color)}"></span>`;

/** Overlaid CDFs of one latency, one series per run. */
function overlaidCdf(runs: readonly RunFile[], key: 'e2eMs' | 'ttftMs', id: string, title: string): ChartSpec | null {
  const cdfs = runs.map((r) => cdf(sortedFinite(r.requests.filter((q) => !q.warmup && q.status === 'ok').map((q) => q[key])), 300));
  if (!cdfs.some((c) => c.x.length)) return null;
  const { x, series } = alignCdfs(cdfs);
  return {
    id,
    title,
    xLabel: 'ms',
    yLabel: '% of requests',
    x,
    series: runs.map((r, i) => ({ label: legendName(r), values: series[i], kind: 'line', spanGaps: true, ...seriesStyle(i) })),
    yRange: [0, 100],
    height: 280,
  };
}

/** The scatter: every point hollow, the frontier joined and filled, each labelled with its knob values. */
export function sweepScatter(runs: readonly RunFile[], frontier: readonly number[]): ChartSpec | null {
  const order = runs
    .map((r, i) => i)
    .filter((i) => runs[i].summary.throughputReqS !== null && runs[i].summary.metrics.e2eMs.p95 !== null)
    .sort((a, b) => runs[a].summary.throughputReqS! - runs[b].summary.throughputReqS! || a - b);
  if (!order.length) return null;
  const on = new Set(frontier);
  const lat = (i: number) => round2(runs[i].summary.metrics.e2eMs.p95!);
  return {
    id: 'sweep-scatter',
    title: 'p95 E2E latency against request throughput (Pareto frontier joined and filled)',
    xLabel: 'throughput (req/s)',
    yLabel: 'p95 E2E (ms)',
    x: order.map((i) => round2(runs[i].summary.throughputReqS!)),
    series: [
      { label: 'sweep points', values: order.map(lat), kind: 'points', pointSize: 9, hollow: true, color: OKABE_ITO.blue },
      { label: 'Pareto frontier', values: order.map((i) => (on.has(i) ? lat(i) : null)), kind: 'line', markers: true, spanGaps: true, pointSize: 9, color: OKABE_ITO.vermillion },
    ],
    pointLabels: order.map((i) => (runs[i].group ? pointLabel(runs[i].group!.point) : runs[i].name)),
    height: 380,
  };
}

function runsTable(runs: readonly RunFile[], sweep: boolean): string {
  const rows = runs.map((r, i): (Cell | RawCell)[] => [
    { html: `${swatch(seriesStyle(i).color)}${i + 1}` },
    sweep && r.group ? pointLabel(r.group.point) : r.name,
    { html: `<span class="mono">${esc(r.id)}</span>` },
    r.status,
    localTime(r.startedAt),
    `${r.preset.name}; p&s ${panScanText(r.preset.panScan, 'short').replace(/^p&s /, '')}`,
    r.backend.name,
    modelLabel(r),
  ]);
  return `<div class="table-scroll">${table(['#', sweep ? 'point' : 'name', 'id', 'status', 'started', 'preset', 'backend', 'model'], rows, { numericFrom: 99 })}</div>`;
}

function compareTable(model: CompareModel): string {
  const header = ['metric', ...model.columns.map((c, i) => `${i + 1} ${c.label}${i === 0 ? ' (baseline)' : ''}`)];
  const rows = model.rows.map((row): (Cell | RawCell)[] => [
    `${row.label}${row.unit === 'crops' || row.unit === 'count' ? '' : ` (${row.unit === 'pct' ? '%' : row.unit})`}`,
    ...row.cells.map((cell, i): RawCell => {
      const v = esc(formatCompareValue(row.unit, cell.value));
      const change = changeText(cell, i);
      const d = change ? ` <span class="delta">${esc(change)}</span>` : '';
      return { html: cell.best ? `<span class="best">${v}*</span>${d}` : `${v}${d}` };
    }),
  ]);
  return `<div class="table-scroll">${table(header, rows)}</div>\n<p class="muted">* best in its row, beyond noise (lower is better for times, higher for rates); (±%) change against run 1, the baseline; ≈ within noise (the 95% interval of the difference includes 0).</p>`;
}

function frontierTable(runs: readonly RunFile[], frontier: readonly number[]): string {
  if (!frontier.length) return '<p class="muted">No point completed a measured request: there is no frontier.</p>';
  const keys = [...new Set(frontier.flatMap((i) => Object.keys(runs[i].group?.point ?? {})))];
  const rows = frontier.map((i): (Cell | RawCell)[] => {
    const r = runs[i];
    return [{ html: `${swatch(seriesStyle(i).color)}${i + 1}` }, ...keys.map((k) => r.group?.point[k] ?? '-'), fmtMs(r.summary.metrics.e2eMs.p95), fmtRate(r.summary.throughputReqS, 'req/s'), fmtMs(r.summary.metrics.ttftMs.p50), fmtRate(r.summary.outputTokensPerS, 'tok/s'), { html: `<span class="mono">${esc(r.id)}</span>` }];
  });
  return table(['#', ...keys, 'E2E p95', 'throughput', 'TTFT p50', 'output', 'run'], rows, { numericFrom: 1 });
}

export interface CompareReport {
  readonly title: string;
  readonly body: string;
  readonly charts: ChartSpec[];
  readonly runs: NonNullable<ReportData['runs']>;
  readonly frontier: readonly number[] | null;
  readonly kind: 'compare' | 'sweep';
}

/** The comparison's (or sweep's) body and charts; `model` is compareRuns(runs) (with any goodput rows). */
export function compareReport(runs: readonly RunFile[], model: CompareModel): CompareReport {
  const sweep = isSweep(runs);
  const frontier = sweep ? paretoFrontier(runs.map((r) => ({ throughputReqS: r.summary.throughputReqS, latencyMs: r.summary.metrics.e2eMs.p95 }))) : null;
  const cdfs = [overlaidCdf(runs, 'e2eMs', 'cdf-e2e', 'E2E latency: CDF, one line per run'), overlaidCdf(runs, 'ttftMs', 'cdf-ttft', 'TTFT: CDF, one line per run')].filter((c): c is ChartSpec => c !== null);
  const scatter = frontier ? sweepScatter(runs, frontier) : null;
  const title = sweep ? `gemma-bench sweep ${runs[0].group!.id}` : `gemma-bench comparison of ${runs.length} runs`;
  const warnings = model.warnings.map((w) => `<p class="warn">${esc(w)}</p>`).join('\n');
  const envs = [...new Set(runs.map(environmentCapsule))];
  const parts = [
    `<h1>${esc(sweep ? `gemma-bench sweep: ${runs[0].group!.id}` : `gemma-bench: ${runs.length} runs compared`)}</h1>`,
    `<p class="sub">${esc(sweep ? `${runs.length} of ${runs[0].group!.total} grid point(s); ` : '')}baseline ${esc(model.baselineId)}; generated from the saved run files</p>`,
    warnings,
    section('runs', sweep ? 'Points' : 'Runs', runsTable(runs, sweep)),
    ...(sweep
      ? [
          section(
            'frontier',
            'Latency against throughput',
            `<p class="muted">Each point is a grid point, labelled by its knob values. The Pareto frontier joins the points that no other point beats on both p95 E2E latency (lower) and request throughput (higher).</p>\n${chartGrid(scatter ? [scatter] : [], 'No point has both numbers.', { wide: true })}\n<h3>Frontier points</h3>\n${frontierTable(runs, frontier!)}`,
          ),
        ]
      : []),
    section('table', 'Side by side', compareTable(model)),
    section('cdfs', 'Latency distributions', chartGrid(cdfs, 'No run completed a measured request.')),
    section('environment', 'Environment', envs.map((e) => `<p>${esc(e)}</p>`).join('\n')),
  ];
  const data = runs.map((r, i) => ({ id: r.id, name: r.name, color: seriesStyle(i).color, point: r.group?.point ?? null, p95E2eMs: r.summary.metrics.e2eMs.p95, throughputReqS: r.summary.throughputReqS }));
  return { title, body: parts.filter(Boolean).join('\n'), charts: [...(scatter ? [scatter] : []), ...cdfs], runs: data, frontier, kind: sweep ? 'sweep' : 'compare' };
}
