// Shared pan-and-scan types and the fixed constants of Gemma 3's image pipeline (panscan-spec.md §2, §3).

/** The three knobs of HF's `pan_and_scan`. */
export interface PanScanOptions {
  readonly minRatioToActivate: number;
  readonly maxNumCrops: number;
  readonly minCropSize: number;
}

/** A crop in source-image pixels; the last crop along the long side may be truncated at the edge. */
export interface CropBox {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** HF's processor defaults when pan-and-scan is switched on (`Gemma3ProcessorKwargs._defaults`). */
export const HF_PANSCAN_DEFAULTS: PanScanOptions = Object.freeze({
  minRatioToActivate: 1.2,
  maxNumCrops: 4,
  minCropSize: 256,
});

/** Every entry (the whole image and each crop) is resized to this square. */
export const IMAGE_SIZE_PX = 896;
/** Soft tokens per image entry after the 4x4 average pool (64x64 patches -> 16x16). */
export const TOKENS_PER_IMAGE = 256;
/** Pillow's default `Image.MAX_IMAGE_PIXELS`: above this, decoding is refused as a decompression bomb. */
export const DEFAULT_PIXEL_LIMIT = 89_478_485;

/** Image tokens for one image with k crops: 256 per entry. */
export function imageTokenCount(numCrops: number): number {
  return TOKENS_PER_IMAGE * (1 + numCrops);
}
