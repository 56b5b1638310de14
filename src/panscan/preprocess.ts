// One image from file bytes to what Gemma 3 consumes: decode (decode.ts) -> crop plan (plan.ts) -> every entry
// [whole image, crop_1..k] resized Pillow-exactly and normalized into one Float32 [1+k, 3, 896, 896] tensor
// (resample.ts, entries spread over a ResizePool) -> prompt input_ids (tokenizer.ts). Timed per stage so
// preprocessMs means the same thing in every backend.
import { performance } from 'node:perf_hooks';
import { decodeImage, readImageFile, type DecodedImage, type ExifOrientation } from './decode.js';
import { planCrops } from './plan.js';
import { resizeNormalizeInto } from './resample.js';
import type { PixelBufferPool } from './pixel-buffers.js';
import type { ResizePool } from './resize-pool.js';
import { promptInputIds } from './tokenizer.js';
import { DEFAULT_PIXEL_LIMIT, IMAGE_SIZE_PX, imageTokenCount, type CropBox, type PanScanOptions } from './types.js';

export const ENTRY_ELEMENTS = 3 * IMAGE_SIZE_PX * IMAGE_SIZE_PX;

export interface PreprocessSettings {
  /** null: pan-and-scan off (one entry per image). */
  readonly panScan: PanScanOptions | null;
  readonly exifOrientation: ExifOrientation;
  readonly pixelLimit: number;
}

export const DEFAULT_PREPROCESS: PreprocessSettings = { panScan: null, exifOrientation: 'ignore', pixelLimit: DEFAULT_PIXEL_LIMIT };

export interface PreprocessTimings {
  readonly readMs: number;
  /** Header + pixel decode; the crop plan and tokenizing run on this thread meanwhile. */
  readonly decodeMs: number;
  readonly resizeMs: number;
  /** Crop plan + prompt tokenizing, overlapped with the decode (so not added on top of decodeMs). */
  readonly tokenizeMs: number;
  /** read + decode + plan + resize/normalize + tokenize: the request's preprocessMs. */
  readonly totalMs: number;
}

export interface PreprocessedImage {
  readonly width: number;
  readonly height: number;
  readonly numCrops: number;
  readonly crops: readonly CropBox[];
  readonly imageTokens: number;
  /** [1 + numCrops, 3, 896, 896], normalized to [-1, 1], RGB planes. */
  readonly pixelValues: Float32Array;
  readonly inputIds: number[] | null;
  readonly timings: PreprocessTimings;
  /** The decoded RGB image, when asked for (to draw the crop grid). */
  readonly decoded: DecodedImage | null;
}

export interface PreprocessCall {
  /** When given, the prompt is built and tokenized and the time counted. */
  readonly prompt?: string;
  /** Spread the entries over worker threads; without it they run on the calling thread. */
  readonly pool?: ResizePool;
  readonly keepDecoded?: boolean;
  /** Where the pixel tensor comes from (and should be released to when the caller is done with it). */
  readonly buffers?: PixelBufferPool;
}

/** The whole-image box followed by the crop boxes: the order of the tensor's entries. */
export function entryBoxes(width: number, height: number, crops: readonly CropBox[]): CropBox[] {
  return [{ left: 0, top: 0, width, height }, ...crops];
}

export async function preprocessFile(path: string, settings: PreprocessSettings, call: PreprocessCall = {}): Promise<PreprocessedImage> {
  const t0 = performance.now();
  const bytes = await readImageFile(path);
  const t1 = performance.now();
  return preprocessBytes(bytes, settings, call, path, t0, t1);
}

export async function preprocessBytes(
  bytes: Buffer,
  settings: PreprocessSettings,
  call: PreprocessCall = {},
  file?: string,
  startedAt = performance.now(),
  readDoneAt = startedAt,
): Promise<PreprocessedImage> {
  const parallel = call.pool !== undefined && call.pool.workerCount > 0;
  // The crop plan and the prompt's tokens need only the header's size: work them out while sharp decodes.
  let planned: { width: number; height: number; crops: CropBox[]; inputIds: number[] | null; ms: number } | null = null;
  const onHeader = (width: number, height: number) => {
    const t = performance.now();
    const crops = settings.panScan ? planCrops(width, height, settings.panScan) : [];
    const inputIds = call.prompt === undefined ? null : promptInputIds(call.prompt, crops.length);
    planned = { width, height, crops, inputIds, ms: performance.now() - t };
  };
  // Decoded into ordinary memory: the pool copies it into its reused shared buffer only when it fans out.
  const decoded = await decodeImage(bytes, { exifOrientation: settings.exifOrientation, pixelLimit: settings.pixelLimit, onHeader }, file);
  const tDecoded = performance.now();
  const plan = planned as { width: number; height: number; crops: CropBox[]; inputIds: number[] | null; ms: number } | null;
  if (!plan || plan.width !== decoded.width || plan.height !== decoded.height) {
    throw new Error(`internal: header size ${plan ? `${plan.width}x${plan.height}` : 'unknown'} differs from the decoded ${decoded.width}x${decoded.height}`);
  }
  const crops = plan.crops;
  const boxes = entryBoxes(decoded.width, decoded.height, crops);
  const elements = boxes.length * ENTRY_ELEMENTS;
  const pixelValues = call.buffers
    ? call.buffers.acquire(elements)
    : parallel
      ? new Float32Array(new SharedArrayBuffer(elements * 4))
      : new Float32Array(elements);
  if (parallel) {
    await call.pool!.resizeEntries(decoded, boxes, pixelValues);
  } else {
    for (let i = 0; i < boxes.length; i++) resizeNormalizeInto(decoded, boxes[i], pixelValues, i * ENTRY_ELEMENTS);
  }
  const tDone = performance.now();
  const inputIds = plan.inputIds;
  return {
    width: decoded.width,
    height: decoded.height,
    numCrops: crops.length,
    crops,
    imageTokens: imageTokenCount(crops.length),
    pixelValues,
    inputIds,
    timings: {
      readMs: readDoneAt - startedAt,
      decodeMs: tDecoded - readDoneAt,
      resizeMs: tDone - tDecoded,
      tokenizeMs: plan.ms,
      totalMs: tDone - startedAt,
    },
    decoded: call.keepDecoded ? decoded : null,
  };
}

/** The exact 8-bit RGB (HWC) that entry `index` of a pixel tensor encodes: the normalization is invertible. */
export function entryToRgb(pixelValues: Float32Array, index: number): Uint8Array {
  const plane = IMAGE_SIZE_PX * IMAGE_SIZE_PX;
  const base = index * ENTRY_ELEMENTS;
  const out = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    const off = base + c * plane;
    for (let i = 0; i < plane; i++) out[i * 3 + c] = Math.round(pixelValues[off + i] * 127.5 + 127.5);
  }
  return out;
}
