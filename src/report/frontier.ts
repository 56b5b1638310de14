// The latency-throughput Pareto frontier of a sweep: the points that no other point beats on both counts (as fast
// or faster at the tail and at least as much throughput, strictly better on one). Shared by the HTML sweep report
// and the terminal scatter, so both mark the same points. Pure.

/** A sweep point as the frontier sees it: request throughput (higher is better) and p95 E2E latency (lower). */
export interface FrontierInput {
  readonly throughputReqS: number | null;
  readonly latencyMs: number | null;
}

const usable = (p: FrontierInput): p is { throughputReqS: number; latencyMs: number } =>
  p.throughputReqS !== null && p.latencyMs !== null && Number.isFinite(p.throughputReqS) && Number.isFinite(p.latencyMs);

/** True when `a` dominates `b`: no worse on both, strictly better on at least one. */
export function dominates(a: FrontierInput, b: FrontierInput): boolean {
  if (!usable(a) || !usable(b)) return false;
  const noWorse = a.throughputReqS >= b.throughputReqS && a.latencyMs <= b.latencyMs;
  return noWorse && (a.throughputReqS > b.throughputReqS || a.latencyMs < b.latencyMs);
}

/**
 * Indices of the points on the Pareto frontier, ordered by throughput (ties: by latency, then index). Points
 * without both numbers (a run with no completed request) are never on it. Identical points do not dominate each
 * other, so ties are all on the frontier; a single usable point is the frontier. O(n²), for sweeps of hundreds.
 */
export function paretoFrontier(points: readonly FrontierInput[]): number[] {
  const on: number[] = [];
  points.forEach((p, i) => {
    if (usable(p) && !points.some((q, j) => j !== i && dominates(q, p))) on.push(i);
  });
  return on.sort((i, j) => points[i].throughputReqS! - points[j].throughputReqS! || points[i].latencyMs! - points[j].latencyMs! || i - j);
}
