// A saved run's 95% intervals (issue 12) as plain data, for the screens and reports that print them: `runs show`,
// the exports and the dashboard's final screen. The intervals come from src/report/stats (a seeded percentile
// bootstrap of the per-request records); this module only runs it with the run's own seed and keeps the numbers
// (the resample distributions stay behind: only compare needs those, and it calls the bootstrap itself).
//
// Computed on read, never saved into the run file: seeded by the run id, the bootstrap gives the same intervals every
// time (a few tens of ms for thousands of requests, bench/bootstrap.ts), so every run file ever saved gets them
// without a schema change, and a better method later applies to old runs too. Pure.
import { LATENCY_METRICS, type LatencyMetric, type RunFile } from '../engine/types.js';
import { METRIC_LABELS } from './describe.js';
import { fmtRate, NONE, rangeText, sig3 } from './format.js';
import { bootstrapRun, type RunBootstrap } from './stats/bootstrap.js';
import { seedFromString } from './stats/random.js';
import { steadyState, type SteadyState } from './stats/steady.js';
import { LATENCY_STATISTICS, type Estimate, type LatencyStatistic } from './stats/types.js';

export type Interval = readonly [number, number];

export interface RunIntervals {
  readonly seed: number;
  readonly resamples: number;
  /** 0.95. */
  readonly level: number;
  /** Completed measured requests the intervals come from. */
  readonly requests: number;
  /** Null for a metric with no values. */
  readonly latency: Readonly<Record<LatencyMetric, Readonly<Record<LatencyStatistic, Interval>> | null>>;
  readonly throughputReqS: Interval | null;
  readonly outputTokensPerS: Interval | null;
  readonly tokensPerSMean: Interval | null;
  /** Null when the run has too few completions for the check (steady.ts). */
  readonly steady: SteadyState | null;
}

/** The bootstrap seed of a run: its id, so two runs compared draw independent resamples and a rerun draws the same. */
export const runSeed = (run: Pick<RunFile, 'id'>): number => seedFromString(run.id);

/** The run's bootstrap, seeded by its id (what compare pairs between runs). */
export function runBootstrap(run: RunFile): RunBootstrap {
  return bootstrapRun(run.requests, { seed: runSeed(run) });
}

const ci = (e: Estimate | null): Interval | null => (e ? [e.ci95[0], e.ci95[1]] : null);

/** The intervals of a bootstrap, without its resamples (small, JSON-safe, fit to pass between threads). */
export function intervalsOf(b: RunBootstrap, steady: SteadyState | null): RunIntervals {
  const latency = {} as Record<LatencyMetric, Record<LatencyStatistic, Interval> | null>;
  for (const m of LATENCY_METRICS) {
    const est = b.latency[m];
    latency[m] = est ? (Object.fromEntries(LATENCY_STATISTICS.map((s) => [s, ci(est[s])!])) as Record<LatencyStatistic, Interval>) : null;
  }
  return {
    seed: b.seed,
    resamples: b.resamples,
    level: b.level,
    requests: b.requests,
    latency,
    throughputReqS: ci(b.throughputReqS),
    outputTokensPerS: ci(b.outputTokensPerS),
    tokensPerSMean: ci(b.tokensPerSMean),
    steady,
  };
}

/** Every interval of a saved run, and its steady-state check. */
export function runIntervals(run: RunFile): RunIntervals {
  return intervalsOf(runBootstrap(run), steadyState(run.requests, { seed: runSeed(run) }));
}

/** The run's notes with the steady-state warning added when its latency drifts (as runs show and the exports list them). */
export function notesWithSteady(run: Pick<RunFile, 'notes'>, iv: Pick<RunIntervals, 'steady'>): string[] {
  const note = iv.steady?.note;
  if (!note) return [...run.notes];
  const s = iv.steady!;
  return [...run.notes, `${note} (E2E median drifted ${s.driftPct >= 0 ? '+' : ''}${s.driftPct.toFixed(1)}% from the first third of the run to the last)`];
}

/** An interval's ends in ms (or a rate), 3 significant digits, no unit: "1870–2920". */
export const bareRange = (iv: Interval | null): string => (iv ? `${sig3(iv[0])}–${sig3(iv[1])}` : NONE);

/**
 * The interval table of `runs show` and the Markdown report: a header (metric, p50, p90, p95, p99, mean) and one
 * row per latency metric with values, each cell "lo–hi" in ms.
 */
export function intervalTable(iv: RunIntervals): string[][] {
  const rows = LATENCY_METRICS.filter((m) => iv.latency[m] !== null).map((m) => [METRIC_LABELS[m], ...LATENCY_STATISTICS.map((s) => bareRange(iv.latency[m]![s]))]);
  return [['METRIC', ...LATENCY_STATISTICS.map((s) => s.toUpperCase())], ...rows];
}

/** "throughput 0.70–0.85 req/s, output 5.6–6.8 tok/s, per request 3.1–3.5 tok/s". */
export function rateIntervalsText(iv: RunIntervals): string {
  const r = (x: Interval | null, unit: string) => (x ? rangeText(x, (v) => fmtRate(v, unit)) : NONE);
  return `throughput ${r(iv.throughputReqS, 'req/s')}, output ${r(iv.outputTokensPerS, 'tok/s')}, per request ${r(iv.tokensPerSMean, 'tok/s')}`;
}
