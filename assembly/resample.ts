// Pillow-exact BILINEAR kernels (Resample.c, 8 bits per channel, PRECISION_BITS 22) in WebAssembly SIMD,
// plus the (v/255 - 0.5)/0.5 normalization fused into the vertical pass. The JS host
// (src/panscan/resample.ts) owns the linear-memory layout and the coefficient tables; these functions only
// read and write the addresses they are given. Loads run past the last pixel they use (16-byte vertical and
// normalize loads by up to 15 bytes, 8-byte horizontal taps by up to 5 bytes plus the zero-weight padding
// taps), so every buffer read needs that much readable slack; the extra lanes get zero weight or are
// discarded. Stores run up to 15 bytes past a row (rows are written in order, so the next row overwrites
// them) and need the same slack after the last row.

const PRECISION_BITS: i32 = 22;
const HALF_ROUNDING: i32 = 1 << (PRECISION_BITS - 1);

// Swizzle masks taking the R, G and B bytes of 4 consecutive packed pixels to four zero-extended i32 lanes
// each (index 0xff selects zero). Kept in memory so the kernels load them once into locals: the engine
// would rematerialize a v128 constant inside the loop.
const MASKS: usize = memory.data<u8>([
  0, 255, 255, 255, 3, 255, 255, 255, 6, 255, 255, 255, 9, 255, 255, 255,
  1, 255, 255, 255, 4, 255, 255, 255, 7, 255, 255, 255, 10, 255, 255, 255,
  2, 255, 255, 255, 5, 255, 255, 255, 8, 255, 255, 255, 11, 255, 255, 255,
], 16);

// Normalization constants, loaded (not materialized) so the engine keeps them in registers across loops.
const NORM_CONSTS: usize = memory.data<f32>([127.5, 127.5, 127.5, 127.5, 1.0, 1.0, 1.0, 1.0], 16);

/** First free byte after the module's static data: the host lays its buffers out from here. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * The horizontal pass for 4 rows at once: they share each weight splat, offset load and the loop. T taps
 * per output pixel; T is a constant at every call site up to 8, so the unrolled `if (T > k)` arms fold
 * away, and larger T finishes in a loop. Each tap loads 8 bytes at the pixel (lanes R, G, B and the next
 * pixel's R, which accumulates junk in lane 3 that is never stored); the per-tap byte offsets are
 * immediates so the engine folds them into the addressing.
 */
@inline
function hRows4(s0: usize, s1: usize, s2: usize, s3: usize, d0: usize, d1: usize, d2: usize, d3: usize, outW: i32, offs: usize, coefs: usize, T: i32): void {
  const half = i32x4.splat(HALF_ROUNDING);
  const kStep = <usize>(T << 2);
  let kp = coefs;
  for (let x = 0; x < outW; x++) {
    const o = <usize>load<i32>(offs + (<usize>x << 2));
    const p0 = s0 + o;
    const p1 = s1 + o;
    const p2 = s2 + o;
    const p3 = s3 + o;
    let a0 = half;
    let a1 = half;
    let a2 = half;
    let a3 = half;
    {
      const w = v128.load32_splat(kp, 0);
      a0 = i32x4.add(a0, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p0, 0)), w));
      a1 = i32x4.add(a1, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p1, 0)), w));
      a2 = i32x4.add(a2, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p2, 0)), w));
      a3 = i32x4.add(a3, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p3, 0)), w));
    }
    if (T > 1) {
      const w = v128.load32_splat(kp, 4);
      a0 = i32x4.add(a0, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p0, 3)), w));
      a1 = i32x4.add(a1, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p1, 3)), w));
      a2 = i32x4.add(a2, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p2, 3)), w));
      a3 = i32x4.add(a3, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p3, 3)), w));
    }
    if (T > 2) {
      const w = v128.load32_splat(kp, 8);
      a0 = i32x4.add(a0, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p0, 6)), w));
      a1 = i32x4.add(a1, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p1, 6)), w));
      a2 = i32x4.add(a2, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p2, 6)), w));
      a3 = i32x4.add(a3, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p3, 6)), w));
    }
    if (T > 3) {
      const w = v128.load32_splat(kp, 12);
      a0 = i32x4.add(a0, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p0, 9)), w));
      a1 = i32x4.add(a1, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p1, 9)), w));
      a2 = i32x4.add(a2, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p2, 9)), w));
      a3 = i32x4.add(a3, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p3, 9)), w));
    }
    if (T > 4) {
      const w = v128.load32_splat(kp, 16);
      a0 = i32x4.add(a0, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p0, 12)), w));
      a1 = i32x4.add(a1, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p1, 12)), w));
      a2 = i32x4.add(a2, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p2, 12)), w));
      a3 = i32x4.add(a3, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p3, 12)), w));
    }
    if (T > 5) {
      const w = v128.load32_splat(kp, 20);
      a0 = i32x4.add(a0, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p0, 15)), w));
      a1 = i32x4.add(a1, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p1, 15)), w));
      a2 = i32x4.add(a2, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p2, 15)), w));
      a3 = i32x4.add(a3, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p3, 15)), w));
    }
    if (T > 6) {
      const w = v128.load32_splat(kp, 24);
      a0 = i32x4.add(a0, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p0, 18)), w));
      a1 = i32x4.add(a1, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p1, 18)), w));
      a2 = i32x4.add(a2, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p2, 18)), w));
      a3 = i32x4.add(a3, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p3, 18)), w));
    }
    if (T > 7) {
      const w = v128.load32_splat(kp, 28);
      a0 = i32x4.add(a0, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p0, 21)), w));
      a1 = i32x4.add(a1, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p1, 21)), w));
      a2 = i32x4.add(a2, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p2, 21)), w));
      a3 = i32x4.add(a3, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p3, 21)), w));
    }
    for (let t = 8; t < T; t++) {
      const w = v128.load32_splat(kp + <usize>(t << 2));
      const q = <usize>(t * 3);
      a0 = i32x4.add(a0, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p0 + q)), w));
      a1 = i32x4.add(a1, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p1 + q)), w));
      a2 = i32x4.add(a2, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p2 + q)), w));
      a3 = i32x4.add(a3, i32x4.mul(i32x4.extend_low_i16x8_u(v128.load8x8_u(p3 + q)), w));
    }
    kp += kStep;
    // Pillow's clip8: (acc >> 22) clamped to [0, 255] by the two saturating narrows.
    const lo = i16x8.narrow_i32x4_s(i32x4.shr_s(a0, PRECISION_BITS), i32x4.shr_s(a1, PRECISION_BITS));
    const hi = i16x8.narrow_i32x4_s(i32x4.shr_s(a2, PRECISION_BITS), i32x4.shr_s(a3, PRECISION_BITS));
    const px = i8x16.narrow_i16x8_u(lo, hi);
    // 4 bytes per row: the 4th is overwritten by the next pixel or lands in the row's padding.
    const at = <usize>(x * 3);
    v128.store32_lane(d0 + at, px, 0);
    v128.store32_lane(d1 + at, px, 1);
    v128.store32_lane(d2 + at, px, 2);
    v128.store32_lane(d3 + at, px, 3);
  }
}

