// Streaming latency statistics (DESIGN.md §5): one LatencyStats per metric, on an HDR histogram with 3 significant
// digits, so memory stays bounded however long a run is and live percentiles equal the saved ones.
// Also the exact nearest-rank percentile the histogram is checked against. Pure: no I/O.
//
// The pure-JS Int32Histogram is imported directly: the package index also loads the WebAssembly build (a large
// base64 string), which measured ~30-80 ms extra at startup for no gain at our recording rates.
import Int32HistogramModule from 'hdr-histogram-js/dist/Int32Histogram.js';
import type { MetricSummary } from './types.js';

const Int32Histogram = Int32HistogramModule.default;
type Histogram = InstanceType<typeof Int32Histogram>;

/** Values are recorded as integer microseconds so sub-millisecond latencies keep their precision. */
export const US_PER_MS = 1000;
/** Lowest value the histogram resolves: 1 us. */
export const HISTOGRAM_MIN_US = 1;
/** Highest value the histogram holds: 1 hour. Longer values are clamped (and counted). */
export const HISTOGRAM_MAX_US = 3_600_000_000;
export const SIGNIFICANT_DIGITS = 3;

/** The percentiles every summary reports. */
export const SUMMARY_PERCENTILES = [50, 90, 95, 99] as const;

export const EMPTY_SUMMARY: MetricSummary = Object.freeze({ count: 0, mean: null, min: null, max: null, p50: null, p90: null, p95: null, p99: null });

/**
 * Exact nearest-rank percentile of ascending-sorted values: the smallest value such that at least p% of the values
 * are <= it (rank ceil(p/100 * n), at least 1). The same definition HdrHistogram uses, so the two agree to its
 * precision. Null for no values.
 */
export function nearestRankPercentile(sortedValues: readonly number[], p: number): number | null {
  const n = sortedValues.length;
  if (n === 0) return null;
  const rank = Math.min(n, Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * n - 1e-9)));
  return sortedValues[rank - 1];
}

export class LatencyStats {
  private readonly hist: Histogram;
  private n = 0;
  private sumMs = 0;
  private minMs = Infinity;
  private maxMs = -Infinity;
  private clampedCount = 0;
  private invalidCount = 0;

  constructor() {
    // Fixed range, no auto-resize: the counts array is allocated once (~92 KiB) and recording never allocates.
    this.hist = new Int32Histogram(HISTOGRAM_MIN_US, HISTOGRAM_MAX_US, SIGNIFICANT_DIGITS);
    this.hist.autoResize = false;
  }

  /** Records one latency in ms. Non-finite values are ignored (counted in `invalid`); out-of-range ones are clamped. */
  record(ms: number): void {
    if (!Number.isFinite(ms)) {
      this.invalidCount++;
      return;
    }
    this.n++;
    this.sumMs += ms;
    if (ms < this.minMs) this.minMs = ms;
    if (ms > this.maxMs) this.maxMs = ms;
    let us = Math.round(ms * US_PER_MS);
    if (us < HISTOGRAM_MIN_US) {
      us = HISTOGRAM_MIN_US;
      this.clampedCount++;
    } else if (us > HISTOGRAM_MAX_US) {
      us = HISTOGRAM_MAX_US;
      this.clampedCount++;
    }
    this.hist.recordValue(us);
  }

  get count(): number {
    return this.n;
  }

  /** Values outside 1 us .. 1 hour, recorded at the nearest end of the range (mean/min/max still use them exactly). */
  get clamped(): number {
    return this.clampedCount;
  }

  /** NaN or infinite values passed to record(), which were dropped. */
  get invalid(): number {
    return this.invalidCount;
  }

  /** The p-th percentile in ms (HDR precision), or null with no samples. */
  percentile(p: number): number | null {
    if (this.n === 0) return null;
    const v = this.hist.getValueAtPercentile(p) / US_PER_MS;
    // HDR answers with the top of the matching bucket; the true percentile always lies within [min, max], so
    // clamping only removes error (and keeps a single-sample p50 equal to its min and max).
    return Math.min(this.maxMs, Math.max(this.minMs, v));
  }

  summary(): MetricSummary {
    if (this.n === 0) return EMPTY_SUMMARY;
    return {
      count: this.n,
      mean: this.sumMs / this.n,
      min: this.minMs,
      max: this.maxMs,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
    };
  }

  reset(): void {
    this.hist.reset();
    this.n = 0;
    this.sumMs = 0;
    this.minMs = Infinity;
    this.maxMs = -Infinity;
    this.clampedCount = 0;
    this.invalidCount = 0;
  }
}
