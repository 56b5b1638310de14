// Which pan-and-scan settings apply: explicit knobs override the preset's; with neither, HF's defaults with
// pan-and-scan on (1.2 / 4 / 256). A preset with pan-and-scan off stays off unless a knob is given.
import type { Preset } from './preset-schema.js';
import { validatePanScanOptions } from '../panscan/plan.js';
import { HF_PANSCAN_DEFAULTS, type PanScanOptions } from '../panscan/types.js';

export interface PanScanKnobs {
  readonly minRatioToActivate?: number;
  readonly maxNumCrops?: number;
  readonly minCropSize?: number;
}

export interface ResolvedPanScan {
  /** null = pan-and-scan off. */
  readonly panScan: PanScanOptions | null;
  /** Where the values came from, for the user: "preset balanced", "HF defaults", "preset balanced + --max-crops". */
  readonly source: string;
}

export function resolvePanScan(preset: Preset | null, knobs: PanScanKnobs): ResolvedPanScan {
  const given = (Object.keys(knobs) as (keyof PanScanKnobs)[]).filter((k) => knobs[k] !== undefined);
  const flagNames: Record<keyof PanScanKnobs, string> = { minRatioToActivate: '--min-ratio', maxNumCrops: '--max-crops', minCropSize: '--min-crop-size' };
  const base: PanScanOptions = preset ? preset.panScan : HF_PANSCAN_DEFAULTS;
  const enabled = preset ? preset.panScan.enabled || given.length > 0 : true;
  const source = (preset ? `preset ${preset.name}` : 'HF defaults') + (given.length ? ` + ${given.map((k) => flagNames[k]).join(' ')}` : '');
  if (!enabled) return { panScan: null, source };
  const panScan = validatePanScanOptions({
    minRatioToActivate: knobs.minRatioToActivate ?? base.minRatioToActivate,
    maxNumCrops: knobs.maxNumCrops ?? base.maxNumCrops,
    minCropSize: knobs.minCropSize ?? base.minCropSize,
  });
  return { panScan, source };
}
