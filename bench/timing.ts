// Shared timing for the benchmarks: warm up, run a number of repetitions, report the median and the minimum.
// Medians, because these shared 2-core machines have noisy neighbours.

export interface Stat {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export async function measure(reps: number, warmup: number, run: () => unknown): Promise<Stat> {
  for (let i = 0; i < warmup; i++) await run();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 100) / 100;
  return { medianMs: round(ts[ts.length >> 1]), minMs: round(ts[0]), maxMs: round(ts[ts.length - 1]) };
}
