// Order statistics for the bootstrap: the nearest-rank percentile's rank (the definition the run summary uses,
// see nearestRankPercentile in src/engine/stats.ts), an in-place selection (Floyd-Rivest) for large pooled samples,
// and the percentile interval of a resample distribution. Pure.

/**
 * The 1-based rank of the nearest-rank p-th percentile among n values: ceil(p/100 * n), at least 1, at most n.
 * Sorted ascending, the percentile is sorted[rank - 1]. Equal to nearestRankPercentile's choice.
 */
export function nearestRank(p: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * n - 1e-9)));
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/**
 * Rearranges a[left..right] so that a[k] holds the value it would hold were the range sorted, everything before it
 * is <= a[k] and everything after is >= a[k] (Floyd and Rivest's SELECT, expected O(n)). No NaNs.
 */
export function quickselect(a: Float64Array, k: number, left = 0, right = a.length - 1): void {
  while (right > left) {
    if (right - left > 600) {
      // Recurse on a small sample around k to pick pivots that bracket it tightly.
      const n = right - left + 1;
      const m = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (m - n / 2 < 0 ? -1 : 1);
      const newLeft = Math.max(left, Math.floor(k - (m * s) / n + sd));
      const newRight = Math.min(right, Math.floor(k + ((n - m) * s) / n + sd));
      quickselect(a, k, newLeft, newRight);
    }
    const t = a[k];
    let i = left;
    let j = right;
    swap(a, left, k);
    if (a[right] > t) swap(a, left, right);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i] < t) i++;
      while (a[j] > t) j--;
    }
    if (a[left] === t) swap(a, left, j);
    else {
      j++;
      swap(a, j, right);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

/**
 * The two-sided percentile interval of a resample distribution at `level` (e.g. 0.95): the nearest-rank
 * (1 - level)/2 and (1 + level)/2 quantiles of the resampled values. NaNs are not expected (and sort last).
 */
export function percentileInterval(resamples: Float64Array, level: number): [number, number] {
  const a = Float64Array.from(resamples);
  const n = a.length;
  const tail = ((1 - level) / 2) * 100;
  const lo = nearestRank(tail, n) - 1;
  const hi = nearestRank(100 - tail, n) - 1;
  quickselect(a, lo);
  // Everything after lo is >= a[lo]: the upper rank is found there.
  if (hi > lo) quickselect(a, hi, lo + 1, n - 1);
  return [a[lo], a[hi]];
}
