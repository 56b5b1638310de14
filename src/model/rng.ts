// Seeded, platform-independent random numbers for the tiny model's weights. Each tensor gets its own
// stream derived from (seed, tensor name), so a tensor's values do not depend on the order in which
// tensors are generated, and the same seed gives byte-identical files on every machine (V8's Math.log,
// Math.cos and Math.sin are fdlibm ports, identical across platforms).

/** FNV-1a over the UTF-16 code units of `s`, folded with the seed: a stable 32-bit stream id. */
function streamId(seed: number, s: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** xoshiro128** seeded through splitmix32: fast, 2^128 period, good enough for weights. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number, stream = '') {
    let x = streamId(seed, stream);
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    return result;
  }

  /** Uniform in (0, 1): never 0, so log() in Box-Muller is finite. */
  nextOpenUnit(): number {
    return (this.nextUint32() + 0.5) / 4294967296;
  }

  /** Fills `out` with normal(mean, std) samples (Box-Muller, both outputs used). */
  fillNormal(out: Float32Array, std: number, mean = 0): Float32Array {
    const n = out.length;
    let i = 0;
    for (; i + 1 < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(this.nextOpenUnit())) * std;
      const a = 2 * Math.PI * this.nextOpenUnit();
      out[i] = mean + r * Math.cos(a);
      out[i + 1] = mean + r * Math.sin(a);
    }
    if (i < n) {
      const r = Math.sqrt(-2 * Math.log(this.nextOpenUnit())) * std;
      out[i] = mean + r * Math.cos(2 * Math.PI * this.nextOpenUnit());
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
