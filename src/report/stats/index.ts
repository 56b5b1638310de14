// The statistics of trustworthy comparisons (issue 12), pure and not yet wired into any command or screen:
// per-run bootstrap intervals with their resample distributions, significance of differences (paired resamples,
// the between-repeat spread), the steady-state check and the text box plot.
export { BOOTSTRAP_RESAMPLES, CONFIDENCE_LEVEL, LATENCY_STATISTICS, SUMMARY_PERCENTILE_OF } from './types.js';
export type { Estimate, LatencyEstimates, LatencyStatistic, PercentileStatistic } from './types.js';
export { bootstrapPercentile, bootstrapRun, bootstrapValues, DEFAULT_BOOTSTRAP_SEED, measuredOk, REQUEST_BLOCKS_MAX } from './bootstrap.js';
export type { BootstrapOptions, RunBootstrap } from './bootstrap.js';
export { combinedVerdict, compareEstimates, compareRepeats, compareRuns, repeatSpread } from './significance.js';
export type { Difference, RepeatComparison, RepeatSpread, RunDifferences } from './significance.js';
export { NOT_STEADY_NOTE, STEADY_MIN_PER_THIRD, steadyState } from './steady.js';
export type { SteadyState, ThirdMedian } from './steady.js';
export { BOXPLOT_LEGEND, boxPlotRow, renderBoxPlot } from './boxplot.js';
export type { BoxPlotOptions, BoxPlotRow } from './boxplot.js';
export { seedFromString } from './random.js';
