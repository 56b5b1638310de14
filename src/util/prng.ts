// The one seeded pseudo-random generator: the synthetic image set, the scheduler's request order and the report's
// bootstrap all draw from it, so a seed means the same numbers everywhere. Pure and dependency-free (it lives in
// util so that src/report can use it without loading the synthetic set's sharp).

/** mulberry32: small, fast, deterministic. Returns uniform numbers in [0, 1) with 32 random bits each. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
