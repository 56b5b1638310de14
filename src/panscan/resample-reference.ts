// Reference resampler: a plain scalar transcription of Pillow's Resample.c (BILINEAR, 8 bits per channel)
// kept readable on purpose. Tests use it to prove the fast path in resample.ts is bit-identical; the fast
// path also shares its coefficient tables (precomputeCoeffs), which the Pillow fixtures pin down.
// Source: python-pillow/Pillow src/libImaging/Resample.c (precompute_coeffs, normalize_coeffs_8bpc,
// ImagingResampleHorizontal_8bpc / Vertical_8bpc, ImagingResampleInner); panscan-spec.md §2.5.
import type { CropBox } from './types.js';
import { IMAGE_SIZE_PX } from './types.js';
import type { RgbImage } from './resample.js';

/** Fixed-point fraction bits of Pillow's 8 bpc coefficients: `32 - 8 - 2`. */
export const PRECISION_BITS = 22;
const HALF_ROUNDING = 1 << (PRECISION_BITS - 1);
/** Pillow's BILINEAR filter support, in source pixels at scale 1. */
const BILINEAR_SUPPORT = 1.0;

/** One axis of a resize: for each output index, the first input index and tap count, and fixed-point weights. */
export interface AxisCoeffs {
  readonly inSize: number;
  readonly outSize: number;
  /** Coefficient stride per output index (Pillow's ksize = ceil(support) * 2 + 1); unused taps are 0. */
  readonly ksize: number;
  /** Per output index: [first input index, number of taps]. */
  readonly bounds: Int32Array;
  /** outSize * ksize weights in 1/2^22 units (Pillow's normalize_coeffs_8bpc). */
  readonly kk: Int32Array;
}

