// The bootstrap's data shapes and constants, shared by its modules and by whoever presents the intervals.

/** Resamples per bootstrap (the issue asks for at least 1000). */
export const BOOTSTRAP_RESAMPLES = 1000;
/** Two-sided confidence level of every interval. */
export const CONFIDENCE_LEVEL = 0.95;

/** The statistics of a latency metric that get an interval: the summary's percentiles and the mean. */
export const LATENCY_STATISTICS = ['p50', 'p90', 'p95', 'p99', 'mean'] as const;
export type LatencyStatistic = (typeof LATENCY_STATISTICS)[number];
export type PercentileStatistic = Exclude<LatencyStatistic, 'mean'>;

/** The percentile (0..100) each percentile statistic names. */
export const SUMMARY_PERCENTILE_OF: Readonly<Record<PercentileStatistic, number>> = { p50: 50, p90: 90, p95: 95, p99: 99 };

/** One statistic of one run: its value, its 95% interval and the resample distribution behind the interval. */
export interface Estimate {
  /** The statistic on the run's own records (exact: nearest-rank percentiles, the arithmetic mean). */
  readonly value: number;
  /** The 95% percentile-bootstrap interval [lo, hi]. */
  readonly ci95: readonly [number, number];
  /**
   * The resampled values, one per resample, in resample order. Resample b of one run pairs with resample b of
   * another (drawn with another seed) to form the distribution of their difference.
   */
  readonly resamples: Float64Array;
}

export type LatencyEstimates = Readonly<Record<LatencyStatistic, Estimate>>;
