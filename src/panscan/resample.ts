// Pillow-exact BILINEAR resize of one pan-and-scan entry (whole image or crop) to 896x896, fused with the
// slow-path normalization (v/255 - 0.5)/0.5 into float32 CHW (panscan-spec.md §2.5-2.6). Owns the fast
// path: WebAssembly SIMD kernels (assembly/resample.ts, built to build/resample.wasm) driven from here,
// with coefficient tables cached per (inSize, outSize) and one wasm instance per thread. If the wasm file
// is missing (a plain `tsc` build) a scalar JS path with the same results takes over, with a warning.
// The crop is never materialized: its rows are read in place from the source and streamed band by band
// into a small sliding window in wasm memory (wasm cannot address JS memory), so memory stays bounded.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkBox, precomputeCoeffs, PRECISION_BITS, referenceNormalize, type AxisCoeffs } from './resample-reference.js';
import { IMAGE_SIZE_PX, type CropBox } from './types.js';

export type { CropBox } from './types.js';

/** Tightly packed 8-bit RGB, HWC (row stride = width * 3). */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** LUT[u] = float32 value of byte u after HF's slow-path rescale and normalize (panscan-spec.md §2.5). */
export const NORMALIZE_LUT: Float32Array = (() => {
  const lut = new Float32Array(256);
  for (let u = 0; u < 256; u++) lut[u] = referenceNormalize(u);
  return lut;
})();

/**
 * Resize the box of src to size x size exactly like Pillow BILINEAR and write normalized float32 CHW into
 * out starting at element outOffset (3*size*size elements). The crop is read in place.
 */
export function resizeNormalizeInto(src: RgbImage, box: CropBox, out: Float32Array, outOffset: number, size: number = IMAGE_SIZE_PX): void {
  resizeNormalizeRowsInto(src, box, out, outOffset, size, 0, size);
}

/**
 * Output rows [rowStart, rowEnd) of resizeNormalizeInto, written to the same places in out; the rows of
 * one entry can be split across threads (resize-pool.ts) and the union is identical to the whole call.
 */
export function resizeNormalizeRowsInto(
  src: RgbImage,
  box: CropBox,
  out: Float32Array,
  outOffset: number,
  size: number,
  rowStart: number,
  rowEnd: number,
): void {
  checkArgs(src, box, size, rowStart, rowEnd);
  const plane = size * size;
  if (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + 3 * plane > out.length) {
    throw new RangeError(`output needs ${3 * plane} floats at offset ${outOffset}, but holds ${out.length}`);
  }
  if (rowStart === rowEnd) return;
  const k = kernels();
  if (!k) return jsResizeNormalize(src, box, size, rowStart, rowEnd, out, outOffset);
  k.resizeNormalize(src, box, size, rowStart, rowEnd, out, outOffset);
  releaseIfBloated(k);
}

/** The same resize, returned as size x size RGB HWC bytes (for the PNGs users inspect, and for tests). */
export function resizeToRgb(src: RgbImage, box: CropBox, size: number = IMAGE_SIZE_PX): Uint8Array {
  checkArgs(src, box, size, 0, size);
  const k = kernels();
  if (!k) return jsResizeRgb(src, box, size);
  const rgb = k.resizeRgb(src, box, size);
  releaseIfBloated(k);
  return rgb;
}

/** Which implementation runs: 'wasm' (SIMD kernels) or 'js' (fallback when build/resample.wasm is absent). */
export function resampleBackend(): 'wasm' | 'js' {
  return kernels() ? 'wasm' : 'js';
}

function checkArgs(src: RgbImage, box: CropBox, size: number, rowStart: number, rowEnd: number): void {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`output size must be a positive integer (got ${size})`);
  if (!Number.isInteger(rowStart) || !Number.isInteger(rowEnd) || rowStart < 0 || rowEnd > size || rowStart > rowEnd) {
    throw new RangeError(`output rows [${rowStart}, ${rowEnd}) are not within [0, ${size})`);
  }
  checkBox(src, box);
}

// ---------------------------------------------------------------------------------------------------------
// Coefficient tables. Pillow skips a pass whose dimension does not change; the vertical pass is then an
// identity (one tap of weight 2^22: (2^21 + v * 2^22) >> 22 = v), which lets one kernel do the normalizing.

interface HorizontalTable {
  /** Per output pixel: byte offset of its first tap in a source row (xmin * 3). */
  readonly offsets: Int32Array;
  /** Per output pixel, `taps` weights zero-padded past Pillow's tap count, so every pixel runs alike. */
  readonly weights: Int32Array;
  readonly taps: number;
}

