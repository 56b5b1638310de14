// Test fixtures for the resampler: synthetic images, the committed Pillow ground truth
// (test/fixtures/resample, made by make.py) and the HF reference outputs (test/fixtures/panscan, plus the
// full shared set at ../shared/fixtures/panscan when present). Decoding goes through sharp here, in tests
// only; the code under test never decodes.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import type { RgbImage } from '../../src/panscan/resample.js';
import type { CropBox, PanScanOptions } from '../../src/panscan/types.js';

/** The repository root, found from this file whether it runs from test/ or dist/test/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('repository root (package.json) not found above ' + fileURLToPath(import.meta.url));
}

// ---------------------------------------------------------------------------------------------------------
// Synthetic images.

/** Deterministic xorshift32 noise (any seed != 0). */
export function noiseImage(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    data[i] = s & 255;
  }
  return { data, width, height };
}

/**
 * The `pattern` input of test/fixtures/resample/make.py, bit for bit (integer arithmetic only): gradients,
 * hard-edged checks and bars, 'text' strokes, white blocks, hash noise in one 64-pixel tile of every 16.
 */
export function patternImage(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  const seedHash = Math.imul(seed, 83492791) >>> 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let rgb: [number, number, number] = [
        Math.floor((x * 255) / Math.max(1, width - 1)),
        Math.floor((y * 255) / Math.max(1, height - 1)),
        ((Math.floor(x / 29) + Math.floor(y / 19)) % 2) * 200 + 30,
      ];
      const text = (x % 97 < 3 && y % 71 < 40) || (y % 53 === 0 && x % 90 < 60);
      if (text) rgb = [12, 12, 12];
      if ((Math.floor(x / 50) + Math.floor(y / 50)) % 5 === 0) rgb = [250, 250, 250];
      const noisy = Math.floor(x / 64) % 4 === 1 && Math.floor(y / 64) % 4 === 2;
      const hash = ((Math.imul(x, 73856093) >>> 0) ^ (Math.imul(y, 19349663) >>> 0) ^ seedHash) >>> 0;
      const o = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const n = noisy ? ((hash >>> (7 + 5 * c)) % 13) - 6 : 0;
        data[o + c] = Math.min(255, Math.max(0, rgb[c] + n));
      }
    }
  }
  return { data, width, height };
}

/** Copies img into a SharedArrayBuffer-backed image (for the worker pool). */
export function toShared(img: RgbImage): RgbImage {
  const data = new Uint8Array(new SharedArrayBuffer(img.data.length));
  data.set(img.data);
  return { data, width: img.width, height: img.height };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Number of differing bytes and the largest absolute difference. */
export function compareBytes(a: Uint8Array, b: Uint8Array): { differing: number; maxDiff: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let differing = 0;
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d !== 0) {
      differing++;
      if (d > maxDiff) maxDiff = d;
    }
  }
  return { differing, maxDiff };
}

/** Decodes an image file to packed 8-bit RGB the way these fixtures need (palette and alpha expanded/dropped). */
export async function decodeRgb(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${file}: decoded to ${info.channels} channels, expected 3`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

// ---------------------------------------------------------------------------------------------------------
// Pillow ground truth (test/fixtures/resample).

export interface PillowCase {
  readonly name: string;
  readonly kind: 'noise' | 'pattern';
  readonly seed: number;
  readonly width: number;
  readonly height: number;
  readonly inputSha256: string;
  readonly input?: string;
  readonly output?: string;
  readonly box: CropBox;
  readonly size: number;
  readonly outputSha256: string;
}

export interface PillowManifest {
  readonly pillow: string;
  readonly cases: readonly PillowCase[];
}

export function pillowFixtureDir(): string {
  return join(repoRoot(), 'test', 'fixtures', 'resample');
}

export function loadPillowManifest(): PillowManifest {
  return JSON.parse(readFileSync(join(pillowFixtureDir(), 'cases.json'), 'utf8')) as PillowManifest;
}

/** The case's source image: committed bytes for noise, regenerated for patterns (checked against its hash). */
export function pillowInput(c: PillowCase): RgbImage {
  const img = c.input ? { data: new Uint8Array(gunzipSync(readFileSync(join(pillowFixtureDir(), c.input)))), width: c.width, height: c.height } : patternImage(c.width, c.height, c.seed);
  const got = sha256(img.data);
  if (got !== c.inputSha256) throw new Error(`${c.name}: input hash ${got} differs from make.py's ${c.inputSha256}`);
  return img;
}

/** Pillow's output bytes when committed (null for hash-only cases). */
export async function pillowOutput(c: PillowCase): Promise<Uint8Array | null> {
  if (!c.output) return null;
  const file = join(pillowFixtureDir(), c.output);
  if (c.output.endsWith('.gz')) return new Uint8Array(gunzipSync(readFileSync(file)));
  return (await decodeRgb(file)).data;
}

// ---------------------------------------------------------------------------------------------------------
// HF reference outputs (panscan fixture sets: index.json + images/ + refs/).

export interface PanscanCase {
  readonly image: string;
  readonly size: readonly [number, number];
  readonly mode: string;
  readonly params: string;
  readonly num_crops: number;
  readonly outputs: readonly string[];
}

export interface PanscanIndex {
  readonly about: string;
  readonly params: Readonly<Record<string, { minRatioToActivate: number; maxNumCrops: number; minCropSize: number }>>;
  readonly cases: readonly PanscanCase[];
}

export interface PanscanSet {
  readonly dir: string;
  readonly index: PanscanIndex;
}

/** The small subset committed under test/fixtures/panscan. */
export function localPanscanSet(): PanscanSet {
  const dir = join(repoRoot(), 'test', 'fixtures', 'panscan');
  return { dir, index: JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as PanscanIndex };
}

/** The full shared set at ../shared/fixtures/panscan (relative to the repository root), or null when absent. */
export function sharedPanscanSet(): PanscanSet | null {
  const dir = resolve(repoRoot(), '..', 'shared', 'fixtures', 'panscan');
  if (!existsSync(join(dir, 'index.json'))) return null;
  return { dir, index: JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as PanscanIndex };
}

export function panscanOptions(index: PanscanIndex, params: string): PanScanOptions {
  const p = index.params[params];
  if (!p) throw new Error(`unknown params preset ${params}`);
  return { minRatioToActivate: p.minRatioToActivate, maxNumCrops: p.maxNumCrops, minCropSize: p.minCropSize };
}

/** Cases with the same image and the same outputs (presets that plan the same crops) collapse to one. */
export function distinctCases(index: PanscanIndex): PanscanCase[] {
  const seen = new Set<string>();
  return index.cases.filter((c) => {
    const key = `${c.image}|${c.outputs.join(',')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
