// A repeat group (`run --repeat N`) in text, as `runs show GROUP` prints it: its runs, then min / median / max of
// each headline number across the repeats (the spread compare weighs), and the repeats' notes. Pure.
import type { RunFile } from '../engine/types.js';
import { COMPARE_ROWS } from './compare.js';
import { formatCompareValue } from './compare-text.js';
import { padTable } from './format.js';
import { notesWithSteady, runIntervals } from './intervals.js';
import { localTime } from './phrases.js';
import { repeatSpread } from './stats/significance.js';

export function renderRepeatGroupText(groupId: string, runs: readonly RunFile[]): string {
  const out = [`Repeat group ${groupId}: ${runs.length} of ${runs[0]?.group?.total ?? runs.length} repeats of ${runs[0]?.name ?? '-'}`];
  for (const r of runs) out.push(`  ${(r.group?.index ?? 0) + 1}. ${r.id} (${r.status}, ${localTime(r.startedAt)})`);
  out.push('');
  const rows = COMPARE_ROWS.filter((d) => d.direction !== 'none' || d.key === 'failed').flatMap((d) => {
    const spread = repeatSpread(runs.map(d.get).filter((v): v is number => v !== null));
    if (!spread) return [];
    return [[d.label, formatCompareValue(d.unit, spread.min), formatCompareValue(d.unit, spread.median), formatCompareValue(d.unit, spread.max)]];
  });
  out.push(padTable([['METRIC', 'MIN', 'MEDIAN', 'MAX'], ...rows], { align: ['left', 'right', 'right', 'right'] }), '');
  out.push(`Per-run detail with 95% intervals: gemma-bench runs show ${runs[0]?.id ?? 'ID'}; compare with another group: gemma-bench compare ${groupId} OTHER`);
  const notes = runs.flatMap((r) => notesWithSteady(r, runIntervals(r)).map((n) => `  - ${r.id}: ${n}`));
  if (notes.length) out.push('', 'Notes:', ...notes);
  return out.join('\n').trimEnd() + '\n';
}
