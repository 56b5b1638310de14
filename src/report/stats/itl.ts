// The bootstrap of the pooled inter-token latency (ITL: every gap between consecutive output tokens, pooled over
// requests, token-weighted). Gaps are not independent: one request's gaps share its batch, its replica and its
// moment, so resampling gaps one by one would make the intervals far too narrow. Whole requests are resampled
// instead (their gaps come with them), in the random request blocks of blocks.ts.
//
// A resample's pooled percentile is found without touching its gaps (a 10,000-request run of 256 tokens has
// 2.55 million): around each percentile a window of candidate thresholds (gaps of the run) is set, and for every
// block the number of its gaps below, and at or below, each threshold is counted once, in one pass over the gaps.
// A resample's pooled count at a threshold is then a dot product over the G blocks, so a resample costs
// O(G log thresholds) whatever the token count. The window spans ITL_WINDOW_SDS standard deviations of the
// percentile's resampled rank, estimated from per-request counts below the percentile
// (sqrt(requests * var(below_i - p * gaps_i))), plus three times the longest request's gap count (with few
// requests the rank moves in lumps), so no resample falls outside it in practice (one that would is counted in
// `windowMisses` and takes the window's edge).
// A resample whose rank lands on a threshold gets that gap exactly. One that lands strictly between two
// thresholds is placed the same fraction of the way through the run's own gaps between them (when all gaps are
// known, in smaller runs), else of the way between the two thresholds; a window has ITL_CELLS_PER_WINDOW cells,
// so that is a few percent of the interval at worst (test/report/stats/itl.test.ts measures it against the
// literal request bootstrap). Small runs whose windows hold at most ITL_EXACT_THRESHOLDS_MAX distinct gaps make
// every distinct gap a threshold: exactly the request bootstrap.
//
// The thresholds come from a random subsample of ITL_SUBSAMPLE_GAPS gaps (all of them in smaller runs), so the
// run's gaps are never sorted; the same pass gathers the gaps in a narrow bracket around each percentile's
// subsample estimate, which gives the run's exact percentiles. Pure.
import { LATENCY_STATISTICS, SUMMARY_PERCENTILE_OF, type Estimate, type LatencyEstimates, type LatencyStatistic, type PercentileStatistic } from './types.js';
import { nearestRank, percentileInterval, quickselect } from './order.js';
import type { RequestBlocks } from './blocks.js';
import { randomInt, type Uniform } from './random.js';

/** Half-width of a percentile's threshold window, in standard deviations of its resampled rank. */
export const ITL_WINDOW_SDS = 6;
/** Cells between thresholds per percentile window (when the window holds more distinct gaps than this). */
export const ITL_CELLS_PER_WINDOW = 128;
/** Small runs (all gaps in the subsample) use every distinct gap of a window as a threshold, up to this many. */
export const ITL_EXACT_THRESHOLDS_MAX = 256;
/** Gaps in the subsample the thresholds come from; runs with fewer gaps use all of them. */
export const ITL_SUBSAMPLE_GAPS = 32_768;
/** Requests used to estimate a window's width (a random subset above this count). */
export const ITL_WIDTH_SAMPLE_REQUESTS = 512;
/** Standard deviations of the subsample's own rank error that windows and brackets also cover. */
const SUBSAMPLE_SDS = 5;
/** The lookup table that narrows a gap's threshold search has at most this many entries. */
const LOOKUP_ENTRIES_MAX = 1 << 18;
/** Index of the high 32-bit word of a float64 in a Uint32Array view (1 on little-endian machines). */
const HI = new Uint32Array(new Float64Array([1]).buffer)[1] === 0x3ff00000 ? 1 : 0;

const PERCENTILES = LATENCY_STATISTICS.filter((s): s is PercentileStatistic => s !== 'mean');

export interface ItlResult {
  readonly stats: LatencyEstimates;
  /** Resample percentiles that fell outside their window (taken as the window's edge); 0 in practice. */
  readonly windowMisses: number;
}

type TokenTimes = readonly (readonly number[])[];