function bilinearFilter(x: number): number {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for box (0, inSize), in the same double arithmetic. */
export function precomputeCoeffs(inSize: number, outSize: number): AxisCoeffs {
  // in0 = 0 and in1 = inSize are C floats; for integer sizes < 2^24 their difference is exact.
  const scale = inSize / outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = BILINEAR_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = 0 + (xx + 0.5) * scale;
    const ss = 1.0 / filterscale; // Pillow multiplies by the reciprocal, which can differ from dividing in the last bit
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const v = bilinearFilter((x + xmin - center + 0.5) * ss);
      w[x] = v;
      ww += v;
    }
    for (let x = 0; x < xmax; x++) {
      if (ww !== 0.0) w[x] /= ww;
    }
    for (let x = 0; x < xmax; x++) {
      const k = w[x];
      kk[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * (1 << PRECISION_BITS)) : Math.trunc(0.5 + k * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { inSize, outSize, ksize, bounds, kk };
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Pillow `Image.resize((size, size), BILINEAR)` of the box of src, as size x size RGB HWC bytes. */
export function referenceResizeToRgb(src: RgbImage, box: CropBox, size: number = IMAGE_SIZE_PX): Uint8Array {
  checkBox(src, box);
  const needH = box.width !== size;
  const needV = box.height !== size;
  const srcStride = src.width * 3;
  const srcBase = box.top * srcStride + box.left * 3;
  // After the optional horizontal pass the working image is `cur`, width curW, with `curBase` as its origin.
  let cur = src.data;
  let curStride = srcStride;
  let curBase = srcBase;
  let curW = box.width;
  const vert = precomputeCoeffs(box.height, size);
  let firstRow = 0;
  let lastRow = box.height;
  if (needV) {
    firstRow = vert.bounds[0];
    lastRow = vert.bounds[(size - 1) * 2] + vert.bounds[(size - 1) * 2 + 1];
  }
  if (needH) {
    const hor = precomputeCoeffs(box.width, size);
    const rows = lastRow - firstRow;
    const tmp = new Uint8Array(rows * size * 3);
    for (let yy = 0; yy < rows; yy++) {
      const rowBase = srcBase + (yy + firstRow) * srcStride;
      for (let xx = 0; xx < size; xx++) {
        const xmin = hor.bounds[xx * 2];
        const n = hor.bounds[xx * 2 + 1];
        const k0 = xx * hor.ksize;
        let ss0 = HALF_ROUNDING;
        let ss1 = HALF_ROUNDING;
        let ss2 = HALF_ROUNDING;
        for (let x = 0; x < n; x++) {
          const p = rowBase + (x + xmin) * 3;
          const k = hor.kk[k0 + x];
          ss0 += src.data[p] * k;
          ss1 += src.data[p + 1] * k;
          ss2 += src.data[p + 2] * k;
        }
        const o = (yy * size + xx) * 3;
        tmp[o] = clip8(ss0);
        tmp[o + 1] = clip8(ss1);
        tmp[o + 2] = clip8(ss2);
      }
    }
    cur = tmp;
    curStride = size * 3;
    curBase = -firstRow * curStride; // row r of the box is row r - firstRow of tmp
    curW = size;
  }
  const out = new Uint8Array(size * size * 3);
  if (!needV) {
    for (let y = 0; y < size; y++) {
      out.set(cur.subarray(curBase + y * curStride, curBase + y * curStride + curW * 3), y * size * 3);
    }
    return out;
  }
  for (let yy = 0; yy < size; yy++) {
    const ymin = vert.bounds[yy * 2];
    const n = vert.bounds[yy * 2 + 1];
    const k0 = yy * vert.ksize;
    for (let xx = 0; xx < curW; xx++) {
      let ss0 = HALF_ROUNDING;
      let ss1 = HALF_ROUNDING;
      let ss2 = HALF_ROUNDING;
      for (let y = 0; y < n; y++) {
        const p = curBase + (y + ymin) * curStride + xx * 3;
        const k = vert.kk[k0 + y];
        ss0 += cur[p] * k;
        ss1 += cur[p + 1] * k;
        ss2 += cur[p + 2] * k;
      }
      const o = (yy * size + xx) * 3;
      out[o] = clip8(ss0);
      out[o + 1] = clip8(ss1);
      out[o + 2] = clip8(ss2);
    }
  }
  return out;
}

/** The slow-path normalization of panscan-spec.md §2.5, written out per value (no LUT). */
export function referenceNormalize(u: number): number {
  const r = Math.fround(u * (1 / 255)); // numpy: float64 multiply by the double 1/255, then cast to float32
  return Math.fround((r - 0.5) / 0.5);
}

/** referenceResizeToRgb followed by the normalization, written as float32 CHW into out at outOffset. */
export function referenceResizeNormalizeInto(src: RgbImage, box: CropBox, out: Float32Array, outOffset: number, size: number = IMAGE_SIZE_PX): void {
  const rgb = referenceResizeToRgb(src, box, size);
  const plane = size * size;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[outOffset + c * plane + i] = referenceNormalize(rgb[i * 3 + c]);
  }
}

/** Shared argument checks: an empty box is what degenerate pan-and-scan settings produce (spec §2.3 rule 5). */
export function checkBox(src: RgbImage, box: CropBox): void {
  if (box.width === 0 || box.height === 0) {
    throw new Error(
      `empty crop ${box.width}x${box.height} at (${box.left},${box.top}) of a ${src.width}x${src.height} image: ` +
        'degenerate pan-and-scan settings (minCropSize too small for maxNumCrops) leave nothing to resize',
    );
  }
  const ints = [box.left, box.top, box.width, box.height, src.width, src.height];
  if (!ints.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new Error(`crop box and image size must be non-negative integers (box ${JSON.stringify(box)}, image ${src.width}x${src.height})`);
  }
  if (box.left + box.width > src.width || box.top + box.height > src.height) {
    throw new Error(`crop box ${box.width}x${box.height} at (${box.left},${box.top}) lies outside the ${src.width}x${src.height} image`);
  }
  if (src.data.length < src.width * src.height * 3) {
    throw new Error(`RGB buffer holds ${src.data.length} bytes, less than ${src.width}x${src.height}x3`);
  }
}
