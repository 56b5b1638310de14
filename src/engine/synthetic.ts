// The built-in synthetic document set: deterministic (by seed) PNGs generated with sharp in the shapes users
// feed Gemma 3 — tall receipts, wide infographics, A4 pages, square photos, panoramas, phone screenshots — with
// text-like content (rows of dark word blocks), so pan-and-scan triggers on some and not others. Cached on disk
// under the data directory; a set is written to a temporary directory and renamed, so it is complete or absent.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { dataDir } from '../config/paths.js';
import { prng } from '../util/prng.js';

export const SYNTHETIC_SET_VERSION = 1;
import { DEFAULT_SYNTHETIC_COUNT } from '../config/run-spec.js';

interface Kind {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly style: 'text' | 'photo' | 'chart';
}

/** One cycle of shapes; a set of N images takes the first N of the repeated cycle. */
export const SYNTHETIC_KINDS: readonly Kind[] = [
  { name: 'receipt', width: 600, height: 2000, style: 'text' },
  { name: 'a4-page', width: 1240, height: 1754, style: 'text' },
  { name: 'infographic', width: 3000, height: 1000, style: 'chart' },
  { name: 'photo', width: 1024, height: 1024, style: 'photo' },
  { name: 'tall-receipt', width: 896, height: 3000, style: 'text' },
  { name: 'panorama', width: 4000, height: 1000, style: 'photo' },
  { name: 'screenshot', width: 1080, height: 2400, style: 'text' },
  { name: 'slide', width: 1600, height: 900, style: 'chart' },
];

function renderRgb(kind: Kind, rand: () => number): Uint8Array {
  const { width: w, height: h } = kind;
  const px = new Uint8Array(w * h * 3);
  const paper = kind.style === 'photo' ? 0 : 235 + Math.floor(rand() * 20);
  if (kind.style === 'photo') {
    // Smooth colour field with soft blobs: photo-like low-frequency content.
    const blobs = Array.from({ length: 6 }, () => ({ x: rand() * w, y: rand() * h, r: (0.2 + rand() * 0.4) * Math.min(w, h), c: [rand() * 255, rand() * 255, rand() * 255] }));
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let r = 40 + (x / w) * 120, g = 60 + (y / h) * 100, b = 120;
        for (const bl of blobs) {
          const d = Math.hypot(x - bl.x, y - bl.y) / bl.r;
          if (d < 1) {
            const k = (1 - d) * (1 - d);
            r += (bl.c[0] - r) * k; g += (bl.c[1] - g) * k; b += (bl.c[2] - b) * k;
          }
        }
        const o = (y * w + x) * 3;
        px[o] = r; px[o + 1] = g; px[o + 2] = b;
      }
    }
    return px;
  }
  px.fill(paper);
  const fill = (x0: number, y0: number, x1: number, y1: number, c: number[]) => {
    for (let y = Math.max(0, y0); y < Math.min(h, y1); y++) {
      for (let x = Math.max(0, x0); x < Math.min(w, x1); x++) {
        const o = (y * w + x) * 3;
        px[o] = c[0]; px[o + 1] = c[1]; px[o + 2] = c[2];
      }
    }
  };
  const margin = Math.round(Math.min(w, h) * 0.06);
  if (kind.style === 'chart') {
    // Panels of bars with captions, as in an infographic or a slide.
    const panels = Math.max(1, Math.round(w / h * 1.5));
    const pw = (w - margin * 2) / panels;
    for (let p = 0; p < panels; p++) {
      const x0 = Math.round(margin + p * pw);
      const colour = [rand() * 200, rand() * 200, rand() * 200];
      const bars = 4 + Math.floor(rand() * 5);
      const bw = (pw * 0.8) / bars;
      for (let i = 0; i < bars; i++) {
        const bh = (0.2 + rand() * 0.5) * h;
        fill(Math.round(x0 + i * bw), Math.round(h - margin - bh), Math.round(x0 + (i + 0.7) * bw), h - margin, colour);
      }
      fill(x0, margin, Math.round(x0 + pw * (0.4 + rand() * 0.4)), margin + Math.round(h * 0.04), [30, 30, 30]);
    }
    return px;
  }
  // Text: lines of dark "words" of random width, paragraphs separated by gaps.
  const lineH = Math.max(10, Math.round(Math.min(w, h) * 0.028));
  for (let y = margin; y + lineH < h - margin; y += Math.round(lineH * 1.7)) {
    if (rand() < 0.08) continue;
    let x = margin;
    const lineEnd = w - margin - (rand() < 0.2 ? rand() * w * 0.4 : 0);
    const ink = [20 + rand() * 40, 20 + rand() * 40, 20 + rand() * 60];
    while (x < lineEnd) {
      const ww = Math.round(lineH * (1 + rand() * 4));
      fill(x, y, Math.min(x + ww, Math.round(lineEnd)), y + lineH, ink);
      x += ww + Math.round(lineH * 0.6);
    }
  }
  return px;
}

/** The directory of the synthetic set for (seed, count), generating it on first use. Returns the file paths. */
export async function ensureSyntheticSet(seed: number, count = DEFAULT_SYNTHETIC_COUNT, env?: NodeJS.ProcessEnv): Promise<string[]> {
  const dir = join(dataDir(env), 'synthetic', `v${SYNTHETIC_SET_VERSION}-seed${seed}-n${count}`);
  const names = Array.from({ length: count }, (_, i) => {
    const k = SYNTHETIC_KINDS[i % SYNTHETIC_KINDS.length];
    return `${String(i).padStart(3, '0')}-${k.name}-${k.width}x${k.height}.png`;
  });
  if (existsSync(dir) && names.every((n) => existsSync(join(dir, n)))) return names.map((n) => join(dir, n));
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (let i = 0; i < count; i++) {
    const kind = SYNTHETIC_KINDS[i % SYNTHETIC_KINDS.length];
    const rgb = renderRgb(kind, prng(seed * 1000003 + i));
    await sharp(rgb, { raw: { width: kind.width, height: kind.height, channels: 3 } }).png({ compressionLevel: 6 }).toFile(join(tmp, names[i]));
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, '..'), { recursive: true });
  renameSync(tmp, dir);
  return readdirSync(dir).filter((f) => f.endsWith('.png')).sort().map((f) => join(dir, f));
}
