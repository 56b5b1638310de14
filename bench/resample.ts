// Benchmark of the per-image resize + normalize (resample.ts, resize-pool.ts) under the balanced preset,
// printed as JSON: per image, ms for all entries with 1 thread (inline) and 2 threads (pool), the JS
// fallback and the scalar reference, plus sharp's decode time for context. Medians after warmup; the
// output tensor is allocated once per image and reused, so its page-fault cost is reported separately.
// Run: npm run build && node dist/bench/resample.js [--reps N]
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import sharp from 'sharp'; // loaded before any worker starts (required on glibc Linux)
import { planCrops } from '../src/panscan/plan.js';
import { referenceResizeNormalizeInto } from '../src/panscan/resample-reference.js';
import { resampleBackend, resizeNormalizeInto, setResampleWasmPath, type RgbImage } from '../src/panscan/resample.js';
import { ResizePool } from '../src/panscan/resize-pool.js';
import { IMAGE_SIZE_PX, type CropBox, type PanScanOptions } from '../src/panscan/types.js';
import { measure } from './timing.js';

const BALANCED: PanScanOptions = { minRatioToActivate: 2.0, maxNumCrops: 6, minCropSize: 448 };
const ENTRY = 3 * IMAGE_SIZE_PX * IMAGE_SIZE_PX;
const IMAGES: Array<[string, number, number]> = [
  ['tall_896x3000.png', 896, 3000],
  ['infographic_3000x1000.png', 3000, 1000],
  ['receipt_600x2000.png', 600, 2000],
  ['photo_1024x1024.png', 1024, 1024],
  ['a4_1240x1754.png', 1240, 1754],
];

function argNumber(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function synthetic(width: number, height: number): RgbImage {
  const data = new Uint8Array(new SharedArrayBuffer(width * height * 3));
  let s = 0x9e3779b9;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const o = (y * width + x) * 3;
      data[o] = (x + (s >>> 28)) & 255;
      data[o + 1] = (y + (s >>> 24)) & 255;
      data[o + 2] = s >>> 25;
    }
  }
  return { data, width, height };
}

async function decode(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const shared = new Uint8Array(new SharedArrayBuffer(data.length));
  shared.set(data);
  return { data: shared, width: info.width, height: info.height };
}

async function main(): Promise<void> {
  const reps = argNumber('--reps', 15);
  const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
  const imageDir = resolve(root, '..', 'shared', 'fixtures', 'panscan', 'images');
  const haveImages = existsSync(imageDir);
  sharp.concurrency(1);
  const pool2 = await ResizePool.create(2);
  const results = [];
  try {
    for (const [name, w, h] of IMAGES) {
      const file = join(imageDir, name);
      const real = haveImages && existsSync(file);
      const img = real ? await decode(file) : synthetic(w, h);
      const boxes: CropBox[] = [{ left: 0, top: 0, width: img.width, height: img.height }, ...planCrops(img.width, img.height, BALANCED)];
      const out = new Float32Array(new SharedArrayBuffer(boxes.length * ENTRY * 4));
      const inline = () => boxes.forEach((b, i) => resizeNormalizeInto(img, b, out, i * ENTRY));
      const fast1 = await measure(reps, 3, inline);
      const fast2 = await measure(reps, 3, () => pool2.resizeEntries(img, boxes, out));
      setResampleWasmPath(null);
      const js1 = await measure(Math.max(3, reps >> 2), 1, inline);
      setResampleWasmPath(undefined);
      const reference = await measure(3, 1, () => boxes.forEach((b, i) => referenceResizeNormalizeInto(img, b, out, i * ENTRY)));
      const decodeMs = real ? await measure(Math.max(5, reps >> 1), 2, () => sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer()) : null;
      const freshOutput = await measure(5, 1, () => new Float32Array(boxes.length * ENTRY).fill(0));
      results.push({
        image: real ? name : `synthetic ${w}x${h}`,
        width: img.width,
        height: img.height,
        entries: boxes.map((b) => `${b.width}x${b.height}`),
        resizeNormalize: { wasm1Thread: fast1, wasm2Threads: fast2, js1Thread: js1, reference1Thread: reference },
        decodeSharp: decodeMs,
        freshOutputAllocAndTouch: freshOutput,
      });
    }
  } finally {
    await pool2.close();
  }
  const report = {
    about: 'ms for resize + normalize of every entry (whole image + balanced-preset crops) into a reused output; median and min of the repetitions',
    backend: resampleBackend(),
    reps,
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
    images: results,
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

await main();
