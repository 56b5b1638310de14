// Is a difference between two runs real? Two verdicts, both pure:
// - Within runs: the 95% interval of (other - baseline) from paired resamples (resample b of one run against
//   resample b of the other). The runs' resamples are independent when their seeds differ, so the differences
//   are draws of the difference's bootstrap distribution. `significant` when the interval excludes zero.
// - Between repeats (groups of runs of one specification): does the difference exceed the spread of the
//   repeats? Within-run resampling cannot see machine noise that shifts a whole run (a busy neighbour, clocks,
//   thermals); repeats can. The rule, compareRepeats: the groups' ranges do not overlap, i.e. every repeat of one
//   group is beyond every repeat of the other. By chance alone (no real difference, every ordering of the a + b
//   repeats equally likely) two groups separate with probability 2 / C(a + b, a): 33% for 2 + 2, 10% for 3 + 3,
//   3% for 4 + 4, 0.8% for 5 + 5. It is a filter on top of the within-run verdict (combinedVerdict): a
//   difference counts only when both hold, so repeats can only remove "significant" marks, never add them.
import { percentileInterval } from './order.js';
import { CONFIDENCE_LEVEL, LATENCY_STATISTICS, type Estimate, type LatencyStatistic } from './types.js';
import type { RunBootstrap } from './bootstrap.js';
import { LATENCY_METRICS, type LatencyMetric } from '../../engine/types.js';

export interface Difference {
  /** other - baseline, on the runs' own values. */
  readonly delta: number;
  /** The 95% interval of other - baseline from paired resamples. */
  readonly ci95: readonly [number, number];
  /**
   * The interval excludes zero. False when the interval has no width at all: resamples that never vary (a run of
   * one request, say) give no evidence either way.
   */
  readonly significant: boolean;
}

/** other - baseline for one statistic, from paired resamples (both must have the same number of resamples). */
export function compareEstimates(baseline: Estimate, other: Estimate, level = CONFIDENCE_LEVEL): Difference {
  const a = baseline.resamples;
  const b = other.resamples;
  if (a.length !== b.length || a.length === 0) throw new RangeError(`paired resamples need equal, non-zero counts (got ${a.length} and ${b.length})`);
  const d = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) d[i] = b[i] - a[i];
  const ci95 = percentileInterval(d, level);
  return { delta: other.value - baseline.value, ci95, significant: ci95[1] > ci95[0] && (ci95[0] > 0 || ci95[1] < 0) };
}

export interface RunDifferences {
  /** Null where either run has no values for the metric. */
  readonly latency: Readonly<Record<LatencyMetric, Readonly<Record<LatencyStatistic, Difference>> | null>>;
  readonly throughputReqS: Difference | null;
  readonly outputTokensPerS: Difference | null;
  readonly tokensPerSMean: Difference | null;
}

const maybe = (a: Estimate | null, b: Estimate | null, level: number): Difference | null => (a && b ? compareEstimates(a, b, level) : null);

/**
 * Every statistic of `other` against `baseline`. Bootstrap the two runs with different seeds (e.g.
 * seedFromString(run.id)): with one seed, two runs of equal size draw the same request positions, and any drift
 * the runs share along their request order would make the differences look more certain than they are.
 */
export function compareRuns(baseline: RunBootstrap, other: RunBootstrap): RunDifferences {
  const level = baseline.level;
  const latency = {} as Record<LatencyMetric, Record<LatencyStatistic, Difference> | null>;
  for (const m of LATENCY_METRICS) {
    const a = baseline.latency[m];
    const b = other.latency[m];
    latency[m] = a && b ? (Object.fromEntries(LATENCY_STATISTICS.map((s) => [s, compareEstimates(a[s], b[s], level)])) as Record<LatencyStatistic, Difference>) : null;
  }
  return {
    latency,
    throughputReqS: maybe(baseline.throughputReqS, other.throughputReqS, level),
    outputTokensPerS: maybe(baseline.outputTokensPerS, other.outputTokensPerS, level),
    tokensPerSMean: maybe(baseline.tokensPerSMean, other.tokensPerSMean, level),
  };
}

/** A group's repeats of one statistic, as `runs show` prints them: min / median / max. */
export interface RepeatSpread {
  readonly count: number;
  readonly min: number;
  /** The middle repeat; the mean of the two middle ones for an even count. */
  readonly median: number;
  readonly max: number;
}

/** Null for no values; non-finite values are left out. */
export function repeatSpread(values: readonly number[]): RepeatSpread | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return { count: v.length, min: v[0], median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2, max: v[v.length - 1] };
}

export interface RepeatComparison {
  readonly baseline: RepeatSpread;
  readonly other: RepeatSpread;
  /** other.median - baseline.median. */
  readonly delta: number;
  /**
   * How far apart the groups' ranges are: the gap between them when they do not overlap (> 0), else minus their
   * overlap (<= 0; ranges that touch count as overlapping).
   */
  readonly separation: number;
  /**
   * The difference exceeds the spread of the repeats: the ranges do not overlap. Null when either group has a
   * single repeat, which has no spread to judge by.
   */
  readonly exceedsSpread: boolean | null;
}

/** Compares two groups' per-repeat values of one statistic (see the header for the rule). Null if either is empty. */
export function compareRepeats(baseline: readonly number[], other: readonly number[]): RepeatComparison | null {
  const a = repeatSpread(baseline);
  const b = repeatSpread(other);
  if (!a || !b) return null;
  const separation = Math.max(b.min - a.max, a.min - b.max);
  return { baseline: a, other: b, delta: b.median - a.median, separation, exceedsSpread: a.count < 2 || b.count < 2 ? null : separation > 0 };
}

/**
 * A difference counts when the within-run interval excludes zero and, for groups of repeats, the difference also
 * exceeds the repeats' spread (no repeats, or a single repeat: the within-run verdict alone).
 */
export function combinedVerdict(withinRun: Difference, repeats: RepeatComparison | null): boolean {
  return withinRun.significant && repeats?.exceedsSpread !== false;
}
