// The fast resampler (wasm SIMD, and the JS fallback) is bit-identical to the scalar Pillow transcription
// in resample-reference.ts, for the uint8 output and the normalized float32 CHW output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NORMALIZE_LUT,
  resampleBackend,
  resizeNormalizeInto,
  resizeNormalizeRowsInto,
  resizeToRgb,
  setResampleWasmPath,
  type RgbImage,
} from '../../src/panscan/resample.js';
import { precomputeCoeffs, referenceNormalize, referenceResizeNormalizeInto, referenceResizeToRgb } from '../../src/panscan/resample-reference.js';
import { IMAGE_SIZE_PX, type CropBox } from '../../src/panscan/types.js';
import { compareBytes, noiseImage, patternImage } from '../helpers/panscan-fixtures.js';

const whole = (img: RgbImage): CropBox => ({ left: 0, top: 0, width: img.width, height: img.height });

function firstFloatMismatch(a: Float32Array, b: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function assertSame(img: RgbImage, box: CropBox, size: number, label: string): void {
  const want = referenceResizeToRgb(img, box, size);
  const got = resizeToRgb(img, box, size);
  const { differing, maxDiff } = compareBytes(got, want);
  assert.equal(differing, 0, `${label}: ${differing} bytes differ from the reference (max diff ${maxDiff})`);
  const wantF = new Float32Array(3 * size * size + 5);
  const gotF = new Float32Array(3 * size * size + 5);
  referenceResizeNormalizeInto(img, box, wantF, 3, size);
  resizeNormalizeInto(img, box, gotF, 3, size);
  const at = firstFloatMismatch(gotF, wantF);
  assert.equal(at, -1, `${label}: float output differs at element ${at} (${gotF[at]} vs ${wantF[at]})`);
}

test('the fast path is the wasm SIMD build (npm run build compiles build/resample.wasm)', () => {
  assert.equal(resampleBackend(), 'wasm');
});

test('NORMALIZE_LUT is the slow-path (v/255 - 0.5)/0.5 of panscan-spec.md §2.5', () => {
  assert.equal(NORMALIZE_LUT.length, 256);
  for (let u = 0; u < 256; u++) {
    const r = Math.fround(u * (1 / 255));
    assert.ok(Object.is(NORMALIZE_LUT[u], Math.fround(Math.fround(r - 0.5) / 0.5)), `u=${u}`);
    assert.ok(Object.is(NORMALIZE_LUT[u], referenceNormalize(u)), `u=${u}`);
  }
  assert.equal(NORMALIZE_LUT[0], -1);
  assert.equal(NORMALIZE_LUT[255], 1);
  assert.equal(NORMALIZE_LUT[1].toPrecision(8), '-0.99215686');
  assert.equal(NORMALIZE_LUT[127].toPrecision(8), '-0.0039215684');
  assert.equal(NORMALIZE_LUT[128].toPrecision(8), '0.0039216280');
});

// Whole images: upscale, downscale, one axis unchanged, identity, tiny and large.
const SIZES: Array<[number, number]> = [
  [896, 896], [896, 1000], [1000, 896], [600, 667], [600, 666], [667, 600], [1000, 1000], [1024, 1024],
  [3000, 1000], [896, 3000], [2480, 1754], [1240, 1754], [37, 301], [301, 37], [1, 1], [1, 2000], [3, 500],
  [500, 3], [2, 2], [447, 449], [1792, 896], [897, 895], [4000, 600], [130, 900],
];

for (const [w, h] of SIZES) {
  test(`fast == reference: ${w}x${h} -> 896 (noise and pattern)`, () => {
    const n = noiseImage(w, h, w * 7919 + h);
    assertSame(n, whole(n), IMAGE_SIZE_PX, `noise ${w}x${h}`);
    const p = patternImage(w, h, 3);
    assertSame(p, whole(p), IMAGE_SIZE_PX, `pattern ${w}x${h}`);
  });
}

test('fast == reference: crops read in place at odd offsets', () => {
  const img = noiseImage(1213, 977, 42);
  const boxes: CropBox[] = [
    { left: 0, top: 0, width: 1213, height: 977 },
    { left: 1, top: 2, width: 600, height: 667 },
    { left: 612, top: 0, width: 601, height: 977 },
    { left: 317, top: 310, width: 896, height: 667 },
    { left: 1212, top: 976, width: 1, height: 1 },
    { left: 5, top: 900, width: 1200, height: 77 },
    { left: 100, top: 40, width: 896, height: 896 },
  ];
  for (const box of boxes) assertSame(img, box, IMAGE_SIZE_PX, `box ${JSON.stringify(box)}`);
});

test('fast == reference: other output sizes and many random shapes', () => {
  let s = 12345;
  const rnd = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return 1 + (s % n);
  };
  for (let i = 0; i < 40; i++) {
    const w = rnd(1400);
    const h = rnd(1400);
    const size = [896, 64, 37, 300, 1][i % 5];
    const img = i % 2 ? noiseImage(w, h, i + 1) : patternImage(w, h, i);
    const left = rnd(w) - 1;
    const top = rnd(h) - 1;
    const box = { left, top, width: rnd(w - left), height: rnd(h - top) };
    assertSame(img, box, size, `#${i} ${w}x${h} box ${JSON.stringify(box)} -> ${size}`);
  }
});

