// IEEE 754 half precision for the I/O of fp16 ONNX exports (`*_fp16.onnx`, `*_q4f16.onnx` take pixel values,
// embeddings and the KV cache as float16 and return float16 logits). Node 20 has no Float16Array, so
// onnxruntime-node carries float16 tensors as Uint16Array bit patterns; these convert them, rounding to nearest
// even like onnxruntime's own Cast.
export type FloatType = 'float32' | 'float16';
export type FloatData = Float32Array | Uint16Array;

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The float16 bit pattern nearest to x (ties to even; overflow to infinity; NaN stays NaN). */
export function f32ToF16Bits(x: number): number {
  F32[0] = x;
  const bits = U32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): the value is m * 2^-24 with m = (1.mant) >> shift.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  // A carry out of the mantissa correctly bumps the exponent (and 65520 and up round to infinity).
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

let table: Float32Array | null = null;

/** float32 value of every float16 bit pattern (256 KB, built once). */
export function float16Table(): Float32Array {
  if (table) return table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) t[h] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) t[h] = mant === 0 ? sign * Infinity : NaN;
    else t[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  table = t;
  return t;
}

/** Smallest normal half (2^-14) and the first float32 past the half range, as float32 bit patterns. */
const HALF_NORMAL_MIN_BITS = 0x38800000;
const HALF_RANGE_END_BITS = 0x47800000;

export function toFloat16(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  // On the critical path for pixel values (2.4M elements per image entry): read the bits through a Uint32 view
  // and round normal-range values with one add (ties to even via the kept bit); the rest take the general path.
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    const abs = b & 0x7fffffff;
    if (abs >= HALF_NORMAL_MIN_BITS && abs < HALF_RANGE_END_BITS) {
      dst[i] = ((b >>> 16) & 0x8000) | ((abs - 0x38000000 + 0xfff + ((abs >>> 13) & 1)) >>> 13);
    } else {
      dst[i] = f32ToF16Bits(src[i]);
    }
  }
  return dst;
}

export function toFloat32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  const t = float16Table();
  for (let i = 0; i < src.length; i++) dst[i] = t[src[i]];
  return dst;
}

/** `data` (of element type `from`) as element type `to`: the same array when they agree, else converted. */
export function convertFloats(data: FloatData, from: FloatType, to: FloatType): FloatData {
  if (from === to) return data;
  return to === 'float16' ? toFloat16(data as Float32Array) : toFloat32(data as Uint16Array);
}

/** Index of the largest value in data[start, start + n) (first on ties), reading float16 through the table. */
export function argmax(data: FloatData, type: FloatType, start: number, n: number): number {
  let best = 0;
  if (type === 'float16') {
    const t = float16Table();
    let bestV = t[data[start]];
    for (let v = 1; v < n; v++) {
      const x = t[data[start + v]];
      if (x > bestV) {
        bestV = x;
        best = v;
      }
    }
    return best;
  }
  let bestV = data[start];
  for (let v = 1; v < n; v++) {
    const x = data[start + v];
    if (x > bestV) {
      bestV = x;
      best = v;
    }
  }
  return best;
}
