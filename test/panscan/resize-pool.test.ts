// The worker pool gives exactly the inline results, with 1 (inline) and 2 threads, and close() leaves no
// threads behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { planCrops } from '../../src/panscan/plan.js';
import { resizeNormalizeInto, type RgbImage } from '../../src/panscan/resample.js';
import { ResizePool } from '../../src/panscan/resize-pool.js';
import { IMAGE_SIZE_PX, type CropBox } from '../../src/panscan/types.js';
import { noiseImage, patternImage, toShared } from '../helpers/panscan-fixtures.js';

const ENTRY = 3 * IMAGE_SIZE_PX * IMAGE_SIZE_PX;
const BALANCED = { minRatioToActivate: 2.0, maxNumCrops: 6, minCropSize: 448 };

function entries(img: RgbImage): CropBox[] {
  return [{ left: 0, top: 0, width: img.width, height: img.height }, ...planCrops(img.width, img.height, BALANCED)];
}

function inline(img: RgbImage, boxes: CropBox[]): Float32Array {
  const out = new Float32Array(boxes.length * ENTRY);
  boxes.forEach((b, i) => resizeNormalizeInto(img, b, out, i * ENTRY));
  return out;
}

function sharedOut(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(n * ENTRY * 4)).fill(Number.NaN);
}

function sameFloats(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** OS threads of this process (Linux only), to see that close() really joins the workers. */
function osThreads(): number | null {
  try {
    const m = /Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const IMAGES: RgbImage[] = [noiseImage(600, 2000, 1), patternImage(3000, 1000, 2), noiseImage(896, 3000, 3), patternImage(1024, 1024, 4), noiseImage(37, 301, 5)];

for (const threads of [1, 2]) {
  test(`pool of ${threads} thread(s) == inline, entry for entry`, async () => {
    const pool = await ResizePool.create(threads);
    try {
      assert.equal(pool.threads, threads);
      assert.equal(pool.workerCount, threads - 1, 'the calling thread is one of the threads');
      for (const img of IMAGES) {
        const boxes = entries(img);
        const want = inline(img, boxes);
        const out = sharedOut(boxes.length);
        await pool.resizeEntries(toShared(img), boxes, out);
        assert.ok(sameFloats(out, want), `${img.width}x${img.height}: pool output differs from inline`);
      }
    } finally {
      await pool.close();
    }
  });
}

for (const [kind, source] of [['shared', toShared], ['ordinary (copied into the pool\'s scratch)', (img: RgbImage) => img]] as const) {
  test(`concurrent calls on one pool each get their own correct result: ${kind} sources`, async () => {
    const pool = await ResizePool.create(2);
    try {
      const imgs = IMAGES.slice(0, 3).map(source);
      const outs = imgs.map((img) => sharedOut(entries(img).length));
      await Promise.all(imgs.map((img, i) => pool.resizeEntries(img, entries(img), outs[i])));
      imgs.forEach((img, i) => assert.ok(sameFloats(outs[i], inline(img, entries(img))), `image ${i}`));
    } finally {
      await pool.close();
    }
  });
}

test('worker pools write a shared output, copy an ordinary source, and refuse empty crops before dispatch', async () => {
  const pool = await ResizePool.create(2);
  try {
    const img = noiseImage(600, 2000, 1);
    await assert.rejects(pool.resizeEntries(img, entries(img), new Float32Array(4 * ENTRY)), /SharedArrayBuffer/);
    const copied = sharedOut(4);
    await pool.resizeEntries(img, entries(img), copied);
    assert.ok(sameFloats(copied, inline(img, entries(img))), 'an ordinary source is copied and resized correctly');
    const shared = toShared(img);
    await assert.rejects(pool.resizeEntries(shared, [{ left: 0, top: 2000, width: 600, height: 0 }], sharedOut(1)), /empty crop/);
    await assert.rejects(pool.resizeEntries(shared, entries(img), sharedOut(1)), /output holds/);
    // Still usable after refused calls.
    const out = sharedOut(4);
    await pool.resizeEntries(shared, entries(img), out);
    assert.ok(sameFloats(out, inline(img, entries(img))));
  } finally {
    await pool.close();
  }
});

test('close() terminates every worker thread and the pool refuses further work', async () => {
  const before = osThreads();
  const pool = await ResizePool.create(2);
  const during = osThreads();
  if (before !== null && during !== null) assert.ok(during >= before + 1, `expected a worker thread (before ${before}, during ${during})`);
  await pool.close();
  const after = osThreads();
  // Compared with `during` rather than `before`, so an unrelated thread the runtime starts lazily cannot flake this.
  if (during !== null && after !== null) assert.ok(during - after >= 1, `threads left running after close() (during ${during}, after ${after})`);
  await assert.rejects(pool.resizeEntries(toShared(noiseImage(10, 10, 1)), [], sharedOut(0)), /closed/);
  await pool.close(); // idempotent
});

test('inline pool (1 thread) accepts ordinary buffers', async () => {
  const pool = await ResizePool.create(1);
  const img = noiseImage(300, 1200, 7);
  const boxes = entries(img);
  const out = new Float32Array(boxes.length * ENTRY);
  await pool.resizeEntries(img, boxes, out);
  assert.ok(sameFloats(out, inline(img, boxes)));
  await pool.close();
});

test('pool sizes below 1 are refused', async () => {
  await assert.rejects(ResizePool.create(0), /integer >= 1/);
  await assert.rejects(ResizePool.create(1.5), /integer >= 1/);
});