/**
 * Horizontal pass over `rows` rows of packed RGB. For output pixel x the taps start at byte
 * `load<i32>(offs + 4x)` of the source row and use `taps` weights at `coefs + 4 * taps * x` (zero-padded
 * past Pillow's tap count, so every pixel runs alike). Output rows are outW*3 bytes, dstStride apart;
 * dstStride must leave at least one spare byte after each row.
 */
export function hPass(src: usize, srcStride: i32, rows: i32, dst: usize, dstStride: i32, outW: i32, offs: usize, coefs: usize, taps: i32): void {
  for (let y = 0; y < rows; y += 4) {
    // A short last group repeats its last row: same inputs, same bytes, written twice.
    const y1 = min(y + 1, rows - 1);
    const y2 = min(y + 2, rows - 1);
    const y3 = min(y + 3, rows - 1);
    const s0 = src + <usize>(y * srcStride);
    const s1 = src + <usize>(y1 * srcStride);
    const s2 = src + <usize>(y2 * srcStride);
    const s3 = src + <usize>(y3 * srcStride);
    const d0 = dst + <usize>(y * dstStride);
    const d1 = dst + <usize>(y1 * dstStride);
    const d2 = dst + <usize>(y2 * dstStride);
    const d3 = dst + <usize>(y3 * dstStride);
    switch (taps) {
      case 2: hRows4(s0, s1, s2, s3, d0, d1, d2, d3, outW, offs, coefs, 2); break;
      case 3: hRows4(s0, s1, s2, s3, d0, d1, d2, d3, outW, offs, coefs, 3); break;
      case 4: hRows4(s0, s1, s2, s3, d0, d1, d2, d3, outW, offs, coefs, 4); break;
      case 5: hRows4(s0, s1, s2, s3, d0, d1, d2, d3, outW, offs, coefs, 5); break;
      case 6: hRows4(s0, s1, s2, s3, d0, d1, d2, d3, outW, offs, coefs, 6); break;
      case 7: hRows4(s0, s1, s2, s3, d0, d1, d2, d3, outW, offs, coefs, 7); break;
      case 8: hRows4(s0, s1, s2, s3, d0, d1, d2, d3, outW, offs, coefs, 8); break;
      default: hRows4(s0, s1, s2, s3, d0, d1, d2, d3, outW, offs, coefs, taps);
    }
  }
}

/**
 * Vertical pass for one output row: rowBytes bytes (a multiple of 16 is fastest; the last chunk may run
 * past) from `n` source rows starting at `src`, stride `stride`, weights at `kp`. Writes u8 to dst.
 */
