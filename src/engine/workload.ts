// The workload: which images and prompts a run uses, and what each request will cost before it runs (crop plan,
// image tokens, prompt tokens). Images come from a file, a directory (recursively) or a glob; non-images are
// skipped and counted; an unreadable image stays in the workload with its error, so its requests fail with the
// reason while the others run.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { glob } from 'tinyglobby';
import { readImageFile, readImageHeader } from '../panscan/decode.js';
import { planCrops } from '../panscan/plan.js';
import { DEFAULT_PROMPT } from '../panscan/prompt.js';
import { promptInputIds } from '../panscan/tokenizer.js';
import { imageTokenCount, type PanScanOptions } from '../panscan/types.js';
import type { PreprocessSettings } from '../panscan/preprocess.js';
import type { Workload, WorkloadImage } from './types.js';
import { usableImageIndices } from './workload-summary.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.avif'] as const;

export class WorkloadError extends Error {
  override name = 'WorkloadError';
}

const isImageName = (f: string) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(f).toLowerCase());

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile() || e.isSymbolicLink()) out.push(p);
  }
  return out;
}

/** Files an --images argument names: a file, a directory (recursive) or a glob. Sorted, so runs are repeatable. */
export async function discoverImages(spec: string, cwd = process.cwd()): Promise<{ files: string[]; skipped: number }> {
  const abs = resolve(cwd, spec);
  let candidates: string[];
  if (existsSync(abs) && statSync(abs).isDirectory()) {
    candidates = await walk(abs);
    if (candidates.length === 0) throw new WorkloadError(`no files in directory ${abs}: point --images at a folder of PNG/JPEG/WebP/TIFF/GIF images`);
  } else if (existsSync(abs)) {
    candidates = [abs];
  } else {
    candidates = (await glob(spec, { cwd, absolute: true, onlyFiles: true, dot: false })).map((p) => resolve(p));
    if (candidates.length === 0) throw new WorkloadError(`no images matched "${spec}": check the path or quote the glob so the shell does not expand it`);
  }
  candidates.sort();
  const files = candidates.filter(isImageName);
  const skipped = candidates.length - files.length;
  if (files.length === 0) {
    throw new WorkloadError(`no images among the ${candidates.length} file(s) of "${spec}" (looked for ${IMAGE_EXTENSIONS.join(' ')})`);
  }
  return { files, skipped };
}

/** Prompts from a file, one per non-empty line; without a file, the default document question. */
export function loadPrompts(file: string | undefined): string[] {
  if (!file) return [DEFAULT_PROMPT];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new WorkloadError(`cannot read prompts file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const prompts = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (prompts.length === 0) throw new WorkloadError(`prompts file ${file} has no prompts: write one prompt per line`);
  return prompts;
}

/** What is wrong with an image, without its path (the workload keeps the path beside it). */
function problemOf(path: string, err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.startsWith(`${path}: `) ? m.slice(path.length + 2) : m;
}

/** Throws a WorkloadError (a usage error) listing every file and its problem when no image of the set can be used. */
export function assertSomeImageUsable(w: Workload): void {
  if (w.images.length === 0 || usableImageIndices(w).length > 0) return;
  const lines = w.images.map((i) => `  ${i.path}: ${i.error}`);
  throw new WorkloadError(`none of the ${w.images.length} image(s) of ${w.source} can be used:\n${lines.join('\n')}`);
}

/**
 * Reads every image's header and hash and plans its crops, so each request's costs are known up front.
 * Prompt token counts depend only on (crops, prompt), so they are tokenized once per pair.
 */
export async function buildWorkload(source: string, files: readonly string[], prompts: readonly string[], settings: PreprocessSettings, skipped = 0): Promise<Workload> {
  const tokenCache = new Map<string, number>();
  const tokensFor = (k: number, p: number) => {
    const key = `${k}:${p}`;
    let n = tokenCache.get(key);
    if (n === undefined) {
      n = promptInputIds(prompts[p], k).length;
      tokenCache.set(key, n);
    }
    return n;
  };
  const images: WorkloadImage[] = [];
  for (const path of files) {
    let bytes: Buffer;
    try {
      bytes = await readImageFile(path);
    } catch (err) {
      images.push(brokenImage(path, Buffer.alloc(0), problemOf(path, err)));
      continue;
    }
    try {
      // The same checks and words as the request's own decoding (src/panscan/decode.ts), header only.
      const { width, height } = await readImageHeader(bytes, { exifOrientation: settings.exifOrientation, pixelLimit: settings.pixelLimit }, path);
      const crops = settings.panScan ? planCrops(width, height, settings.panScan as PanScanOptions) : [];
      images.push({
        path,
        sha256: sha256(bytes),
        bytes: bytes.length,
        width,
        height,
        crops,
        imageTokens: imageTokenCount(crops.length),
        promptTokens: prompts.map((_, p) => tokensFor(crops.length, p)),
        error: null,
      });
    } catch (err) {
      images.push(brokenImage(path, bytes, problemOf(path, err)));
    }
  }
  const setHash = sha256(Buffer.from(images.map((i) => i.sha256).join('\n')));
  return { source, images, prompts: [...prompts], setHash, skipped };
}

function brokenImage(path: string, bytes: Buffer, error: string): WorkloadImage {
  return { path, sha256: sha256(bytes), bytes: bytes.length, width: 0, height: 0, crops: [], imageTokens: 0, promptTokens: [], error };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
