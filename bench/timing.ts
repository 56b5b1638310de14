// Shared timing for the benchmarks: warm up, run a number of repetitions, report the median and the minimum.
// Medians, because these shared 2-core machines have noisy neighbours.

export interface Stat {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/** The median of `xs` (the upper one of an even count), as every benchmark reports it. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

export async function measure(reps: number, warmup: number, run: () => unknown): Promise<Stat> {
  for (let i = 0; i < warmup; i++) await run();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    ts.push(performance.now() - t0);
  }
  const round = (v: number) => Math.round(v * 100) / 100;
  return { medianMs: round(median(ts)), minMs: round(Math.min(...ts)), maxMs: round(Math.max(...ts)) };
}
