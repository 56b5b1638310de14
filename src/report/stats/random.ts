// Seeded random variates for the bootstrap, all drawn from the project's one PRNG (src/util/prng.ts): uniform
// integers, standard normals, gamma and beta variates, a shuffle, and seeds derived from names. Pure and
// deterministic: the same seed gives the same numbers on every machine.
import { prng } from '../../util/prng.js';

export type Uniform = () => number;

/** FNV-1a over the string's UTF-16 code units: a stable 32-bit seed from a run id (or any name). */
export function seedFromString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * An independent stream for one purpose (e.g. "e2eMs" or "throughput") under a seed, so adding or reordering
 * statistics never changes another statistic's resamples.
 */
export function subStream(seed: number, purpose: string): Uniform {
  // splitmix32-style finaliser of the seed mixed with the purpose's hash.
  let z = (seed ^ Math.imul(seedFromString(purpose), 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return prng((z ^ (z >>> 16)) >>> 0);
}

/** A uniform integer in [0, n). */
export const randomInt = (rand: Uniform, n: number): number => Math.floor(rand() * n);

/** Fisher-Yates, in place. */
export function shuffle<T extends { length: number; [i: number]: number }>(a: T, rand: Uniform): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/** Standard normal variates (Marsaglia's polar method; the second variate of each pair is kept for the next call). */
export function normalSampler(rand: Uniform): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    let u: number, v: number, s: number;
    do {
      u = 2 * rand() - 1;
      v = 2 * rand() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    spare = v * f;
    return u * f;
  };
}

/** Gamma(shape, 1) variates for shape >= 1 (Marsaglia and Tsang, 2000). */
export function gammaSampler(rand: Uniform): (shape: number) => number {
  const normal = normalSampler(rand);
  return (shape: number) => {
    if (!(shape >= 1)) throw new RangeError(`gamma shape must be >= 1 (got ${shape})`);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number, v: number;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = rand();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2) return d * v;
      if (Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
    }
  };
}

/** Beta(a, b) variates for a, b >= 1, as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). */
export function betaSampler(rand: Uniform): (a: number, b: number) => number {
  const gamma = gammaSampler(rand);
  return (a: number, b: number) => {
    const x = gamma(a);
    return x / (x + gamma(b));
  };
}
