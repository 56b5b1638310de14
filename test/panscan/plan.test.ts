import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planCrops, PanScanOptionsError, validatePanScanOptions } from '../../src/panscan/plan.js';
import { HF_PANSCAN_DEFAULTS, type PanScanOptions } from '../../src/panscan/types.js';

const A = HF_PANSCAN_DEFAULTS;
const B: PanScanOptions = { minRatioToActivate: 2.0, maxNumCrops: 6, minCropSize: 448 };
const C: PanScanOptions = { minRatioToActivate: 1.6, maxNumCrops: 10, minCropSize: 256 };
const D: PanScanOptions = { minRatioToActivate: 2.5, maxNumCrops: 4, minCropSize: 256 };

const boxes = (w: number, h: number, o: PanScanOptions) => planCrops(w, h, o).map((c) => [c.left, c.top, c.width, c.height]);
const count = (w: number, h: number, o: PanScanOptions) => planCrops(w, h, o).length;

// The worked-example table of panscan-spec.md §2.4 (A-D columns), computed from the HF code.
const table: Array<[number, number, number, number, number, number]> = [
  [896, 3000, 3, 3, 3, 3],
  [3000, 1000, 3, 3, 3, 3],
  [1024, 1024, 0, 0, 0, 0],
  [600, 2000, 3, 3, 3, 3],
  [1080, 2400, 2, 2, 2, 0],
  [1000, 1500, 2, 0, 0, 0],
  [2480, 3508, 2, 0, 0, 0],
  [512, 3000, 4, 6, 6, 4],
  [500, 3000, 4, 6, 6, 4],
  [4000, 1000, 4, 4, 4, 4],
  [2500, 1000, 3, 3, 3, 3],
  [3000, 400, 4, 0, 8, 4],
  [1792, 896, 2, 2, 2, 0],
  [200, 1000, 0, 0, 0, 0],
  [60, 170, 0, 0, 0, 0],
];

for (const [w, h, a, b, c, d] of table) {
  test(`crop counts for ${w}x${h} under the four spec configs`, () => {
    assert.deepEqual([count(w, h, A), count(w, h, B), count(w, h, C), count(w, h, D)], [a, b, c, d]);
  });
}

test('portrait crops run top to bottom and the last one is truncated (600x2000)', () => {
  assert.deepEqual(boxes(600, 2000, A), [
    [0, 0, 600, 667],
    [0, 667, 600, 667],
    [0, 1334, 600, 666],
  ]);
});

test('landscape crops run left to right; ratio exactly 2.5 rounds half up to 3 and activates at 2.5', () => {
  assert.deepEqual(boxes(2500, 1000, D), [
    [0, 0, 834, 1000],
    [834, 0, 834, 1000],
    [1668, 0, 832, 1000],
  ]);
});

test('ratio exactly at the threshold activates; just below does not', () => {
  assert.equal(count(1200, 1000, A), 2);
  assert.equal(count(1199, 1000, A), 0);
  assert.equal(count(1000, 1200, A), 2);
  assert.equal(count(1000, 1199, A), 0);
});

test('a square image counts as landscape and never crops at ratio > 1', () => {
  assert.equal(count(1000, 1000, A), 0);
  // With min ratio 1.0 a square activates and is forced to 2 crops, as in HF.
  assert.deepEqual(boxes(1000, 1000, { minRatioToActivate: 1, maxNumCrops: 4, minCropSize: 256 }), [
    [0, 0, 500, 1000],
    [500, 0, 500, 1000],
  ]);
});

test('1x1 and 10000x10 give no crops (short side under the minimum)', () => {
  assert.deepEqual(boxes(1, 1, A), []);
  assert.deepEqual(boxes(10000, 10, A), []);
  assert.deepEqual(boxes(10, 10000, A), []);
});

test('a minimum crop larger than the image gives no crops', () => {
  assert.deepEqual(boxes(3000, 1000, { ...A, minCropSize: 4000 }), []);
});

test('maxNumCrops 1 yields one crop covering the image, as HF does; 2 caps a long strip at 2', () => {
  assert.deepEqual(boxes(896, 3000, { ...A, maxNumCrops: 1 }), [[0, 0, 896, 3000]]);
  assert.deepEqual(boxes(896, 3000, { ...A, maxNumCrops: 2 }), [
    [0, 0, 896, 1500],
    [0, 1500, 896, 1500],
  ]);
});

