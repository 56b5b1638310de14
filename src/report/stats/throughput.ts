// Intervals for the run's rates, request throughput (req/s) and output tokens/s: completions over the measured
// window (first measured enqueue -> last measured finish, as the run summary defines it).
//
// Method: a circular block bootstrap over time (Politis and Romano, 1992). The measured window is cut into K
// equal time bins; each bin holds the completions (and their output tokens) that finished in it. A resample
// strings together ceil(K / L) runs of L consecutive bins, each starting at a random bin and wrapping around the
// end, cut to K bins, and divides its completions by the same window length.
// Why not resample requests: a resampled run always has n completions in the same window, so req/s would have no
// spread at all; and resampling requests within time blocks keeps each block's count, with the same result.
// What varies from run to run is how many completions fit in a stretch of time, and neighbouring stretches are
// not independent (a slow batch delays the next completions; a closed loop refills slots as they free), so whole
// runs of consecutive bins are resampled: L is at least the cube root of K (the usual order for block lengths) and
// at least one median E2E latency long, the time over which one request's slowness holds up others. Wrapping
// around keeps every bin equally likely, so the resampled rate centres on the run's own. Pure.
import { percentileInterval } from './order.js';
import type { Estimate } from './types.js';
import type { Uniform } from './random.js';

/** At most this many time bins. */
export const THROUGHPUT_BINS_MAX = 100;
/** Bins are cut so that they hold about this many completions each on average. */
export const THROUGHPUT_COMPLETIONS_PER_BIN = 2;

export interface Completion {
  /** Finish time, ms from the run's start. */
  readonly finishedAtMs: number;
  readonly outputTokens: number;
}

export interface RateEstimates {
  readonly throughputReqS: Estimate;
  readonly outputTokensPerS: Estimate;
  readonly bins: number;
  /** Block length, in bins. */
  readonly blockBins: number;
}

/**
 * @param windowStartMs first measured enqueue
 * @param windowEndMs last measured finish
 * @param medianE2eMs the run's E2E median, which sets the shortest block (null: no floor)
 */
export function bootstrapRates(
  completions: readonly Completion[],
  windowStartMs: number,
  windowEndMs: number,
  medianE2eMs: number | null,
  resamples: number,
  rand: Uniform,
  level: number,
): RateEstimates | null {
  const wallMs = windowEndMs - windowStartMs;
  if (!(wallMs > 0) || completions.length === 0) return null;
  const K = Math.max(1, Math.min(THROUGHPUT_BINS_MAX, Math.floor(completions.length / THROUGHPUT_COMPLETIONS_PER_BIN)));
  const binMs = wallMs / K;
  const done = new Float64Array(K);
  const tokens = new Float64Array(K);
  let allTokens = 0;
  for (const c of completions) {
    const k = Math.min(K - 1, Math.max(0, Math.floor((c.finishedAtMs - windowStartMs) / binMs)));
    done[k]++;
    tokens[k] += c.outputTokens;
    allTokens += c.outputTokens;
  }
  const byLatency = medianE2eMs !== null && medianE2eMs > 0 ? Math.ceil(medianE2eMs / binMs) : 1;
  const L = Math.max(1, Math.min(Math.max(1, Math.floor(K / 2)), Math.max(Math.round(Math.cbrt(K)), byLatency)));
  const blocksPerResample = Math.ceil(K / L);
  const wallS = wallMs / 1000;
  const req = new Float64Array(resamples);
  const tok = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let n = 0;
    let t = 0;
    let left = K;
    for (let k = 0; k < blocksPerResample; k++) {
      let i = Math.floor(rand() * K);
      for (let j = 0; j < L && left > 0; j++, left--) {
        n += done[i];
        t += tokens[i];
        if (++i === K) i = 0;
      }
    }
    req[b] = n / wallS;
    tok[b] = t / wallS;
  }
  return {
    throughputReqS: { value: completions.length / wallS, ci95: percentileInterval(req, level), resamples: req },
    outputTokensPerS: { value: allTokens / wallS, ci95: percentileInterval(tok, level), resamples: tok },
    bins: K,
    blockBins: L,
  };
}