@inline
function vRow(src: usize, stride: usize, rowBytes: i32, n: i32, kp: usize, dst: usize): void {
  const half = i32x4.splat(HALF_ROUNDING);
  for (let off: usize = 0; off < <usize>rowBytes; off += 16) {
    let a0 = half;
    let a1 = half;
    let a2 = half;
    let a3 = half;
    let p = src + off;
    let k = kp;
    for (let t = 0; t < n; t++) {
      const v = v128.load(p);
      const w = v128.load32_splat(k);
      const lo = i16x8.extend_low_i8x16_u(v);
      const hi = i16x8.extend_high_i8x16_u(v);
      a0 = i32x4.add(a0, i32x4.mul(i32x4.extend_low_i16x8_u(lo), w));
      a1 = i32x4.add(a1, i32x4.mul(i32x4.extend_high_i16x8_u(lo), w));
      a2 = i32x4.add(a2, i32x4.mul(i32x4.extend_low_i16x8_u(hi), w));
      a3 = i32x4.add(a3, i32x4.mul(i32x4.extend_high_i16x8_u(hi), w));
      p += stride;
      k += 4;
    }
    const r = i8x16.narrow_i16x8_u(
      i16x8.narrow_i32x4_s(i32x4.shr_s(a0, PRECISION_BITS), i32x4.shr_s(a1, PRECISION_BITS)),
      i16x8.narrow_i32x4_s(i32x4.shr_s(a2, PRECISION_BITS), i32x4.shr_s(a3, PRECISION_BITS)),
    );
    v128.store(dst + off, r);
  }
}

/**
 * Output rows y0..y1 of the vertical pass as u8 RGB rows (rowBytes each, dstStride apart). For row y the
 * taps start at source row bounds[2y] and number bounds[2y+1]; weights at coefs + 4*ks*y.
 */
export function vPassRgb(src: usize, srcStride: i32, rowBytes: i32, y0: i32, y1: i32, bounds: usize, coefs: usize, ks: i32, dst: usize, dstStride: i32): void {
  for (let y = y0; y < y1; y++) {
    const ymin = load<i32>(bounds + (<usize>y << 3));
    const n = load<i32>(bounds + (<usize>y << 3), 4);
    vRow(src + <usize>(ymin * srcStride), <usize>srcStride, rowBytes, n, coefs + <usize>(y * ks * 4), dst + <usize>((y - y0) * dstStride));
  }
}

/**
 * Packed RGB u8 pixels -> three float32 planes, value (u/255 - 0.5)/0.5 bit-identical to the slow-path LUT
 * of panscan-spec.md §2.5: f32(u/127.5) - 1 rounds the same way in every one of the 256 cases (checked by
 * the host at load time and by the tests).
 */
@inline
function normalizeRow(src: usize, pixels: i32, outR: usize, outG: usize, outB: usize): void {
  const mr = v128.load(MASKS);
  const mg = v128.load(MASKS, 16);
  const mb = v128.load(MASKS, 32);
  const div = v128.load(NORM_CONSTS);
  const one = v128.load(NORM_CONSTS, 16);
  let i = 0;
  for (; i + 4 <= pixels; i += 4) {
    const v = v128.load(src + <usize>(i * 3));
    const o = <usize>(i << 2);
    v128.store(outR + o, f32x4.sub(f32x4.div(f32x4.convert_i32x4_s(i8x16.swizzle(v, mr)), div), one));
    v128.store(outG + o, f32x4.sub(f32x4.div(f32x4.convert_i32x4_s(i8x16.swizzle(v, mg)), div), one));
    v128.store(outB + o, f32x4.sub(f32x4.div(f32x4.convert_i32x4_s(i8x16.swizzle(v, mb)), div), one));
  }
  for (; i < pixels; i++) {
    const p = src + <usize>(i * 3);
    const o = <usize>(i << 2);
    store<f32>(outR + o, <f32>load<u8>(p) / <f32>127.5 - <f32>1.0);
    store<f32>(outG + o, <f32>load<u8>(p, 1) / <f32>127.5 - <f32>1.0);
    store<f32>(outB + o, <f32>load<u8>(p, 2) / <f32>127.5 - <f32>1.0);
  }
}

/**
 * Output rows y0..y1 of the vertical pass, normalized into three float32 planes at out, out + planeBytes,
 * out + 2*planeBytes, each row `width` floats after the previous. `tmp` holds one u8 row (width*3 + slack).
 */
export function vPassNormalize(
  src: usize, srcStride: i32, width: i32, y0: i32, y1: i32, bounds: usize, coefs: usize, ks: i32,
  tmp: usize, out: usize, planeBytes: i32,
): void {
  const rowBytes = width * 3;
  for (let y = y0; y < y1; y++) {
    const ymin = load<i32>(bounds + (<usize>y << 3));
    const n = load<i32>(bounds + (<usize>y << 3), 4);
    vRow(src + <usize>(ymin * srcStride), <usize>srcStride, rowBytes, n, coefs + <usize>(y * ks * 4), tmp);
    const o = out + <usize>((y - y0) * width * 4);
    normalizeRow(tmp, width, o, o + <usize>planeBytes, o + <usize>(planeBytes * 2));
  }
}

/** Normalizes `pixels` packed RGB u8 pixels at src into three planes (for checking against the LUT). */
export function normalizePixels(src: usize, pixels: i32, out: usize, planeBytes: i32): void {
  normalizeRow(src, pixels, out, out + <usize>planeBytes, out + <usize>(planeBytes * 2));
}
