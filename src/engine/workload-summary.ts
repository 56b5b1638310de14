// Pure facts about a workload for headers and events, kept apart from workload.ts so the engine can use them
// without loading the tokenizer (a second of main-thread work on import).
import type { Workload } from './types.js';

/** Usable images by crop count, e.g. {"0": 4, "3": 2}. */
export function workloadCropsHistogram(w: Workload): Record<string, number> {
  const h: Record<string, number> = {};
  for (const img of w.images) if (!img.error) h[String(img.crops.length)] = (h[String(img.crops.length)] ?? 0) + 1;
  return h;
}

/** The images a run can use: those whose header was read (the others are listed, and skipped). */
export function usableImageIndices(w: Workload): number[] {
  return w.images.flatMap((img, i) => (img.error ? [] : [i]));
}

/**
 * What to say up front about images that cannot be used: a count, then each file and its problem. Empty when
 * every image is usable.
 */
export function unusableImageLines(w: Workload): string[] {
  const bad = w.images.filter((i) => i.error);
  if (bad.length === 0) return [];
  return [`${bad.length} of ${w.images.length} image(s) cannot be used and are skipped:`, ...bad.map((i) => `  ${i.path}: ${i.error}`)];
}