/** The first index j in [lo, hi) with t[j] >= v (t ascending); hi when none. */
function lowerBound(t: Float64Array, v: number, lo = 0, hi = t.length): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Ascending-sorted gaps at the given ascending global gap indices (duplicates allowed). */
function gapsAt(tokenTimes: TokenTimes, offsets: Int32Array, indices: Int32Array): Float64Array {
  const out = new Float64Array(indices.length);
  let i = 0;
  for (let k = 0; k < indices.length; k++) {
    const g = indices[k];
    while (offsets[i + 1] <= g) i++;
    const t = tokenTimes[i];
    const j = g - offsets[i];
    out[k] = t[j + 1] - t[j];
  }
  return out.sort();
}

/**
 * Per percentile (at its estimate xs[w]), the variance over the chosen requests of d_i = below_i - p * gaps_i,
 * where below_i counts request i's gaps at or below the estimate.
 */
function belowVariances(tokenTimes: TokenTimes, chosen: Int32Array, xs: readonly number[], ps: readonly number[]): number[] {
  const [x0, x1, x2, x3] = xs;
  const sum = [0, 0, 0, 0];
  const sumSq = [0, 0, 0, 0];
  for (let k = 0; k < chosen.length; k++) {
    const t = tokenTimes[chosen[k]];
    let c0 = 0;
    let c1 = 0;
    let c2 = 0;
    let c3 = 0;
    let prev = t[0];
    for (let j = 1; j < t.length; j++) {
      const cur = t[j];
      const v = cur - prev;
      prev = cur;
      c0 += v <= x0 ? 1 : 0;
      c1 += v <= x1 ? 1 : 0;
      c2 += v <= x2 ? 1 : 0;
      c3 += v <= x3 ? 1 : 0;
    }
    const gaps = t.length - 1;
    const below = [c0, c1, c2, c3];
    for (let w = 0; w < 4; w++) {
      const d = below[w] - ps[w] * gaps;
      sum[w] += d;
      sumSq[w] += d * d;
    }
  }
  return sum.map((s, w) => Math.max(0, sumSq[w] / chosen.length - (s / chosen.length) ** 2));
}

interface Window {
  readonly stat: PercentileStatistic;
  /** The percentile, 0..100. */
  readonly p: number;
  /** Its rank among the run's gaps (1-based). */
  readonly rank: number;
  /** First and last threshold of the window. */
  readonly first: number;
  readonly last: number;
  /** Column range [LT(first), LE(last)] (see countColumns). */
  c0: number;
  c1: number;
}

/** A range of gaps [lo, hi] gathered in the pass; `below` (gaps < lo) is filled in after it. */
interface Gather {
  lo: number;
  hi: number;
  /** Gaps expected in it (from the subsample), to size its buffer. */
  expected: number;
  values: Float64Array;
  length: number;
  below: number;
}

/** The threshold lookup: entry e lists thresholds [lo[e], hi[e]) whose float64 key is keyBase + e. */
interface Lookup {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly keyBase: number;
  readonly shift: number;
}

function keyOf(v: number, shift: number, f64: Float64Array, u32: Uint32Array): number {
  f64[0] = v;
  return u32[HI] >>> shift;
}

/** Keys are the top bits of a positive double's representation, which order positive doubles. */
function buildLookup(thresholds: Float64Array): Lookup {
  const f64 = new Float64Array(1);
  const u32 = new Uint32Array(f64.buffer);
  const M = thresholds.length;
  let first = 0;
  while (first < M && thresholds[first] <= 0) first++;
  const low = first < M ? thresholds[first] : 1;
  const high = first < M ? thresholds[M - 1] : 1;
  let shift = 8;
  while (keyOf(high, shift, f64, u32) - keyOf(low, shift, f64, u32) >= LOOKUP_ENTRIES_MAX) shift++;
  const keyBase = keyOf(low, shift, f64, u32);
  const entries = keyOf(high, shift, f64, u32) - keyBase + 1;
  const lo = new Int32Array(entries);
  const hi = new Int32Array(entries);
  let j = first;
  for (let e = 0; e < entries; e++) {
    lo[e] = j;
    while (j < M && keyOf(thresholds[j], shift, f64, u32) - keyBase <= e) j++;
    hi[e] = j;
  }
  return { lo, hi, keyBase, shift };
}