test('rounded ratio 1 is forced up to 2 crops (A4 at 300 dpi)', () => {
  assert.deepEqual(boxes(2480, 3508, A), [
    [0, 0, 2480, 1754],
    [0, 1754, 2480, 1754],
  ]);
});

test('the crop count is capped by floor(long / minCropSize) before the floor of 2', () => {
  // 300x1200 at min crop 256: ratio 4 -> floor(1200/256)=4 -> 4 crops of 300x300.
  assert.deepEqual(boxes(300, 1200, A).length, 4);
  // 3000x400 at min crop 256, max 10: ratio 7.5 -> 8, floor(3000/256)=11 -> 8 crops of 375.
  assert.equal(count(3000, 400, { ...A, maxNumCrops: 10 }), 8);
});

test('degenerate configs can give an empty last crop, exactly as numpy slicing would', () => {
  const crops = planCrops(1, 1, { minRatioToActivate: 1, maxNumCrops: 4, minCropSize: 1 });
  assert.deepEqual(crops.map((c) => c.width), [1, 0]);
});

test('invalid parameters are rejected with a message naming the knob', () => {
  const bad: Array<[Partial<PanScanOptions>, RegExp]> = [
    [{ minRatioToActivate: Number.NaN }, /minRatioToActivate/],
    [{ minRatioToActivate: -1 }, /minRatioToActivate/],
    [{ minRatioToActivate: 0 }, /minRatioToActivate/],
    [{ maxNumCrops: 0 }, /maxNumCrops/],
    [{ maxNumCrops: -3 }, /maxNumCrops/],
    [{ maxNumCrops: 2.5 }, /maxNumCrops/],
    [{ minCropSize: 0 }, /minCropSize/],
    [{ minCropSize: Number.NaN }, /minCropSize/],
    [{ minCropSize: -256 }, /minCropSize/],
  ];
  for (const [patch, re] of bad) {
    assert.throws(() => planCrops(1000, 3000, { ...A, ...patch }), (e: unknown) => e instanceof PanScanOptionsError && re.test((e as Error).message));
  }
  assert.throws(() => planCrops(0, 10, A), PanScanOptionsError);
  assert.throws(() => planCrops(10.5, 10, A), PanScanOptionsError);
  assert.doesNotThrow(() => validatePanScanOptions(A));
});

test('matches a brute-force transcription of the HF code on a grid of sizes and knobs', () => {
  // An independent, literal port of image_processing_gemma3.py's pan_and_scan, kept deliberately naive.
  function hf(width: number, height: number, minCrop: number, maxCrops: number, minRatio: number): number[][] {
    let nw: number, nh: number;
    if (width >= height) {
      if (width / height < minRatio) return [];
      nw = Math.floor(width / height + 0.5);
      nw = Math.min(Math.floor(width / minCrop), nw);
      nw = Math.max(2, nw);
      nw = Math.min(maxCrops, nw);
      nh = 1;
    } else {
      if (height / width < minRatio) return [];
      nh = Math.floor(height / width + 0.5);
      nh = Math.min(Math.floor(height / minCrop), nh);
      nh = Math.max(2, nh);
      nh = Math.min(maxCrops, nh);
      nw = 1;
    }
    const cw = Math.ceil(width / nw);
    const ch = Math.ceil(height / nh);
    if (Math.min(cw, ch) < minCrop) return [];
    const out: number[][] = [];
    for (let j = 0; j < nh; j++) for (let i = 0; i < nw; i++) {
      const x0 = i * cw, y0 = j * ch;
      out.push([x0, y0, Math.max(0, Math.min(x0 + cw, width) - x0), Math.max(0, Math.min(y0 + ch, height) - y0)]);
    }
    return out;
  }
  const sides = [1, 7, 100, 255, 256, 257, 447, 448, 449, 600, 896, 897, 1000, 1199, 1200, 1754, 2000, 3000, 5001];
  let checked = 0;
  for (const w of sides) for (const h of sides) for (const minCrop of [1, 256, 448]) for (const maxCrops of [1, 2, 4, 6, 10]) for (const r of [1, 1.2, 1.6, 2, 2.5]) {
    assert.deepEqual(boxes(w, h, { minCropSize: minCrop, maxNumCrops: maxCrops, minRatioToActivate: r }), hf(w, h, minCrop, maxCrops, r), `${w}x${h} ${minCrop}/${maxCrops}/${r}`);
    checked++;
  }
  assert.ok(checked > 9000);
});
