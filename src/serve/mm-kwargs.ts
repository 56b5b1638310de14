// A request's `mm_processor_kwargs` (vLLM's per-request processor arguments) -> the pan-and-scan settings of that
// request. Pure.
//
// The keys are Gemma3Processor's images_kwargs. What is used when a key is missing follows vLLM, which resolves
// each one from the processor (preprocessor_config.json sets none of them for Gemma 3) and then from HF's
// Gemma3ProcessorKwargs._defaults (vllm/model_executor/models/gemma3_mm.py, Gemma3ProcessingInfo
// ._resolve_image_kwargs and get_num_crops):
//   - do_pan_and_scan false or absent: pan-and-scan OFF (HF's default is False), whatever the other keys say;
//   - do_pan_and_scan true: the other knobs default to HF's 1.2 / 4 / 256 (HF_PANSCAN_DEFAULTS).
// Unlike vLLM, values are validated (validatePanScanOptions) and unknown keys are refused, so a typo such as
// "pan_and_scan_max_crops" is a 400 here rather than a silently ignored knob.
import { PanScanOptionsError, validatePanScanOptions } from '../panscan/plan.js';
import { HF_PANSCAN_DEFAULTS, type PanScanOptions } from '../panscan/types.js';
import { badRequest } from './errors.js';

const PARAM = 'mm_processor_kwargs';

/** vLLM's key -> gemma-bench's knob. */
const KNOBS = {
  pan_and_scan_min_ratio_to_activate: 'minRatioToActivate',
  pan_and_scan_max_num_crops: 'maxNumCrops',
  pan_and_scan_min_crop_size: 'minCropSize',
} as const satisfies Record<string, keyof PanScanOptions>;

export const MM_PROCESSOR_KWARGS_KEYS = ['do_pan_and_scan', ...Object.keys(KNOBS)] as readonly string[];

/** null: pan-and-scan off. Throws a 400 ApiError for a bad value or an unknown key. */
export function panScanFromMmKwargs(raw: unknown): PanScanOptions | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw badRequest(`${PARAM} must be an object such as {"do_pan_and_scan": true}`, PARAM);
  const kw = raw as Record<string, unknown>;
  const unknown = Object.keys(kw).filter((k) => !MM_PROCESSOR_KWARGS_KEYS.includes(k));
  if (unknown.length > 0) {
    throw badRequest(`${PARAM} has unknown key(s) ${unknown.map((k) => `"${k}"`).join(', ')}; Gemma 3 takes ${MM_PROCESSOR_KWARGS_KEYS.join(', ')}`, PARAM);
  }
  const on = kw.do_pan_and_scan;
  if (on !== undefined && on !== null && typeof on !== 'boolean') throw badRequest(`${PARAM}.do_pan_and_scan must be true or false (got ${JSON.stringify(on)})`, PARAM);
  const options: { -readonly [K in keyof PanScanOptions]: number } = { ...HF_PANSCAN_DEFAULTS };
  for (const [key, knob] of Object.entries(KNOBS)) {
    const v = kw[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number') throw badRequest(`${PARAM}.${key} must be a number (got ${JSON.stringify(v)})`, PARAM);
    options[knob] = v;
  }
  try {
    validatePanScanOptions(options);
  } catch (err) {
    if (!(err instanceof PanScanOptionsError)) throw err;
    let message = err.message.replace('invalid pan-and-scan options', `invalid ${PARAM}`);
    for (const [key, knob] of Object.entries(KNOBS)) message = message.replaceAll(knob, key);
    throw badRequest(message, PARAM);
  }
  return on === true ? options : null;
}