/**
 * The one pass over every gap. Columns interleave: for threshold j, column 2j counts gaps < t_j and column
 * 2j + 1 gaps equal to it (cumulated later: then 2j counts gaps < t_j and 2j + 1 gaps <= t_j). Counts are
 * column-major (counts[c * G + g]), as the resamples read them; requests are visited block by block, so the
 * cache lines a block touches serve the next blocks too. Gaps above every threshold are not counted. Gaps that
 * fall in a gather's columns are collected into it.
 */
function countColumns(
  tokenTimes: TokenTimes,
  blockOf: Int32Array,
  blocks: number,
  thresholds: Float64Array,
  look: Lookup,
  gatherOfCol: Int8Array,
  gathers: Gather[],
  between: Between,
): Float64Array {
  const M = thresholds.length;
  const cols = 2 * M;
  const counts = new Float64Array(cols * blocks);
  const tMin = thresholds[0];
  const tMax = thresholds[M - 1];
  const { lo: lookLo, hi: lookHi, keyBase, shift } = look;
  const betweenCol = between.col * blocks;
  const f64 = new Float64Array(1);
  const u32 = new Uint32Array(f64.buffer);
  // Requests block by block (see above).
  const starts = new Int32Array(blocks + 1);
  for (let i = 0; i < blockOf.length; i++) starts[blockOf[i] + 1]++;
  for (let g = 0; g < blocks; g++) starts[g + 1] += starts[g];
  const order = new Int32Array(blockOf.length);
  for (let i = 0; i < blockOf.length; i++) order[starts[blockOf[i]]++] = i;
  for (let k0 = 0; k0 < order.length; k0++) {
    const i = order[k0];
    const g = blockOf[i];
    const t = tokenTimes[i];
    // Most gaps fall below every window or between the two farthest apart: counted per request, added once.
    let below = 0;
    let inBetween = 0;
    let prev = t[0];
    for (let k = 1; k < t.length; k++) {
      const cur = t[k];
      const v = cur - prev;
      prev = cur;
      if (v < tMin) {
        below++;
        continue;
      }
      if (v > tMax) continue;
      if (v > between.lo && v < between.hi) {
        inBetween++;
        continue;
      }
      let j: number;
      if (v > 0) {
        f64[0] = v;
        const e = (u32[HI] >>> shift) - keyBase;
        // e < 0: below the lowest positive threshold (only zero or negative thresholds lie under it).
        j = e < 0 ? lowerBound(thresholds, v) : lookLo[e] === lookHi[e] ? lookLo[e] : lowerBound(thresholds, v, lookLo[e], lookHi[e]);
      } else j = lowerBound(thresholds, v);
      const col = 2 * j + (thresholds[j] === v ? 1 : 0);
      counts[col * blocks + g]++;
      const gi = gatherOfCol[col];
      if (gi >= 0) {
        const b = gathers[gi];
        if (b.length === b.values.length) {
          const grown = new Float64Array(b.values.length * 2);
          grown.set(b.values);
          b.values = grown;
        }
        b.values[b.length++] = v;
      }
    }
    counts[g] += below;
    counts[betweenCol + g] += inBetween;
  }
  return counts;
}

/** An open range of gaps between two windows, with no threshold in it: its gaps all go to column `col`. */
interface Between {
  readonly lo: number;
  readonly hi: number;
  readonly col: number;
}

/** The widest (by subsample count) open range between windows, so the pass can skip the lookup for its gaps. */
function widestBetween(windows: readonly Window[], thresholds: Float64Array, sub: Float64Array): Between {
  const spans: { first: number; last: number }[] = [];
  for (const w of [...windows].sort((a, b) => a.first - b.first)) {
    const last = spans[spans.length - 1];
    if (last && w.first <= last.last) last.last = Math.max(last.last, w.last);
    else spans.push({ first: w.first, last: w.last });
  }
  let best: Between = { lo: 0, hi: 0, col: 0 };
  let bestCount = 0;
  for (let k = 1; k < spans.length; k++) {
    const lo = spans[k - 1].last;
    const hi = spans[k].first;
    const count = lowerBound(sub, hi) - lowerBound(sub, lo);
    if (count > bestCount) {
      bestCount = count;
      best = { lo, hi, col: 2 * lowerBound(thresholds, hi) };
    }
  }
  return best;
}

