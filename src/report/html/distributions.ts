// The numbers behind the HTML reports' charts: histograms, empirical CDFs (downsampled to a few hundred points
// however many samples), CDFs of several runs on one shared x axis, and the run's time in bins. Pure.

/** Rounds to 0.01 (of a ms, a second ...): below HDR precision and what keeps the page's JSON small. */
export const round2 = (v: number): number => Math.round(v * 100) / 100;
export const round2OrNull = (v: number | null | undefined): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : round2(v));

/** The finite values, sorted ascending (a Float64Array sorts numerically). */
export function sortedFinite(values: Iterable<number | null | undefined>): Float64Array {
  const out: number[] = [];
  for (const v of values) if (v !== null && v !== undefined && Number.isFinite(v)) out.push(v);
  return Float64Array.from(out).sort();
}

export interface Histogram {
  /** Bin centres, ascending. */
  readonly x: number[];
  readonly counts: number[];
  readonly binWidth: number;
}

/** Bins: about √n, between 5 and `maxBins`; one bin when every value is the same. */
export function histogram(sorted: Float64Array, maxBins = 40): Histogram {
  const n = sorted.length;
  if (n === 0) return { x: [], counts: [], binWidth: 0 };
  const lo = sorted[0];
  const hi = sorted[n - 1];
  if (hi === lo) return { x: [round2(lo)], counts: [n], binWidth: 0 };
  const bins = Math.max(5, Math.min(maxBins, Math.ceil(Math.sqrt(n))));
  const w = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of sorted) counts[Math.min(bins - 1, Math.floor((v - lo) / w))]++;
  return { x: counts.map((_, i) => round2(lo + (i + 0.5) * w)), counts, binWidth: w };
}

export interface Cdf {
  /** Values, ascending. */
  readonly x: number[];
  /** Share of samples at or below x, in percent. */
  readonly y: number[];
}

/**
 * The empirical CDF through at most `maxPoints` samples evenly spaced in rank (the minimum and maximum always
 * among them), so a million ITL gaps and a dozen requests both draw as a few hundred points.
 */
export function cdf(sorted: Float64Array, maxPoints = 400): Cdf {
  const n = sorted.length;
  if (n === 0) return { x: [], y: [] };
  const m = Math.min(n, Math.max(2, maxPoints));
  const x: number[] = [];
  const y: number[] = [];
  let last = -1;
  for (let k = 0; k < m; k++) {
    const idx = m === 1 ? n - 1 : Math.round((k * (n - 1)) / (m - 1));
    if (idx === last) continue;
    last = idx;
    x.push(round2(sorted[idx]));
    y.push(round2(((idx + 1) / n) * 100));
  }
  return { x, y };
}

/**
 * Several CDFs on one ascending x axis (the union of their x values), each series null where it has no point, so
 * they overlay in one chart (drawn with gaps spanned). Where one series has several points at one x (ties), the
 * highest share is kept.
 */
export function alignCdfs(cdfs: readonly Cdf[]): { x: number[]; series: (number | null)[][] } {
  const xs = [...new Set(cdfs.flatMap((c) => c.x))].sort((a, b) => a - b);
  const at = new Map(xs.map((v, i) => [v, i]));
  const series = cdfs.map((c) => {
    const ys: (number | null)[] = new Array<number | null>(xs.length).fill(null);
    c.x.forEach((v, i) => {
      const j = at.get(v)!;
      ys[j] = Math.max(ys[j] ?? -Infinity, c.y[i]);
    });
    return ys;
  });
  return { x: xs, series };
}

const NICE_STEPS = [1, 2, 5];

/** A round bin width (…, 0.1, 0.2, 0.5, 1, 2, 5, 10, … seconds) giving at most `maxBins` bins over `spanS`. */
export function niceBinS(spanS: number, maxBins = 120): number {
  if (!(spanS > 0)) return 1;
  const raw = spanS / maxBins;
  let mag = 10 ** Math.floor(Math.log10(raw));
  for (;;) {
    for (const s of NICE_STEPS) if (s * mag >= raw) return Math.max(0.01, s * mag);
    mag *= 10;
  }
}

/** Counts of `timesS` (seconds) in bins of `binS` from 0 over `bins` bins; later times land in the last bin. */
export function binCounts(timesS: Iterable<number>, binS: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const t of timesS) if (Number.isFinite(t) && t >= 0) counts[Math.min(bins - 1, Math.floor(t / binS))]++;
  return counts;
}