interface VerticalTable {
  /** Per output row: [first source row, tap count]. */
  readonly bounds: Int32Array;
  /** Per output row, `stride` weights. */
  readonly weights: Int32Array;
  readonly stride: number;
}

const TABLE_CACHE_LIMIT = 64;
const horizontalCache = new Map<string, HorizontalTable>();
const verticalCache = new Map<string, VerticalTable>();

function cached<T>(cache: Map<string, T>, key: string, make: () => T): T {
  let v = cache.get(key);
  if (v === undefined) {
    if (cache.size >= TABLE_CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    v = make();
    cache.set(key, v);
  }
  return v;
}

function maxTaps(c: AxisCoeffs): number {
  let m = 1;
  for (let i = 0; i < c.outSize; i++) m = Math.max(m, c.bounds[i * 2 + 1]);
  return m;
}

function horizontalTable(inSize: number, outSize: number): HorizontalTable {
  return cached(horizontalCache, `${inSize}>${outSize}`, () => {
    const c = precomputeCoeffs(inSize, outSize);
    const taps = maxTaps(c);
    const offsets = new Int32Array(outSize);
    const weights = new Int32Array(outSize * taps);
    for (let x = 0; x < outSize; x++) {
      offsets[x] = c.bounds[x * 2] * 3;
      const n = c.bounds[x * 2 + 1];
      for (let t = 0; t < n; t++) weights[x * taps + t] = c.kk[x * c.ksize + t];
    }
    return { offsets, weights, taps };
  });
}

function verticalTable(inSize: number, outSize: number): VerticalTable {
  return cached(verticalCache, `${inSize}>${outSize}`, () => {
    if (inSize === outSize) {
      const bounds = new Int32Array(outSize * 2);
      for (let y = 0; y < outSize; y++) {
        bounds[y * 2] = y;
        bounds[y * 2 + 1] = 1;
      }
      return { bounds, weights: new Int32Array(outSize).fill(1 << PRECISION_BITS), stride: 1 };
    }
    const c = precomputeCoeffs(inSize, outSize);
    const stride = maxTaps(c);
    const weights = new Int32Array(outSize * stride);
    for (let y = 0; y < outSize; y++) {
      for (let t = 0; t < c.bounds[y * 2 + 1]; t++) weights[y * stride + t] = c.kk[y * c.ksize + t];
    }
    return { bounds: c.bounds, weights, stride };
  });
}

/** Source rows [first, last) that output rows [y0, y1) read (bounds are monotonic in y). */
function sourceRows(v: VerticalTable, y0: number, y1: number): [number, number] {
  return [v.bounds[y0 * 2], v.bounds[(y1 - 1) * 2] + v.bounds[(y1 - 1) * 2 + 1]];
}

// ---------------------------------------------------------------------------------------------------------
// wasm host.

// The project's lib settings (ES2023, no DOM) carry no WebAssembly typings; these are the parts used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface KernelExports {
  readonly memory: WasmMemory;
  heapBase(): number;
  hPass(src: number, srcStride: number, rows: number, dst: number, dstStride: number, outW: number, offs: number, coefs: number, ks: number): void;
  vPassRgb(src: number, srcStride: number, rowBytes: number, y0: number, y1: number, bounds: number, coefs: number, ks: number, dst: number, dstStride: number): void;
  vPassNormalize(src: number, srcStride: number, width: number, y0: number, y1: number, bounds: number, coefs: number, ks: number, tmp: number, out: number, planeBytes: number): void;
  normalizePixels(src: number, pixels: number, out: number, planeBytes: number): void;
}

const WASM_PAGE_BYTES = 65536;
/** Slack after every buffer the kernels touch: their vector loads and stores run past the last used pixel. */
const SLACK_BYTES = 64;
/** Output rows per band of the sliding source window (see Kernels.streamRows). */
const WINDOW_BAND_ROWS = 32;
/** Source rows staged per horizontal-pass call: about this many bytes, so the band stays in L2. */
const STAGE_BAND_BYTES = 96 * 1024;
/** Spare bytes after each horizontal-pass row: the kernel stores 4 bytes per 3-byte pixel, 4 rows at a time. */
const INTER_ROW_PADDING_BYTES = 16;
/** Above this much linear memory after a call, the instance is replaced instead of kept (see releaseIfBloated). */
const RETAIN_MEMORY_BYTES = 64 * 1024 * 1024;
/** Output rows normalized per vertical-pass call before they are copied out to the caller's array. */
const OUT_BAND_BYTES = 96 * 1024;

class Kernels {
  private readonly ex: KernelExports;
  private readonly base: number;
  private buffer: ArrayBuffer;
  private u8: Uint8Array;
  private f32: Float32Array;
  private i32: Int32Array;
  private top = 0;