/** Cumulates column-major counts over columns in place (then counts[c * G + g]: block g's gaps in columns 0..c); returns the totals per column. */
function cumulate(counts: Float64Array, blocks: number, cols: number): Float64Array {
  const own = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    const a = c * blocks;
    let s = 0;
    if (c > 0) for (let g = 0; g < blocks; g++) counts[a + g] += counts[a - blocks + g];
    for (let g = 0; g < blocks; g++) s += counts[a + g];
    own[c] = s;
  }
  return own;
}

/**
 * The smallest column c in [lo, hi] with count(c) >= rank (hi + 1 when none), for a count that grows with c:
 * galloping out from a guess (where the run's own counts, scaled, reach the rank), then bisecting.
 */
function smallestReaching(count: (c: number) => number, rank: number, lo: number, hi: number, guess: number): number {
  let c = Math.min(hi, Math.max(lo, guess));
  let below: number;
  let above: number;
  if (count(c) >= rank) {
    // Down: find a column below the rank.
    above = c;
    let step = 1;
    for (;;) {
      const next = above - step;
      if (next < lo) {
        below = lo - 1;
        break;
      }
      if (count(next) >= rank) {
        above = next;
        step *= 2;
      } else {
        below = next;
        break;
      }
    }
  } else {
    below = c;
    let step = 1;
    for (;;) {
      const next = below + step;
      if (next > hi) {
        above = hi + 1;
        break;
      }
      if (count(next) >= rank) {
        above = next;
        break;
      }
      below = next;
      step *= 2;
    }
  }
  // count(below) < rank <= count(above) (with below = lo - 1 and above = hi + 1 as sentinels).
  while (above - below > 1) {
    c = (below + above) >>> 1;
    if (count(c) >= rank) above = c;
    else below = c;
  }
  return above;
}

/**
 * @param tokenTimes each request's output token times (ms), at least two per request, in the order `blocks`
 *   numbers the requests
 */
