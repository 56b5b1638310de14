// The HTML reports: one self-contained file per run (`runs export ID --format html`), per comparison and per sweep
// (`compare ... --format html`), openable from disk with the network off. Builders are pure given the chart
// library; `*Html` without one reads uPlot from the installed package (vendor.ts).
import type { RunFile } from '../../engine/types.js';
import { compareRuns, type CompareModel } from '../compare.js';
import { compareReport } from './compare-report.js';
import { htmlPage, type ChartLibrary } from './page.js';
import { runReport } from './run-report.js';
import { loadChartLibrary } from './vendor.js';

export type { ChartLibrary };
export { loadChartLibrary };

const generatedBy = (runs: readonly RunFile[]) => `gemma-bench ${runs[0]?.environment.gemmaBench.version ?? ''}`.trim();

/** The report of one run. */
export function runReportHtml(run: RunFile, lib: ChartLibrary = loadChartLibrary()): string {
  const r = runReport(run);
  return htmlPage({ title: r.title, body: r.body, lib, data: { kind: 'run', generatedBy: generatedBy([run]), charts: r.charts, requests: r.requests } });
}

/**
 * The report comparing `runs` (the first is the baseline); a sweep's report when they all belong to one sweep.
 * `model` defaults to compareRuns(runs) (pass one built with goodput SLOs to show those rows).
 */
export function compareReportHtml(runs: readonly RunFile[], opts: { model?: CompareModel; lib?: ChartLibrary } = {}): string {
  if (!runs.length) throw new Error('a comparison report needs at least one run');
  const c = compareReport(runs, opts.model ?? compareRuns(runs));
  return htmlPage({
    title: c.title,
    body: c.body,
    lib: opts.lib ?? loadChartLibrary(),
    data: { kind: c.kind, generatedBy: generatedBy(runs), charts: c.charts, runs: c.runs, ...(c.frontier ? { frontier: c.frontier } : {}) },
  });
}

/** What `--format html` writes for these runs: one run's report, or the comparison (or sweep) of several. */
export function runsToHtml(runs: readonly RunFile[], lib?: ChartLibrary): string {
  if (runs.length === 1) return runReportHtml(runs[0], lib);
  return compareReportHtml(runs, lib ? { lib } : {});
}