  constructor(ex: KernelExports) {
    this.ex = ex;
    this.base = align(ex.heapBase());
    this.buffer = ex.memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.f32 = new Float32Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
  }

  memoryBytes(): number {
    return this.buffer.byteLength;
  }

  /** Starts a fresh layout: each call lays its buffers out from the heap base (nothing outlives a call). */
  private reset(): void {
    this.top = this.base;
  }

  private alloc(bytes: number): number {
    const at = this.top;
    this.top = align(at + bytes + SLACK_BYTES);
    const need = this.top - this.buffer.byteLength;
    if (need > 0) {
      this.ex.memory.grow(Math.ceil(need / WASM_PAGE_BYTES));
      this.buffer = this.ex.memory.buffer;
      this.u8 = new Uint8Array(this.buffer);
      this.f32 = new Float32Array(this.buffer);
      this.i32 = new Int32Array(this.buffer);
    }
    return at;
  }

  private putI32(a: Int32Array): number {
    const at = this.alloc(a.byteLength);
    this.i32.set(a, at >>> 2);
    return at;
  }

  /**
   * Runs output rows [y0, y1) in bands of WINDOW_BAND_ROWS. A sliding window holds the source rows the
   * current band reads, already through the horizontal pass when there is one (Pillow's uint8
   * intermediate, so rounded and clipped exactly as Pillow does). Rows shared with the previous band are
   * moved down, not recomputed, so every source row is read and resampled once and memory stays at a
   * band's worth whatever the image size. For each band, `vertical` gets the address of box row 0 as
   * the kernels see it (it may lie before the window: only rows in the window are ever touched) and a
   * scratch area of scratchBytes, laid out before any row is processed (memory never moves mid-call).
   */
  private streamRows(
    src: RgbImage,
    box: CropBox,
    size: number,
    y0: number,
    y1: number,
    scratchBytes: number,
    vertical: (yStart: number, yEnd: number, rowsAt: number, stride: number, bounds: number, weights: number, taps: number, scratch: number) => void,
  ): void {
    this.reset();
    const vt = verticalTable(box.height, size);
    const vBounds = this.putI32(vt.bounds);
    const vWeights = this.putI32(vt.weights);
    const needH = box.width !== size;
    const ht = needH ? horizontalTable(box.width, size) : null;
    const hOffsets = ht ? this.putI32(ht.offsets) : 0;
    const hWeights = ht ? this.putI32(ht.weights) : 0;
    const boxBytes = box.width * 3;
    const stride = needH ? size * 3 + INTER_ROW_PADDING_BYTES : boxBytes;
    let capacity = 0;
    for (let y = y0; y < y1; y += WINDOW_BAND_ROWS) {
      const [first, last] = sourceRows(vt, y, Math.min(y + WINDOW_BAND_ROWS, y1));
      capacity = Math.max(capacity, last - first);
    }
    const window = this.alloc(capacity * stride);
    const stageRows = Math.max(1, Math.min(capacity, Math.floor(STAGE_BAND_BYTES / boxBytes)));
    const stage = ht ? this.alloc(stageRows * boxBytes + ht.taps * 16) : 0;
    const scratch = this.alloc(scratchBytes);
    const srcStride = src.width * 3;
    const boxRow0 = box.top * srcStride + box.left * 3;
    let wFirst = 0; // the window holds source rows [wFirst, wLast) of the box
    let wLast = 0;
    for (let y = y0; y < y1; y += WINDOW_BAND_ROWS) {
      const yEnd = Math.min(y + WINDOW_BAND_ROWS, y1);
      const [first, last] = sourceRows(vt, y, yEnd);
      if (first < wLast) {
        this.u8.copyWithin(window, window + (first - wFirst) * stride, window + (wLast - wFirst) * stride);
      } else {
        wLast = first;
      }
      wFirst = first;
      for (let r = wLast; r < last; ) {
        const at = window + (r - wFirst) * stride;
        if (ht) {
          const rows = Math.min(stageRows, last - r);
          this.copyRows(src.data, boxRow0 + r * srcStride, srcStride, boxBytes, rows, stage, boxBytes);
          this.ex.hPass(stage, boxBytes, rows, at, stride, size, hOffsets, hWeights, ht.taps);
          r += rows;
        } else {
          this.copyRows(src.data, boxRow0 + r * srcStride, srcStride, boxBytes, last - r, at, stride);
          r = last;
        }
      }
      wLast = last;
      vertical(y, yEnd, window - wFirst * stride, stride, vBounds, vWeights, vt.stride, scratch);
    }
  }