export function bootstrapItl(tokenTimes: TokenTimes, blocks: RequestBlocks, rand: Uniform, level: number): ItlResult {
  const items = tokenTimes.length;
  const B = blocks.resamples;
  const G = blocks.blocks;
  const offsets = new Int32Array(items + 1);
  const gapCount = new Float64Array(G);
  const gapSum = new Float64Array(G);
  let total = 0;
  for (let i = 0; i < items; i++) {
    const t = tokenTimes[i];
    const g = blocks.blockOf[i];
    const sum = t[t.length - 1] - t[0];
    offsets[i + 1] = offsets[i] + t.length - 1;
    gapCount[g] += t.length - 1;
    gapSum[g] += sum;
    total += sum;
  }
  const n = offsets[items];
  let maxGaps = 0;
  for (const t of tokenTimes) maxGaps = Math.max(maxGaps, t.length - 1);

  // The subsample (every gap in smaller runs: then `exact`).
  const exact = n <= ITL_SUBSAMPLE_GAPS;
  const S = exact ? n : ITL_SUBSAMPLE_GAPS;
  const picks = new Int32Array(S);
  for (let k = 0; k < S; k++) picks[k] = exact ? k : randomInt(rand, n);
  if (!exact) picks.sort();
  const sub = gapsAt(tokenTimes, offsets, picks);
  const subAt = (r: number): number => sub[Math.min(S, Math.max(1, Math.round(r))) - 1];

  // Window widths: a resample's count of gaps at or below x_p, less p times its gap count, is a sum of
  // d_i = below_i - p * gaps_i over the drawn requests; sqrt(items * var(d)) is the spread of the resampled
  // percentile's rank. From a random subset of requests, at the subsample's x_p.
  const widthItems = Math.min(items, ITL_WIDTH_SAMPLE_REQUESTS);
  const chosen = new Int32Array(widthItems);
  for (let k = 0; k < widthItems; k++) chosen[k] = widthItems === items ? k : randomInt(rand, items);
  const ps = PERCENTILES.map((s) => SUMMARY_PERCENTILE_OF[s] / 100);
  const subRanks = PERCENTILES.map((s) => nearestRank(SUMMARY_PERCENTILE_OF[s], S));
  const variances = belowVariances(tokenTimes, chosen, subRanks.map((r) => sub[r - 1]), ps);

  const candidates: number[] = [];
  const windows: Window[] = [];
  const gathers: Gather[] = [];
  for (let w = 0; w < PERCENTILES.length; w++) {
    const p = ps[w];
    const subRank = subRanks[w];
    const sdRank = Math.sqrt(variances[w] * items);
    // In subsample ranks: the resampled spread, plus the subsample's own error about where x_p lies.
    const subSd = exact ? 0 : Math.sqrt(S * p * (1 - p));
    // With few requests the resampled rank is far from normal (one request's gaps move it in a lump), so the
    // window also spans three of the longest request's gap counts.
    const half = ((ITL_WINDOW_SDS * sdRank + 3 * maxGaps) * S) / n + SUBSAMPLE_SDS * subSd + 2;
    const lo = Math.max(1, Math.floor(subRank - half));
    const hi = Math.min(S, Math.ceil(subRank + half));
    // Every distinct gap of the window when there are few, else evenly spaced ones.
    const cap = exact ? ITL_EXACT_THRESHOLDS_MAX : ITL_CELLS_PER_WINDOW + 1;
    const distinct: number[] = [];
    for (let r = lo; r <= hi && distinct.length <= cap; r++) if (distinct[distinct.length - 1] !== sub[r - 1]) distinct.push(sub[r - 1]);
    if (distinct.length <= cap) candidates.push(...distinct);
    else for (let c = 0; c <= ITL_CELLS_PER_WINDOW; c++) candidates.push(subAt(lo + ((hi - lo) * c) / ITL_CELLS_PER_WINDOW));
    if (!exact) {
      // Gather a bracket around the estimate, for the run's exact percentile.
      const bLo = subAt(subRank - SUBSAMPLE_SDS * subSd - 2);
      const bHi = subAt(subRank + SUBSAMPLE_SDS * subSd + 2);
      candidates.push(bLo, bHi);
      gathers.push({ lo: bLo, hi: bHi, expected: (2 * (SUBSAMPLE_SDS * subSd + 2) * n) / S, values: new Float64Array(0), length: 0, below: 0 });
    }
    const pct = SUMMARY_PERCENTILE_OF[PERCENTILES[w]];
    windows.push({ stat: PERCENTILES[w], p: pct, rank: nearestRank(pct, n), first: sub[lo - 1], last: sub[hi - 1], c0: 0, c1: 0 });
  }
  candidates.sort((a, b) => a - b);
  const thresholds = Float64Array.from(candidates.filter((v, i) => i === 0 || v !== candidates[i - 1]));
  const M = thresholds.length;
  for (const w of windows) {
    w.c0 = 2 * lowerBound(thresholds, w.first);
    w.c1 = 2 * lowerBound(thresholds, w.last) + 1;
  }
  // The gather (if any) each column's gaps go to; overlapping gathers merge.
  const merged: Gather[] = [];
  for (const g of gathers.sort((x, y) => x.lo - y.lo)) {
    const last = merged[merged.length - 1];
    if (last && g.lo <= last.hi) {
      last.hi = Math.max(last.hi, g.hi);
      last.expected += g.expected;
    } else merged.push(g);
  }
  const gatherOfCol = new Int8Array(2 * M).fill(-1);
  merged.forEach((g, gi) => {
    g.values = new Float64Array(Math.max(1024, Math.ceil(g.expected * 1.25)));
    // Gaps >= lo and <= hi: from the column of gaps equal to lo to the column of gaps equal to hi.
    for (let c = 2 * lowerBound(thresholds, g.lo) + 1; c <= 2 * lowerBound(thresholds, g.hi) + 1; c++) gatherOfCol[c] = gi;
  });

  const counts = countColumns(tokenTimes, blocks.blockOf, G, thresholds, buildLookup(thresholds), gatherOfCol, merged, widestBetween(windows, thresholds, sub));
  const cols = 2 * M;
  const own = cumulate(counts, G, cols);
  for (const g of merged) {
    g.below = own[2 * lowerBound(thresholds, g.lo)];
    g.values = g.values.subarray(0, g.length);
  }

  // The run's exact percentiles: from the complete subsample; else by selection in the bracket gathered around
  // the subsample's estimate, whose rank offset is the count below its low end.
  const point = new Map<LatencyStatistic, number>([['mean', total / n]]);
  let all: Float64Array | null = null;
  for (const w of windows) {
    let value = exact ? sub[w.rank - 1] : null;
    for (const g of merged) {
      if (value !== null) break;
      if (w.rank > g.below && w.rank <= g.below + g.length) {
        quickselect(g.values, w.rank - g.below - 1);
        value = g.values[w.rank - g.below - 1];
      }
    }
    if (value === null) {
      // The subsample's estimate was more than SUBSAMPLE_SDS off (about one run in a million): select among all.
      if (!all) {
        all = new Float64Array(n);
        let k = 0;
        for (const t of tokenTimes) for (let j = 1; j < t.length; j++) all[k++] = t[j] - t[j - 1];
      }
      quickselect(all, w.rank - 1);
      value = all[w.rank - 1];
    }
    point.set(w.stat, value);
  }

  const res = new Map(LATENCY_STATISTICS.map((s) => [s, new Float64Array(B)] as const));
  const meanRes = res.get('mean')!;
  const outs = windows.map((w) => res.get(w.stat)!);
  const resampled = new Float64Array(cols);
  let b = 0;
  const at = (c: number): number => {
    if (resampled[c] < 0) resampled[c] = blocks.dot(b, counts, c * G);
    return resampled[c];
  };
  let windowMisses = 0;
  for (; b < B; b++) {
    resampled.fill(-1);
    const [count, sum] = blocks.dot2(b, gapCount, gapSum);
    meanRes[b] = sum / count;
    for (let wi = 0; wi < windows.length; wi++) {
      const w = windows[wi];
      const rank = nearestRank(w.p, count);
      // Guess where the run's own counts, scaled, reach the rank; then correct the guess by the resample's count
      // there over the local slope of the counts, and search from the corrected guess.
      const scale = count / n;
      const g0 = Math.min(w.c1, lowerBound(own, rank / scale, w.c0, w.c1 + 1));
      const l = Math.max(w.c0, g0 - 2);
      const h = Math.min(w.c1, g0 + 2);
      const slope = h > l ? ((own[h] - own[l]) * scale) / (h - l) : 0;
      const g1 = slope > 0 ? g0 + Math.round((rank - at(g0)) / slope) : g0;
      const c = smallestReaching(at, rank, w.c0, w.c1, g1);
      if (c === w.c0 || c > w.c1) {
        // Below the window's first threshold, or above its last: take the edge.
        if (c === w.c0 ? w.first > sub[0] : w.last < sub[S - 1]) windowMisses++;
        outs[wi][b] = c === w.c0 ? w.first : w.last;
        continue;
      }
      const j = c >> 1;
      if (c & 1) {
        // The rank lands on threshold j itself.
        outs[wi][b] = thresholds[j];
        continue;
      }
      // Strictly between thresholds j - 1 and j (column c - 1 counts the gaps <= t_j-1): the same fraction of the
      // way through the run's own gaps there when they are known (a complete subsample), else of the way between
      // the thresholds.
      const cLo = at(c - 1);
      const q = (rank - cLo) / (at(c) - cLo);
      const ownLo = own[c - 1];
      outs[wi][b] = exact ? sub[ownLo + Math.max(1, Math.ceil(q * (own[c] - ownLo) - 1e-9)) - 1] : thresholds[j - 1] + q * (thresholds[j] - thresholds[j - 1]);
    }
  }

  const stats = {} as Record<LatencyStatistic, Estimate>;
  for (const s of LATENCY_STATISTICS) {
    const r = res.get(s)!;
    stats[s] = { value: point.get(s)!, ci95: percentileInterval(r, level), resamples: r };
  }
  return { stats, windowMisses };
}
