// Steady state (issue 12, item 4): does a run's latency drift? The E2E median of its first third of completions
// is compared with that of its last third (by completion time), each with its 95% bootstrap interval. When the
// two intervals do not overlap, the run is not steady: it was still warming up (caches, JIT, clocks) or its queue
// kept growing, and its statistics mix two regimes. Pure.
import type { RequestRecord } from '../../engine/types.js';
import { bootstrapPercentile, DEFAULT_BOOTSTRAP_SEED, type BootstrapOptions } from './bootstrap.js';

export const NOT_STEADY_NOTE = 'not steady: more warmup or a longer run';
/**
 * Requests a third needs for the check (so at least 15 completions). With fewer, the medians' intervals are
 * nearly the thirds' whole ranges, and two thirds of one distribution would fall apart too often by chance
 * (two random sets of 4 separate 3% of the time, of 5 under 1%).
 */
export const STEADY_MIN_PER_THIRD = 5;

export interface ThirdMedian {
  readonly requests: number;
  /** E2E median (nearest rank), ms. */
  readonly median: number;
  readonly ci95: readonly [number, number];
}

export interface SteadyState {
  readonly steady: boolean;
  readonly first: ThirdMedian;
  readonly last: ThirdMedian;
  /** (last - first) / first median, in percent. */
  readonly driftPct: number;
  /** NOT_STEADY_NOTE when not steady, else null. */
  readonly note: string | null;
}

function third(values: number[], seed: number, o: BootstrapOptions): ThirdMedian {
  const e = bootstrapPercentile(values, 50, { ...o, seed })!;
  return { requests: values.length, median: e.value, ci95: e.ci95 };
}

/**
 * The check over a run's measured completed requests (warmup and failures left out). Null when there are fewer
 * than 3 * STEADY_MIN_PER_THIRD of them.
 */
export function steadyState(records: readonly RequestRecord[], o: BootstrapOptions = {}): SteadyState | null {
  const done = records
    .filter((r) => !r.warmup && r.status === 'ok' && r.e2eMs !== null && Number.isFinite(r.e2eMs) && r.finishedAtMs !== null)
    .sort((a, b) => a.finishedAtMs! - b.finishedAtMs! || a.id - b.id);
  const k = Math.floor(done.length / 3);
  if (k < STEADY_MIN_PER_THIRD) return null;
  const seed = (o.seed ?? DEFAULT_BOOTSTRAP_SEED) >>> 0;
  const first = third(done.slice(0, k).map((r) => r.e2eMs!), seed ^ 0x1f1f1f1f, o);
  const last = third(done.slice(done.length - k).map((r) => r.e2eMs!), seed ^ 0x2e2e2e2e, o);
  const steady = first.ci95[1] >= last.ci95[0] && last.ci95[1] >= first.ci95[0];
  return {
    steady,
    first,
    last,
    driftPct: first.median !== 0 ? ((last.median - first.median) / first.median) * 100 : 0,
    note: steady ? null : NOT_STEADY_NOTE,
  };
}
