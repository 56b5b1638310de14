// 95% intervals for a run's statistics, from its per-request records, by a seeded percentile bootstrap
// (BOOTSTRAP_RESAMPLES resamples): for every latency metric (E2E, TTFT, TPOT, ITL, queue, preprocess, vision) its
// p50, p90, p95, p99 and mean; request throughput, output tokens/s and the per-request tokens/s mean. Each
// statistic comes with its resample distribution, so two runs' statistics can be compared by paired resamples
// (significance.ts). Only measured requests that completed count (not warmup, status "ok"), as in the summary.
//
// Methods, and why (the target is at most 200 ms for 10,000 requests of 256 tokens; see bench/bootstrap.ts):
// - Percentiles of per-request metrics: the plain request bootstrap, sampled exactly without drawing requests.
//   Resampling m values and walking their presorted order to the nearest rank k (counting multiplicities) stops
//   at sorted position floor(m * U(k)), where U(k) is the k-th smallest of m uniforms, because the m drawn
//   positions are floor(m * U) for m uniforms and floor keeps order. U(k) ~ Beta(k, m - k + 1), and the later
//   ranks of the same resample follow from independent Beta spacings, so p50 < p90 < p95 < p99 of one resample
//   come jointly, in O(1) instead of O(m) per resample and metric (test/report/stats checks it against counting).
//   Literal counting (draw m indices, count multiplicities, walk each metric's presorted order) took 135-200 ms
//   of CPU in a prototype for the six per-request metrics alone at m = 10,000 on the 2-core dev machine: the
//   whole budget. Each metric's percentiles are resampled on their own (over the requests that have the metric):
//   comparisons pair one statistic of two runs, never two statistics of one run.
// - Means, and the pooled ITL: whole requests are resampled, in random blocks of requests (blocks.ts): up to
//   REQUEST_BLOCKS_MAX blocks, one request each for smaller runs (the plain request bootstrap). Blocks are random
//   groups, so block sums keep the requests' mean, variance and skew in expectation and the resampled mean has
//   the request bootstrap's spread; what blocking costs is noise in that spread from having G blocks instead of n
//   requests, a relative error of about 1 / sqrt(2 G) in the interval's width (3% at G = 512), below the ~4% that
//   1000 resamples already put on a 95% interval's ends. Quantities every request has share one draw of blocks;
//   one that some requests lack (TPOT with single-token outputs) is resampled over those that have it. ITL
//   details in itl.ts.
// - Rates: a circular block bootstrap over time bins (throughput.ts).
// Streams are seeded per statistic group from the run's seed: pass different seeds for runs you compare (for
// example seedFromString(run.id)), so their resamples are independent. Pure.
import { LATENCY_METRICS, type LatencyMetric, type RequestRecord } from '../../engine/types.js';
import { RequestBlocks } from './blocks.js';
import { bootstrapItl } from './itl.js';
import { nearestRank, percentileInterval } from './order.js';
import { betaSampler, subStream, type Uniform } from './random.js';
import { bootstrapRates } from './throughput.js';
import {
  BOOTSTRAP_RESAMPLES,
  CONFIDENCE_LEVEL,
  LATENCY_STATISTICS,
  SUMMARY_PERCENTILE_OF,
  type Estimate,
  type LatencyEstimates,
  type PercentileStatistic,
} from './types.js';

/** At most this many request blocks (see the header). */
export const REQUEST_BLOCKS_MAX = 512;
/** The default seed; runs that will be compared should get their own (seedFromString(run.id)). */
export const DEFAULT_BOOTSTRAP_SEED = 0x5eed;

export interface BootstrapOptions {
  readonly seed?: number;
  /** Resamples (default BOOTSTRAP_RESAMPLES). */
  readonly resamples?: number;
  /** Confidence level of the intervals (default CONFIDENCE_LEVEL, 0.95). */
  readonly level?: number;
}

export interface RunBootstrap {
  readonly seed: number;
  readonly resamples: number;
  readonly level: number;
  /** Completed measured requests the statistics come from. */
  readonly requests: number;
  /** Null for a metric with no values (e.g. vision over HTTP, TPOT with single-token outputs). */
  readonly latency: Readonly<Record<LatencyMetric, LatencyEstimates | null>>;
  /** Null with no completions or no measured time. */
  readonly throughputReqS: Estimate | null;
  readonly outputTokensPerS: Estimate | null;
  /** Mean over requests of output tokens / E2E seconds (the summary's tokensPerSMean). */
  readonly tokensPerSMean: Estimate | null;
  /** How the resampling was set up (for the record and for tests). */
  readonly method: {
    /** Request blocks for means and ITL (the request count itself when it is at most REQUEST_BLOCKS_MAX). */
    readonly requestBlocks: number;
    readonly timeBins: number;
    readonly timeBlockBins: number;
    /** ITL resample percentiles that fell outside their threshold window (see itl.ts); 0 in practice. */
    readonly itlWindowMisses: number;
  };
}