  private copyRows(data: Uint8Array, from: number, srcStride: number, rowBytes: number, rows: number, to: number, dstStride: number): void {
    if (srcStride === rowBytes && dstStride === rowBytes) {
      this.u8.set(data.subarray(from, from + rows * rowBytes), to);
      return;
    }
    for (let r = 0; r < rows; r++) {
      const s = from + r * srcStride;
      this.u8.set(data.subarray(s, s + rowBytes), to + r * dstStride);
    }
  }

  resizeNormalize(src: RgbImage, box: CropBox, size: number, y0: number, y1: number, out: Float32Array, outOffset: number): void {
    // Normalized rows go to a small float staging area, then to the caller's array a few rows at a time.
    const outRows = Math.max(1, Math.floor(OUT_BAND_BYTES / (size * 12)));
    const planeBytes = outRows * size * 4;
    const tmpBytes = align(size * 3 + SLACK_BYTES);
    const plane = size * size;
    this.streamRows(src, box, size, y0, y1, tmpBytes + planeBytes * 3, (yStart, yEnd, rowsAt, stride, bounds, weights, taps, scratch) => {
      const stage = scratch + tmpBytes;
      for (let y = yStart; y < yEnd; y += outRows) {
        const yStop = Math.min(y + outRows, yEnd);
        this.ex.vPassNormalize(rowsAt, stride, size, y, yStop, bounds, weights, taps, scratch, stage, planeBytes);
        const n = (yStop - y) * size;
        for (let c = 0; c < 3; c++) {
          const from = (stage + c * planeBytes) >>> 2;
          out.set(this.f32.subarray(from, from + n), outOffset + c * plane + y * size);
        }
      }
    });
  }

  resizeRgb(src: RgbImage, box: CropBox, size: number): Uint8Array {
    const rowBytes = size * 3;
    let dst = 0;
    this.streamRows(src, box, size, 0, size, size * rowBytes, (yStart, yEnd, rowsAt, stride, bounds, weights, taps, scratch) => {
      dst = scratch;
      this.ex.vPassRgb(rowsAt, stride, rowBytes, yStart, yEnd, bounds, weights, taps, scratch + yStart * rowBytes, rowBytes);
    });
    return this.u8.slice(dst, dst + size * rowBytes);
  }

  /** The kernel's normalization of all 256 byte values, for the load-time check against NORMALIZE_LUT. */
  normalizeAllBytes(): Float32Array {
    this.reset();
    const src = this.alloc(256 * 3);
    for (let u = 0; u < 256; u++) this.u8.fill(u, src + u * 3, src + u * 3 + 3);
    const out = this.alloc(256 * 4 * 3);
    this.ex.normalizePixels(src, 256, out, 256 * 4);
    return this.f32.slice(out >>> 2, (out >>> 2) + 256 * 3);
  }
}

function align(n: number): number {
  return Math.ceil(n / 64) * 64;
}

let kernelState: Kernels | null | undefined;
let compiledModule: { path: string; module: object } | null = null;
let wasmPathOverride: string | null | undefined;

/** Where build/resample.wasm is: the package root is found by walking up from this module (dist/src/panscan/). */
export function resampleWasmPath(): string | null {
  if (wasmPathOverride !== undefined) return wasmPathOverride;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'build', 'resample.wasm');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

function kernels(): Kernels | null {
  if (kernelState !== undefined) return kernelState;
  const path = resampleWasmPath();
  if (path === null) {
    if (wasmPathOverride !== null) process.emitWarning('build/resample.wasm not found (run `npm run build`); resizing with the slower JS path', { code: 'GEMMA_BENCH_NO_WASM' });
    kernelState = null;
    return null;
  }
  if (compiledModule?.path !== path) compiledModule = { path, module: new WA.Module(readFileSync(path)) };
  const instance = new WA.Instance(compiledModule.module, {});
  const k = new Kernels(instance.exports as unknown as KernelExports);
  // The SIMD normalization is arithmetic, not a table lookup; refuse to run if it ever disagrees with the LUT.
  const got = k.normalizeAllBytes();
  for (let c = 0; c < 3; c++) {
    for (let u = 0; u < 256; u++) {
      if (!Object.is(got[c * 256 + u], NORMALIZE_LUT[u])) {
        throw new Error(`resample.wasm normalization of byte ${u} gives ${got[c * 256 + u]}, expected ${NORMALIZE_LUT[u]}`);
      }
    }
  }
  kernelState = k;
  return k;
}

/**
 * Wasm memory cannot shrink, so after a call on a huge image the instance is dropped (the next call makes a
 * fresh one from the compiled module, well under a millisecond) rather than holding that memory forever.
 */
