// Turns a CompareModel (src/report/compare.ts) into the cells the compare screen's table draws: the unit in each
// row label, values without units, the change against the baseline after each non-baseline value, and `*` on the
// best value of each row. Also picks which run columns fit the width. Pure.
import type { CompareModel, CompareRow, RowUnit } from '../report/compare.js';
import { fmtCount, fmtDelta, NONE, sig3 } from '../report/format.js';
import { msCell, rateCell, truncate } from './cells.js';

export const BEST_MARK = '*';
/** Run column labels are cut to this many characters. */
export const COLUMN_LABEL_CHARS = 18;
const METRIC_COLUMN = 'metric (unit)';

export function unitValue(unit: RowUnit, v: number | null): string {
  switch (unit) {
    case 'ms':
      return msCell(v);
    case 'req/s':
    case 'tok/s':
      return rateCell(v);
    case 'count':
      return fmtCount(v);
    case 'crops':
      return v === null ? NONE : sig3(v, 2);
    case 'pct':
      return v === null ? NONE : sig3(v, 1);
  }
}

/** "E2E p50 (ms)", "Throughput (req/s)", "Completed (count)". */
export function rowLabel(row: Pick<CompareRow, 'label' | 'unit'>): string {
  return row.unit === 'crops' ? row.label : `${row.label} (${row.unit === 'pct' ? '%' : row.unit})`;
}

/** One cell: `1846*` for a best baseline, `1900 (+2.9%)`, `1700* (-7.9%)`. */
export function cellText(row: CompareRow, i: number): string {
  const c = row.cells[i];
  const v = unitValue(row.unit, c.value) + (c.best ? BEST_MARK : '');
  return i === 0 || c.deltaPct === null ? v : `${v} (${fmtDelta(c.deltaPct)})`;
}

/** Column headings: numbered so two runs with the same name stay apart; the baseline says so. */
export function columnHeadings(model: CompareModel): string[] {
  return model.columns.map((c, i) => `${i + 1} ${truncate(c.label, COLUMN_LABEL_CHARS)}${i === 0 ? ' (base)' : ''}`);
}

/** How many run columns (baseline included) fit in `width` terminal columns. At least 1 and at most all. */
export function columnsThatFit(model: CompareModel, width: number): number {
  const heads = columnHeadings(model);
  const widthOf = (i: number) => Math.max(heads[i].length, ...model.rows.map((r) => cellText(r, i).length)) + 3;
  const labelW = Math.max(METRIC_COLUMN.length, ...model.rows.map((r) => rowLabel(r).length)) + 3 + 1;
  let used = labelW + widthOf(0);
  let n = 1;
  for (let i = 1; i < model.columns.length; i++) {
    used += widthOf(i);
    if (used > width) break;
    n++;
  }
  return n;
}

export interface TableView {
  readonly columns: readonly string[];
  readonly data: readonly Record<string, string>[];
  /** Indices (into model.columns) of the run columns shown: the baseline, then a window of the others. */
  readonly shown: readonly number[];
}

/** The table for ink-table: the baseline column always, then `visible - 1` others starting at `offset`. */
export function compareTable(model: CompareModel, visible: number, offset: number): TableView {
  const heads = columnHeadings(model);
  const others = model.columns.length - 1;
  const k = Math.max(0, Math.min(visible - 1, others));
  const start = Math.max(0, Math.min(offset, others - k));
  const shown = [0, ...Array.from({ length: k }, (_, j) => 1 + start + j)];
  const columns = [METRIC_COLUMN, ...shown.map((i) => heads[i])];
  const data = model.rows.map((row) => {
    const rec: Record<string, string> = { [METRIC_COLUMN]: rowLabel(row) };
    for (const i of shown) rec[heads[i]] = cellText(row, i);
    return rec;
  });
  return { columns, data, shown };
}