const PERCENTILES = LATENCY_STATISTICS.filter((s): s is PercentileStatistic => s !== 'mean');

/**
 * Resampled nearest-rank percentiles (all of `percentiles`, jointly per resample) of an ascending-sorted sample:
 * exactly the request bootstrap's (see the header). One array of resampled values per percentile.
 */
export function percentileResamples(sorted: Float64Array, percentiles: readonly number[], resamples: number, rand: Uniform): Float64Array[] {
  const m = sorted.length;
  const beta = betaSampler(rand);
  // Ascending ranks, in the order given.
  const order = percentiles.map((p, i) => ({ i, k: nearestRank(p, m) })).sort((a, b) => a.k - b.k);
  const out = percentiles.map(() => new Float64Array(resamples));
  for (let b = 0; b < resamples; b++) {
    let u = 0;
    let prev = 0;
    let idx = 0;
    for (const { i, k } of order) {
      if (k > prev) {
        // Given U(prev) = u, the m - prev larger uniforms are uniform on (u, 1): U(k) = u + (1 - u) Beta(k - prev, m - k + 1).
        u += (1 - u) * beta(k - prev, m - k + 1);
        idx = Math.min(m - 1, Math.floor(m * u));
        prev = k;
      }
      out[i][b] = sorted[idx];
    }
  }
  return out;
}

function percentileEstimates(sorted: Float64Array, resamples: number, rand: Uniform, level: number): Record<PercentileStatistic, Estimate> {
  const res = percentileResamples(sorted, PERCENTILES.map((s) => SUMMARY_PERCENTILE_OF[s]), resamples, rand);
  const out = {} as Record<PercentileStatistic, Estimate>;
  PERCENTILES.forEach((s, i) => {
    out[s] = { value: sorted[nearestRank(SUMMARY_PERCENTILE_OF[s], sorted.length) - 1], ci95: percentileInterval(res[i], level), resamples: res[i] };
  });
  return out;
}

function mean(values: Float64Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}

function meanEstimate(values: Float64Array, blocks: RequestBlocks, level: number): Estimate {
  const r = blocks.ratioResamples(blocks.blockSums(values), blocks.blockSizes());
  return { value: mean(values), ci95: percentileInterval(r, level), resamples: r };
}

function resolved(o: BootstrapOptions): { seed: number; resamples: number; level: number } {
  const resamples = o.resamples ?? BOOTSTRAP_RESAMPLES;
  if (!Number.isInteger(resamples) || resamples < 1) throw new RangeError(`resamples must be a positive integer (got ${resamples})`);
  return { seed: (o.seed ?? DEFAULT_BOOTSTRAP_SEED) >>> 0, resamples, level: o.level ?? CONFIDENCE_LEVEL };
}

/**
 * The bootstrap of one plain sample (one metric's values, in any order): nearest-rank p50/p90/p95/p99 and the
 * mean, each with its interval and resamples. Null for no values. Used by the steady-state check and by tests.
 */
export function bootstrapValues(values: ArrayLike<number>, o: BootstrapOptions = {}): LatencyEstimates | null {
  const { seed, resamples, level } = resolved(o);
  const v = Float64Array.from(values as ArrayLike<number>);
  if (v.length === 0) return null;
  const sorted = Float64Array.from(v).sort();
  const blocks = new RequestBlocks(v.length, REQUEST_BLOCKS_MAX, resamples, subStream(seed, 'mean-blocks'));
  return { ...percentileEstimates(sorted, resamples, subStream(seed, 'percentiles'), level), mean: meanEstimate(v, blocks, level) };
}

/** One nearest-rank percentile (p in 0..100) of a plain sample, with its interval and resamples. Null for no values. */
export function bootstrapPercentile(values: ArrayLike<number>, p: number, o: BootstrapOptions = {}): Estimate | null {
  const { seed, resamples, level } = resolved(o);
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const [r] = percentileResamples(sorted, [p], resamples, subStream(seed, 'percentiles'));
  return { value: sorted[nearestRank(p, sorted.length) - 1], ci95: percentileInterval(r, level), resamples: r };
}

/** The measured requests that completed, in record order: what every statistic is computed over. */
export function measuredOk(records: readonly RequestRecord[]): RequestRecord[] {
  return records.filter((r) => !r.warmup && r.status === 'ok');
}