test('row ranges of one entry reassemble the whole entry exactly', () => {
  const img = patternImage(1000, 1400, 9);
  const box = { left: 3, top: 11, width: 997, height: 1389 };
  const size = IMAGE_SIZE_PX;
  const wholeOut = new Float32Array(3 * size * size);
  resizeNormalizeInto(img, box, wholeOut, 0, size);
  const pieces = new Float32Array(3 * size * size).fill(Number.NaN);
  for (const [a, b] of [[0, 1], [1, 300], [300, 301], [301, 895], [895, 896]]) resizeNormalizeRowsInto(img, box, pieces, 0, size, a, b);
  assert.equal(firstFloatMismatch(pieces, wholeOut), -1);
});

test('the JS fallback (no wasm file) is bit-identical too', () => {
  setResampleWasmPath(null);
  try {
    assert.equal(resampleBackend(), 'js');
    for (const [w, h] of [[600, 667], [3000, 1000], [896, 1000], [37, 301], [1, 1], [896, 896], [1300, 900]] as const) {
      const img = noiseImage(w, h, w + h);
      assertSame(img, whole(img), IMAGE_SIZE_PX, `js ${w}x${h}`);
    }
    assertSame(noiseImage(300, 20, 5), { left: 10, top: 3, width: 280, height: 17 }, 32, 'js many taps');
  } finally {
    setResampleWasmPath(undefined);
  }
  assert.equal(resampleBackend(), 'wasm');
});

test('an empty crop is refused with a clear message', () => {
  const img = noiseImage(600, 2000, 1);
  const out = new Float32Array(3 * IMAGE_SIZE_PX * IMAGE_SIZE_PX);
  assert.throws(() => resizeNormalizeInto(img, { left: 0, top: 2000, width: 600, height: 0 }, out, 0), /empty crop .*degenerate pan-and-scan settings/);
  assert.throws(() => resizeToRgb(img, { left: 600, top: 0, width: 0, height: 10 }), /empty crop/);
  assert.throws(() => referenceResizeToRgb(img, { left: 0, top: 0, width: 0, height: 0 }), /empty crop/);
});

test('bad boxes and short outputs are refused', () => {
  const img = noiseImage(100, 100, 1);
  assert.throws(() => resizeToRgb(img, { left: 50, top: 0, width: 51, height: 10 }), /outside/);
  assert.throws(() => resizeToRgb(img, { left: -1, top: 0, width: 10, height: 10 }), /non-negative integers/);
  assert.throws(() => resizeNormalizeInto(img, whole(img), new Float32Array(10), 0), /output needs/);
  assert.throws(() => resizeToRgb({ data: new Uint8Array(10), width: 100, height: 100 }, whole(img)), /RGB buffer/);
});

test('coefficients follow Pillow: support grows with the downscale factor, weights sum to ~2^22', () => {
  const down = precomputeCoeffs(3000, 896);
  assert.equal(down.ksize, Math.ceil(3000 / 896) * 2 + 1);
  const up = precomputeCoeffs(600, 896);
  assert.equal(up.ksize, 3);
  for (const c of [down, up]) {
    for (let x = 0; x < c.outSize; x++) {
      let sum = 0;
      for (let t = 0; t < c.bounds[x * 2 + 1]; t++) sum += c.kk[x * c.ksize + t];
      assert.ok(Math.abs(sum - (1 << 22)) <= c.ksize, `sum ${sum} at ${x}`);
    }
  }
});

test('a huge entry (wasm memory beyond the retain limit) stays exact, and so do the calls after it', () => {
  const tall = noiseImage(896, 26000, 77); // 70 MB of RGB: the vertical-only path stages all of it
  assertSame(tall, whole(tall), IMAGE_SIZE_PX, 'huge 896x26000');
  const small = patternImage(1000, 1000, 1);
  assertSame(small, whole(small), IMAGE_SIZE_PX, 'after the huge one');
});
