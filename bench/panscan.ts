// `npm run bench:panscan`: gemma-bench's whole per-image preprocessing — file bytes to normalized float32 tensors
// and prompt tokens (read, decode, crop plan, resize + normalize every entry, tokenize) — per fixture image under
// the balanced preset, with 1 thread and with all cores, against HF's Gemma3ImageProcessor times from the issue
// (16-core x86 host, scaled by 0.74 for this machine's single-thread speed). Prints JSON on stdout.
// Output tensors are reused between iterations (as the panscan command and the replica workers do); the cost of
// fresh tensors is reported too, for honesty.
import sharp from 'sharp'; // loaded before any worker thread starts (required on glibc Linux)
import { existsSync, mkdtempSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PixelBufferPool } from '../src/panscan/pixel-buffers.js';
import { preprocessFile, type PreprocessSettings } from '../src/panscan/preprocess.js';
import { resampleBackend } from '../src/panscan/resample.js';
import { ResizePool } from '../src/panscan/resize-pool.js';
import { gemmaTokenizer } from '../src/panscan/tokenizer.js';
import { DEFAULT_PIXEL_LIMIT } from '../src/panscan/types.js';
import { measure } from './timing.js';

const PROMPT = 'What is the total?';
const HOST_SCALE = 0.74;
/** HF Gemma3ImageProcessor, balanced preset, file to tensors, on the 16-core host: [1 thread, 2 threads] ms. */
const HF_MS: Record<string, [number, number]> = {
  'tall_896x3000.png': [111, 74],
  'infographic_3000x1000.png': [120, 86],
  'receipt_600x2000.png': [138, 72],
  'photo_1024x1024.png': [46, 34],
  'a4_1240x1754.png': [36, 33],
};
const SETTINGS: PreprocessSettings = { panScan: { minRatioToActivate: 2.0, maxNumCrops: 6, minCropSize: 448 }, exifOrientation: 'ignore', pixelLimit: DEFAULT_PIXEL_LIMIT };

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const sharedDir = resolve(repoRoot, '..', 'shared', 'fixtures', 'panscan', 'images');

/** The five fixture images; without ../shared, look-alikes of the same sizes and kinds are generated. */
async function images(): Promise<{ files: Record<string, string>; source: string }> {
  const names = Object.keys(HF_MS);
  if (names.every((n) => existsSync(join(sharedDir, n)))) return { files: Object.fromEntries(names.map((n) => [n, join(sharedDir, n)])), source: sharedDir };
  const dir = mkdtempSync(join(tmpdir(), 'gb-bench-'));
  const files: Record<string, string> = {};
  for (const n of names) {
    const [w, h] = /(\d+)x(\d+)/.exec(n)!.slice(1).map(Number);
    const px = Buffer.alloc(w * h * 3);
    let s = 12345;
    for (let i = 0; i < px.length; i += 3) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const v = (i / 3) % w < w * 0.9 && ((i / 3 / w) | 0) % 24 < 12 && s >>> 29 ? 40 : 240;
      px[i] = px[i + 1] = px[i + 2] = v;
    }
    files[n] = join(dir, n);
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(files[n]);
  }
  return { files, source: `generated look-alikes in ${dir} (../shared/fixtures/panscan not found)` };
}

const geomean = (xs: number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

async function main(): Promise<void> {
  const reps = arg('--reps', 15);
  const warmup = arg('--warmup', 3);
  const { files, source } = await images();
  gemmaTokenizer();
  const allCores = availableParallelism();
  const configs: Array<{ threads: number; label: string }> = [{ threads: 1, label: '1 thread' }, { threads: allCores, label: `${allCores} threads (all cores)` }];
  const results: Record<string, unknown>[] = [];
  const speedups: Record<number, number[]> = { 1: [], [allCores]: [] };
  for (const { threads } of configs) {
    // One thread means one thread everywhere: libvips's decode threads too.
    sharp.concurrency(threads);
    const pool = threads > 1 ? await ResizePool.create(threads) : undefined;
    const buffers = new PixelBufferPool(pool !== undefined);
    for (const [name, file] of Object.entries(files)) {
      let crops = 0;
      let promptTokens = 0;
      const run = (reuse: boolean) => async () => {
        const r = await preprocessFile(file, SETTINGS, { prompt: PROMPT, ...(pool ? { pool } : {}), ...(reuse ? { buffers } : {}) });
        crops = r.numCrops;
        promptTokens = r.inputIds!.length;
        if (reuse) buffers.release(r.pixelValues);
      };
      const reused = await measure(reps, warmup, run(true));
      const fresh = await measure(Math.max(3, reps >> 2), 1, run(false));
      const hf = HF_MS[name][threads === 1 ? 0 : 1] * HOST_SCALE;
      const speedup = hf / reused.medianMs;
      speedups[threads].push(speedup);
      results.push({ image: name, threads, crops, promptTokens, ms: reused, freshTensorsMs: fresh, hfScaledMs: Math.round(hf * 10) / 10, speedupVsHf: Math.round(speedup * 100) / 100 });
    }
    await pool?.close();
  }
  const out = {
    bench: 'panscan',
    what: 'ms per image from file bytes to normalized float32 tensors and prompt tokens, balanced preset (min ratio 2.0, max crops 6, min crop 448)',
    resampler: resampleBackend(),
    cpu: cpus()[0]?.model,
    cores: allCores,
    images: source,
    reps,
    hfReference: 'HF Gemma3ImageProcessor on a 16-core x86 host (issue 2), scaled by 0.74; the 2-thread HF figures are compared with all cores here',
    results,
    geomeanSpeedupVsHf: Object.fromEntries(Object.entries(speedups).map(([t, xs]) => [`${t} thread${t === '1' ? '' : 's'}`, Math.round(geomean(xs) * 100) / 100])),
    slowerThanHf: results.filter((r) => (r.speedupVsHf as number) < 1).map((r) => `${r.image} @ ${r.threads}`),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

await main();
