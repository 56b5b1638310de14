// Resampling whole requests in random blocks: the bootstrap of means and of the pooled ITL (see bootstrap.ts for
// why). The requests are dealt, in a seeded random order, into G blocks of near-equal size (sizes differ by at most
// one); each resample draws G blocks with replacement. With G equal to the request count every block is one
// request and this is the plain request bootstrap. Pure.
import { shuffle, type Uniform } from './random.js';

export class RequestBlocks {
  /** Number of blocks, G. */
  readonly blocks: number;
  /** Block of each item (request), by the item's index. */
  readonly blockOf: Int32Array;
  /** How many times resample b drew block g: counts[b * blocks + g]. */
  readonly counts: Int32Array;
  readonly resamples: number;

  /**
   * @param items number of requests
   * @param maxBlocks G is min(items, maxBlocks)
   * @param resamples B, the number of resamples
   */
  constructor(items: number, maxBlocks: number, resamples: number, rand: Uniform) {
    const g = Math.max(1, Math.min(items, maxBlocks));
    this.blocks = g;
    this.resamples = resamples;
    const order = new Int32Array(items);
    for (let i = 0; i < items; i++) order[i] = i;
    if (g < items) shuffle(order, rand);
    this.blockOf = new Int32Array(items);
    // Dealt round-robin from the shuffled order: blocks are random groups of requests (with G = items, block i
    // is request i and no shuffle is needed).
    for (let i = 0; i < items; i++) this.blockOf[order[i]] = i % g;
    const counts = new Int32Array(resamples * g);
    for (let b = 0; b < resamples; b++) {
      const base = b * g;
      for (let k = 0; k < g; k++) counts[base + Math.floor(rand() * g)]++;
    }
    this.counts = counts;
  }

  /** Per-block sums of a per-item quantity. */
  blockSums(perItem: ArrayLike<number>): Float64Array {
    const s = new Float64Array(this.blocks);
    for (let i = 0; i < perItem.length; i++) s[this.blockOf[i]] += perItem[i];
    return s;
  }

  /** Per-block item counts. */
  blockSizes(): Float64Array {
    const s = new Float64Array(this.blocks);
    for (let i = 0; i < this.blockOf.length; i++) s[this.blockOf[i]]++;
    return s;
  }

  /** sum_g c[b,g] * x[g] for resample b. */
  dot(b: number, x: Float64Array, offset = 0): number {
    const g = this.blocks;
    const c = this.counts;
    const base = b * g;
    let s = 0;
    for (let k = 0; k < g; k++) s += c[base + k] * x[offset + k];
    return s;
  }

  /** dot(b, x) and dot(b, y) in one sweep. */
  dot2(b: number, x: Float64Array, y: Float64Array): [number, number] {
    const g = this.blocks;
    const c = this.counts;
    const base = b * g;
    let sx = 0;
    let sy = 0;
    for (let k = 0; k < g; k++) {
      const w = c[base + k];
      sx += w * x[k];
      sy += w * y[k];
    }
    return [sx, sy];
  }

  /** ratioResamples for several numerators over one denominator, in one sweep per resample. */
  ratiosResamples(numerators: readonly Float64Array[], denominator: Float64Array): Float64Array[] {
    const k = numerators.length;
    const out = numerators.map(() => new Float64Array(this.resamples));
    const g = this.blocks;
    const c = this.counts;
    // Block-major copy of the numerators, so one block's values sit together.
    const rows = new Float64Array(g * k);
    for (let j = 0; j < k; j++) for (let q = 0; q < g; q++) rows[q * k + j] = numerators[j][q];
    const num = new Float64Array(k);
    for (let b = 0; b < this.resamples; b++) {
      const base = b * g;
      num.fill(0);
      let den = 0;
      for (let q = 0; q < g; q++) {
        const w = c[base + q];
        if (w === 0) continue;
        den += w * denominator[q];
        const r = q * k;
        for (let j = 0; j < k; j++) num[j] += w * rows[r + j];
      }
      for (let j = 0; j < k; j++) out[j][b] = num[j] / den;
    }
    return out;
  }

  /** The resampled ratio sum(numerator) / sum(denominator) for every resample (a mean when the denominator counts items). */
  ratioResamples(numerator: Float64Array, denominator: Float64Array): Float64Array {
    const out = new Float64Array(this.resamples);
    const g = this.blocks;
    const c = this.counts;
    for (let b = 0; b < this.resamples; b++) {
      const base = b * g;
      let num = 0;
      let den = 0;
      for (let k = 0; k < g; k++) {
        const w = c[base + k];
        num += w * numerator[k];
        den += w * denominator[k];
      }
      out[b] = num / den;
    }
    return out;
  }
}
