// The comparison table as files (issue 12, "export what you compare"): Markdown (a real table: header row and
// separator row, then the notes) and CSV (one row per metric, one column per run). JSON is the model itself
// (compareJson). Pure: the model in, text out; the CLI and the app write it.
import { type CompareModel, type RowUnit } from './compare.js';
import { changeText, compareLegend, formatCompareValue } from './compare-text.js';
import { csvField } from './export.js';
import { rangeText } from './format.js';

/** Escapes text for a Markdown table cell. */
function mdCell(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\*/g, '\\*').replace(/\r?\n/g, ' ') || '-';
}

function intervalText(unit: RowUnit, ci: readonly [number, number] | null): string {
  return ci ? ` [${rangeText(ci, (v) => formatCompareValue(unit, v))}]` : '';
}

/**
 * A Markdown document: a title, the table (one column per run, the baseline first; each value with its 95%
 * interval in brackets, `*` on the best, the change or ≈ after the others), the runs' ids, the legend and the notes.
 */
export function compareToMarkdown(model: CompareModel): string {
  const head = ['Metric', ...model.columns.map((c, i) => `${i + 1} ${c.label}${i === 0 ? ' (baseline)' : ''}`)];
  const out = [`# gemma-bench comparison: ${model.columns.length} runs`, '', `| ${head.map(mdCell).join(' | ')} |`, `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`];
  for (const row of model.rows) {
    const cells = row.cells.map((cell, i) => {
      const v = `${formatCompareValue(row.unit, cell.value)}${cell.best ? '*' : ''}${cell.value === null ? '' : intervalText(row.unit, cell.ci95)}`;
      const change = changeText(cell, i);
      return change ? `${v} ${change}` : v;
    });
    out.push(`| ${[row.label, ...cells].map(mdCell).join(' | ')} |`);
  }
  out.push('', ...model.columns.map((c, i) => `${i + 1}. \`${c.id}\`${c.runIds.length > 1 ? ` (${c.runIds.length} repeats: ${c.runIds.map((id) => `\`${id}\``).join(', ')})` : ''}`));
  out.push('', `${compareLegend(model.baselineId).replace(/\*/g, '\\*')} [lo–hi]: the value's 95% interval.`);
  if (model.warnings.length) out.push('', ...model.warnings.map((w) => `- Note: ${w.replace(/\r?\n/g, ' ')}`));
  return out.join('\n') + '\n';
}

/** CSV: a header (metric, label, unit, then one column per run, named by its id), one row per metric; empty = none. */
export function compareToCsv(model: CompareModel): string {
  const lines = [['metric', 'label', 'unit', ...model.columns.map((c) => c.id)].map(csvField).join(',')];
  for (const row of model.rows) {
    lines.push([row.key, row.label, row.unit, ...row.cells.map((c) => (c.value === null || !Number.isFinite(c.value) ? null : Number(c.value.toFixed(3))))].map(csvField).join(','));
  }
  return lines.join('\n') + '\n';
}

/** The model as `compare --json` prints it (shape in `compare --help`). */
export function compareJson(model: CompareModel): string {
  return JSON.stringify(model, null, 2) + '\n';
}