function releaseIfBloated(k: Kernels): void {
  if (k.memoryBytes() > RETAIN_MEMORY_BYTES && kernelState === k) kernelState = undefined;
}

// ---------------------------------------------------------------------------------------------------------
// JS path (fallback without the wasm file): the same tables, scalar loops shaped for the JIT (the
// horizontal pass per pixel with exact tap counts; the vertical pass accumulating whole rows).

const HALF_ROUNDING = 1 << (PRECISION_BITS - 1);

/** Horizontal pass of source rows [first, last) of the box into a packed size*3-byte-per-row buffer. */
function jsHorizontal(src: RgbImage, box: CropBox, size: number, first: number, last: number): Uint8Array {
  const ht = horizontalTable(box.width, size);
  const data = src.data;
  const srcStride = src.width * 3;
  const rowBytes = size * 3;
  const taps = ht.taps;
  const counts = new Int32Array(size);
  for (let x = 0; x < size; x++) counts[x] = Math.min(taps, box.width - ht.offsets[x] / 3);
  const inter = new Uint8Array((last - first) * rowBytes);
  for (let r = first; r < last; r++) {
    const row = (box.top + r) * srcStride + box.left * 3;
    let o = (r - first) * rowBytes;
    for (let x = 0; x < size; x++) {
      let s0 = HALF_ROUNDING;
      let s1 = HALF_ROUNDING;
      let s2 = HALF_ROUNDING;
      let p = row + ht.offsets[x];
      let k = x * taps;
      const kEnd = k + counts[x];
      for (; k < kEnd; k++, p += 3) {
        const w = ht.weights[k];
        s0 += data[p] * w;
        s1 += data[p + 1] * w;
        s2 += data[p + 2] * w;
      }
      inter[o++] = clip8(s0);
      inter[o++] = clip8(s1);
      inter[o++] = clip8(s2);
    }
  }
  return inter;
}

/** Calls emit(y, rowBytes) with output row y (u8 RGB) in `row`, for y in [y0, y1). */
function jsVertical(src: RgbImage, box: CropBox, size: number, y0: number, y1: number, emit: (y: number, row: Uint8Array) => void): void {
  const vt = verticalTable(box.height, size);
  const [first, last] = sourceRows(vt, y0, y1);
  let rows: Uint8Array;
  let stride: number;
  let base: number; // byte of box row 0, column 0 in `rows`
  if (box.width !== size) {
    rows = jsHorizontal(src, box, size, first, last);
    stride = size * 3;
    base = -first * stride;
  } else {
    rows = src.data;
    stride = src.width * 3;
    base = box.top * stride + box.left * 3;
  }
  const rowBytes = size * 3;
  const acc = new Int32Array(rowBytes);
  const row = new Uint8Array(rowBytes);
  const weights = vt.weights;
  for (let y = y0; y < y1; y++) {
    const ymin = vt.bounds[y * 2];
    const n = vt.bounds[y * 2 + 1];
    const kb = y * vt.stride;
    let p = base + ymin * stride;
    let w = weights[kb];
    for (let i = 0; i < rowBytes; i++) acc[i] = HALF_ROUNDING + rows[p + i] * w;
    for (let t = 1; t < n; t++) {
      p += stride;
      w = weights[kb + t];
      for (let i = 0; i < rowBytes; i++) acc[i] += rows[p + i] * w;
    }
    for (let i = 0; i < rowBytes; i++) {
      const v = acc[i] >> PRECISION_BITS;
      row[i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
    emit(y, row);
  }
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function jsResizeNormalize(src: RgbImage, box: CropBox, size: number, y0: number, y1: number, out: Float32Array, outOffset: number): void {
  const plane = size * size;
  jsVertical(src, box, size, y0, y1, (y, row) => {
    const o = outOffset + y * size;
    for (let x = 0, i = 0; x < size; x++, i += 3) {
      out[o + x] = NORMALIZE_LUT[row[i]];
      out[o + plane + x] = NORMALIZE_LUT[row[i + 1]];
      out[o + 2 * plane + x] = NORMALIZE_LUT[row[i + 2]];
    }
  });
}

function jsResizeRgb(src: RgbImage, box: CropBox, size: number): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  jsVertical(src, box, size, 0, size, (y, row) => out.set(row, y * size * 3));
  return out;
}

/** Test and benchmark hook: force the JS path (`null`) or a given wasm file; `undefined` restores the default lookup. */
export function setResampleWasmPath(path: string | null | undefined): void {
  wasmPathOverride = path;
  kernelState = undefined;
}
