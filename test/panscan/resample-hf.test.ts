// HF transformers 5.17 reference outputs (torchvision backend, which may differ from Pillow by 1 level on
// some pixels): crops planned with plan.ts, every entry resized with the fast path, every pixel within 1
// level. Runs the committed subset (test/fixtures/panscan) always, and the full shared set
// (../shared/fixtures/panscan) when it exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { planCrops } from '../../src/panscan/plan.js';
import { resizeToRgb } from '../../src/panscan/resample.js';
import type { CropBox } from '../../src/panscan/types.js';
import { decodeRgb, distinctCases, localPanscanSet, panscanOptions, sharedPanscanSet, type PanscanSet } from '../helpers/panscan-fixtures.js';

interface EntryResult {
  readonly ref: string;
  readonly maxDiff: number;
  readonly differingPixels: number;
  readonly pixels: number;
}

async function checkSet(set: PanscanSet, label: string, t: { diagnostic(msg: string): void }): Promise<void> {
  const cases = distinctCases(set.index);
  assert.ok(cases.length > 0, `${label}: no cases`);
  const lines: string[] = [];
  let worst = 0;
  for (const c of cases) {
    const img = await decodeRgb(join(set.dir, c.image));
    assert.deepEqual([img.width, img.height], [...c.size], `${c.image}: decoded size`);
    const crops = planCrops(img.width, img.height, panscanOptions(set.index, c.params));
    assert.equal(crops.length, c.num_crops, `${c.image} ${c.params}: crop count`);
    const boxes: CropBox[] = [{ left: 0, top: 0, width: img.width, height: img.height }, ...crops];
    assert.equal(boxes.length, c.outputs.length);
    const results: EntryResult[] = [];
    for (let i = 0; i < boxes.length; i++) {
      const ref = await decodeRgb(join(set.dir, c.outputs[i]));
      const got = resizeToRgb(img, boxes[i]);
      assert.equal(ref.data.length, got.length, `${c.outputs[i]}: size`);
      let maxDiff = 0;
      let differingPixels = 0;
      for (let p = 0; p < got.length; p += 3) {
        const d = Math.max(Math.abs(got[p] - ref.data[p]), Math.abs(got[p + 1] - ref.data[p + 1]), Math.abs(got[p + 2] - ref.data[p + 2]));
        if (d > 0) differingPixels++;
        if (d > maxDiff) maxDiff = d;
      }
      results.push({ ref: c.outputs[i], maxDiff, differingPixels, pixels: got.length / 3 });
    }
    for (const r of results) {
      worst = Math.max(worst, r.maxDiff);
      lines.push(`${r.ref} (${c.params}): max diff ${r.maxDiff}, ${r.differingPixels}/${r.pixels} pixels differ`);
    }
    for (const r of results) assert.ok(r.maxDiff <= 1, `${r.ref}: max diff ${r.maxDiff} > 1 (${r.differingPixels} pixels differ)`);
  }
  t.diagnostic(`${label}: worst max diff ${worst} over ${lines.length} outputs`);
  for (const l of lines) t.diagnostic(l);
}

test('HF reference outputs, committed subset: every pixel within 1 level', async (t) => {
  await checkSet(localPanscanSet(), 'test/fixtures/panscan', t);
});

const shared = sharedPanscanSet();
test('HF reference outputs, full shared set (../shared/fixtures/panscan): every pixel within 1 level', { skip: shared === null ? '../shared/fixtures/panscan not found: full HF reference set not checked' : false }, async (t) => {
  if (shared) await checkSet(shared, '../shared/fixtures/panscan', t);
});
