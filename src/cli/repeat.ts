// `--repeat N` of `run` and `sweep`: the flag, its value, and the group each repeat of a specification carries
// (src/engine/types.ts RunGroup.repeat). Repeats are what within-run intervals cannot see: noise that shifts a
// whole run (a busy neighbour, clocks, thermals); compare uses their spread (src/report/stats/significance.ts).
import { num, type OptionSpec, type ParsedValues } from './args.js';
import type { RunRepeat } from '../engine/types.js';

/** More repeats than this is almost surely a typo (each one is a whole run). */
export const REPEAT_MAX = 100;

export const REPEAT_OPTION: OptionSpec = {
  type: 'string',
  placeholder: 'N',
  description: `run the same specification N times (1-${REPEAT_MAX}, default 1) as one group, each in a fresh request order; compare then weighs the spread of the repeats`,
};

/** The --repeat value: 1 when absent. */
export function repeatCount(values: ParsedValues): number {
  return num(values, 'repeat', { integer: true, min: 1, max: REPEAT_MAX }) ?? 1;
}

/**
 * Repeat `index` of `total` of a run seeded `seed`: its order seed differs per repeat (a fresh shuffle of the
 * request order each time) and is the same for the same seed and index (reruns repeat it).
 */
export function repeatOf(index: number, total: number, seed: number): RunRepeat {
  return { index, total, orderSeed: (Math.imul(seed + 1, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca6b)) >>> 0 };
}
