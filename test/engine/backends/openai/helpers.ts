// Shared helpers for the openai backend tests: small images, requests, a log collector, and backend options pointed
// at a replayer.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { InferRequest, LogFn } from '../../../../src/engine/backend.js';
import type { OpenAIBackendOptions } from '../../../../src/engine/backends/openai/backend.js';
import type { PreprocessSettings } from '../../../../src/panscan/preprocess.js';

export const BALANCED: PreprocessSettings = { panScan: { minRatioToActivate: 2.0, maxNumCrops: 6, minCropSize: 448 }, exifOrientation: 'ignore', pixelLimit: 89_478_485 };

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `gb-openai-${prefix}-`));
}

/** A small RGB PNG with a gradient, so every pixel is different. */
export async function makeImage(dir: string, name: string, width = 40, height = 30, channels: 3 | 4 = 3): Promise<string> {
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      data[o] = (x * 6) & 0xff;
      data[o + 1] = (y * 8) & 0xff;
      data[o + 2] = (x + y) & 0xff;
      if (channels === 4) data[o + 3] = 200;
    }
  }
  const path = join(dir, name);
  await sharp(data, { raw: { width, height, channels } }).png().toFile(path);
  return path;
}

export async function rawPixels(pathOrBuffer: string | Buffer): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(pathOrBuffer).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Differing bits between two equal-length buffers. */
export function bitDiff(a: Buffer, b: Buffer): { bytes: number[]; bits: number } {
  assertEqualLength(a, b);
  const bytes: number[] = [];
  let bits = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ^ b[i];
    if (x !== 0) {
      bytes.push(i);
      for (let v = x; v; v &= v - 1) bits++;
    }
  }
  return { bytes, bits };
}

function assertEqualLength(a: Buffer, b: Buffer): void {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
}

export function request(id: number, imagePath: string, extra: Partial<{ crops: number; imageTokens: number; promptTokens: number; maxNewTokens: number; prompt: string }> = {}): InferRequest {
  return { id, imagePath, prompt: extra.prompt ?? 'What is the total?', maxNewTokens: extra.maxNewTokens ?? 16, preprocess: BALANCED, ...extra } as InferRequest;
}

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}

export function collectLog(): { log: LogFn; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { lines, log: (level, message) => lines.push({ level, message }) };
}

export function options(endpoints: string[], log: LogFn, extra: Partial<OpenAIBackendOptions> = {}): OpenAIBackendOptions {
  return { endpoints, log, env: {}, retokenize: (t) => t.length, ...extra };
}
