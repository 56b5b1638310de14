// Which pan-and-scan settings apply: explicit knobs override the preset's; with neither, HF's defaults with
// pan-and-scan on (1.2 / 4 / 256). A preset with pan-and-scan off stays off unless a knob is given.
import { ConfigError } from './errors.js';
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

/**
 * `onOff` ("--pan-and-scan on|off") switches it explicitly: off with knobs is a contradiction (a ConfigError); on
 * with a preset that has it off uses the preset's knobs (HF's defaults unless the preset names others).
 */
export function resolvePanScan(preset: Preset | null, knobs: PanScanKnobs, onOff?: 'on' | 'off'): ResolvedPanScan {
  const given = (Object.keys(knobs) as (keyof PanScanKnobs)[]).filter((k) => knobs[k] !== undefined);
  const flagNames: Record<keyof PanScanKnobs, string> = { minRatioToActivate: '--min-ratio', maxNumCrops: '--max-crops', minCropSize: '--min-crop-size' };
  if (onOff === 'off' && given.length > 0) throw new ConfigError(`--pan-and-scan off contradicts ${given.map((k) => flagNames[k]).join(' ')}: drop one`);
  const base: PanScanOptions = preset ? preset.panScan : HF_PANSCAN_DEFAULTS;
  const enabled = onOff !== undefined ? onOff === 'on' : preset ? preset.panScan.enabled || given.length > 0 : true;
  const switched = onOff !== undefined ? [`--pan-and-scan ${onOff}`] : [];
  const named = [...switched, ...given.map((k) => flagNames[k])];
  const source = (preset ? `preset ${preset.name}` : 'HF defaults') + (named.length ? ` + ${named.join(' ')}` : '');
  if (!enabled) return { panScan: null, source };
  const panScan = validatePanScanOptions({
    minRatioToActivate: knobs.minRatioToActivate ?? base.minRatioToActivate,
    maxNumCrops: knobs.maxNumCrops ?? base.maxNumCrops,
    minCropSize: knobs.minCropSize ?? base.minCropSize,
  });
  return { panScan, source };
}
