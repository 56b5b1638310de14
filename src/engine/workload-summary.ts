// Pure facts about a workload for headers and events, kept apart from workload.ts so the engine can use them
// without loading the tokenizer (a second of main-thread work on import).
import type { Workload } from './types.js';

/** Usable images by crop count, e.g. {"0": 4, "3": 2}. */
export function workloadCropsHistogram(w: Workload): Record<string, number> {
  const h: Record<string, number> = {};
  for (const img of w.images) if (!img.error) h[String(img.crops.length)] = (h[String(img.crops.length)] ?? 0) + 1;
  return h;
}
