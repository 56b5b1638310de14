// Crop planning: a pure transcription of HF transformers' Gemma3ImageProcessor.pan_and_scan
// (panscan-spec.md §2.2-2.3). No I/O; every arithmetic step mirrors the Python (double division,
// floor/ceil), so results match for every size and parameter set.
import type { CropBox, PanScanOptions } from './types.js';

/** Thrown for parameters HF would accept silently but that make no sense (NaN, zero, negative, fractional counts). */
export class PanScanOptionsError extends Error {
  override name = 'PanScanOptionsError';
}

/** Checks the knobs and returns them; throws PanScanOptionsError naming the bad knob and what is allowed. */
export function validatePanScanOptions(o: PanScanOptions): PanScanOptions {
  const problems: string[] = [];
  if (!Number.isFinite(o.minRatioToActivate) || o.minRatioToActivate <= 0) {
    problems.push(`minRatioToActivate must be a finite number > 0 (got ${o.minRatioToActivate})`);
  }
  if (!Number.isInteger(o.maxNumCrops) || o.maxNumCrops < 1) {
    problems.push(`maxNumCrops must be an integer >= 1 (got ${o.maxNumCrops})`);
  }
  if (!Number.isInteger(o.minCropSize) || o.minCropSize < 1) {
    problems.push(`minCropSize must be an integer >= 1 pixel (got ${o.minCropSize})`);
  }
  if (problems.length > 0) throw new PanScanOptionsError(`invalid pan-and-scan options: ${problems.join('; ')}`);
  return o;
}

/**
 * The crops HF would cut from a width x height image, in order (left to right, or top to bottom).
 * An empty array means no crops: pan-and-scan not triggered.
 */
export function planCrops(width: number, height: number, o: PanScanOptions): CropBox[] {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new PanScanOptionsError(`image size must be positive integers (got ${width}x${height})`);
  }
  validatePanScanOptions(o);
  let numW = 1;
  let numH = 1;
  if (width >= height) {
    if (width / height < o.minRatioToActivate) return [];
    numW = clampCropCount(width / height, width, o);
  } else {
    if (height / width < o.minRatioToActivate) return [];
    numH = clampCropCount(height / width, height, o);
  }
  const cropW = Math.ceil(width / numW);
  const cropH = Math.ceil(height / numH);
  // HF checks the nominal (ceil) size, not the truncated last crop.
  if (Math.min(cropW, cropH) < o.minCropSize) return [];
  const crops: CropBox[] = [];
  for (let j = 0; j < numH; j++) {
    for (let i = 0; i < numW; i++) {
      const left = i * cropW;
      const top = j * cropH;
      // numpy slicing clips at the edge, so the last crop can be shorter (or, in degenerate configs, empty).
      crops.push({ left, top, width: Math.max(0, Math.min(left + cropW, width) - left), height: Math.max(0, Math.min(top + cropH, height) - top) });
    }
  }
  return crops;
}

function clampCropCount(ratio: number, longSide: number, o: PanScanOptions): number {
  let n = Math.floor(ratio + 0.5); // half-up rounding, as HF writes it
  n = Math.min(Math.floor(longSide / o.minCropSize), n);
  n = Math.max(2, n);
  n = Math.min(o.maxNumCrops, n);
  return n;
}