const PER_REQUEST_METRICS = LATENCY_METRICS.filter((m): m is Exclude<LatencyMetric, 'itlMs'> => m !== 'itlMs');

/** Intervals and resample distributions for every statistic of a run (see the header for the methods). */
export function bootstrapRun(records: readonly RequestRecord[], o: BootstrapOptions = {}): RunBootstrap {
  const { seed, resamples, level } = resolved(o);
  const ok = measuredOk(records);
  const n = ok.length;
  // One block structure over all completed requests, shared by every mean whose metric every request has.
  const shared = n > 0 ? new RequestBlocks(n, REQUEST_BLOCKS_MAX, resamples, subStream(seed, 'request-blocks')) : null;
  const blocksFor = (items: number, purpose: string): RequestBlocks =>
    items === n && shared ? shared : new RequestBlocks(items, REQUEST_BLOCKS_MAX, resamples, subStream(seed, `${purpose}-blocks`));

  // Per-request values: the latency metrics, and the per-request tokens/s of the summary's tokensPerSMean
  // (requests with a positive E2E). A quantity every request has goes into one sweep over the shared blocks.
  const quantities: { key: LatencyMetric | 'tokensPerS'; values: Float64Array }[] = [];
  for (const metric of PER_REQUEST_METRICS) {
    const values: number[] = [];
    for (const r of ok) {
      const v = r[metric];
      if (v !== null && Number.isFinite(v)) values.push(v);
    }
    quantities.push({ key: metric, values: Float64Array.from(values) });
  }
  const perRequestRates: number[] = [];
  for (const r of ok) if (r.e2eMs !== null && r.e2eMs > 0) perRequestRates.push(r.outputTokens / (r.e2eMs / 1000));
  quantities.push({ key: 'tokensPerS', values: Float64Array.from(perRequestRates) });

  const means = new Map<string, Estimate>();
  const full = quantities.filter((q) => q.values.length === n && shared);
  if (shared && full.length) {
    const r = shared.ratiosResamples(full.map((q) => shared.blockSums(q.values)), shared.blockSizes());
    full.forEach((q, i) => means.set(q.key, { value: mean(q.values), ci95: percentileInterval(r[i], level), resamples: r[i] }));
  }
  for (const q of quantities) {
    if (!means.has(q.key) && q.values.length) means.set(q.key, meanEstimate(q.values, blocksFor(q.values.length, q.key), level));
  }

  const latency = {} as Record<LatencyMetric, LatencyEstimates | null>;
  for (const { key, values } of quantities) {
    if (key === 'tokensPerS') continue;
    latency[key] = values.length
      ? { ...percentileEstimates(Float64Array.from(values).sort(), resamples, subStream(seed, key), level), mean: means.get(key)! }
      : null;
  }
  const tokensPerSMean = means.get('tokensPerS') ?? null;

  // ITL: the gaps between consecutive output tokens, by request (requests with one token have none).
  const tokenTimes = ok.map((r) => r.tokenTimesMs).filter((t) => t.length > 1);
  let itlWindowMisses = 0;
  if (tokenTimes.length === 0) latency.itlMs = null;
  else {
    const itl = bootstrapItl(tokenTimes, blocksFor(tokenTimes.length, 'itl'), subStream(seed, 'itl'), level);
    latency.itlMs = itl.stats;
    itlWindowMisses = itl.windowMisses;
  }

  // Rates over the measured window, which spans every measured request whatever its fate (as the summary's).
  let start = Infinity;
  let end = -Infinity;
  for (const r of records) {
    if (r.warmup) continue;
    if (r.enqueuedAtMs < start) start = r.enqueuedAtMs;
    if (r.finishedAtMs !== null && r.finishedAtMs > end) end = r.finishedAtMs;
  }
  const completions = ok.filter((r) => r.finishedAtMs !== null).map((r) => ({ finishedAtMs: r.finishedAtMs!, outputTokens: r.outputTokens }));
  const rates = bootstrapRates(completions, start, end, latency.e2eMs?.p50.value ?? null, resamples, subStream(seed, 'rates'), level);

  return {
    seed,
    resamples,
    level,
    requests: n,
    latency,
    throughputReqS: rates?.throughputReqS ?? null,
    outputTokensPerS: rates?.outputTokensPerS ?? null,
    tokensPerSMean,
    method: { requestBlocks: shared?.blocks ?? 0, timeBins: rates?.bins ?? 0, timeBlockBins: rates?.blockBins ?? 0, itlWindowMisses },
  };
}

