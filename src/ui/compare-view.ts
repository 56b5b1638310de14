// Turns a CompareModel (src/report/compare.ts) into the cells the compare screen's table draws: the unit in each
// row label, values without units, the change against the baseline after each non-baseline value (or ≈ within
// noise), and `*` on the best value of each row. Also picks which run columns fit the width. Pure.
import { idSuffix, type CompareModel, type CompareRow, type RowUnit } from '../report/compare.js';
import { changeText } from '../report/compare-text.js';
import { fmtCount, NONE, sig3 } from '../report/format.js';
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

/** One cell: `1846*` for a best baseline, `1900 (+2.9%)`, `1700* (-7.9%)`, `1850 ≈` within noise. */
export function cellText(row: CompareRow, i: number): string {
  const c = row.cells[i];
  const v = unitValue(row.unit, c.value) + (c.best ? BEST_MARK : '');
  const change = changeText(c, i);
  return change ? `${v} ${change}` : v;
}

/** Column headings: numbered so two runs with the same name stay apart; the baseline says so. */
export function columnHeadings(model: CompareModel, labelChars = COLUMN_LABEL_CHARS): string[] {
  const cut = model.columns.map((c) => truncate(c.label, labelChars));
  // Labels that read the same once cut (or already did) end with the run id's suffix instead.
  const same = (i: number) => cut.filter((x) => x === cut[i]).length > 1;
  return model.columns.map((c, i) => {
    const suffix = idSuffix(c.id);
    const label = same(i) && !c.label.endsWith(`(${suffix})`) ? `${truncate(c.label, Math.max(1, labelChars - suffix.length - 1))} ${suffix}` : cut[i];
    return `${i + 1} ${label}${i === 0 ? ' (base)' : ''}`;
  });
}

/** How the table is cut to a width: row labels and headings are shortened before a run column goes. */
export interface CompareFit {
  /** Run columns shown at once, the baseline included (at least 1, and 2 whenever there are two runs). */
  readonly visible: number;
  /** Characters of a row label (its unit kept at the end) and of a run's label in its heading. */
  readonly labelChars: number;
  readonly headingChars: number;
}

/** The shortest the row labels and run headings get before fewer run columns are shown. */
const MIN_LABEL_CHARS = 14;
const MIN_HEADING_CHARS = 8;

/** A row label cut to `max` characters, keeping its unit: "Tokens/s per req… (tok/s)". */
export function shortRowLabel(row: Pick<CompareRow, 'label' | 'unit'>, max: number): string {
  const full = rowLabel(row);
  if (full.length <= max) return full;
  const unit = full.slice(row.label.length);
  return `${truncate(row.label, Math.max(1, max - unit.length))}${unit}`;
}

function visibleFor(model: CompareModel, width: number, labelChars: number, headingChars: number): number {
  const heads = columnHeadings(model, headingChars);
  // ink-table: each column is its widest cell + 2 of padding + 1 border, plus the first border.
  const widthOf = (i: number) => Math.max(heads[i].length, ...model.rows.map((r) => cellText(r, i).length)) + 3;
  const labelW = Math.max(METRIC_COLUMN.length, ...model.rows.map((r) => shortRowLabel(r, labelChars).length)) + 3 + 1;
  // Any window of the other runs must fit (they scroll), so each slot takes the widest of them.
  const other = Math.max(0, ...model.columns.slice(1).map((_, j) => widthOf(j + 1)));
  let used = labelW + widthOf(0);
  let n = 1;
  for (let i = 1; i < model.columns.length; i++) {
    used += other;
    if (used > width) break;
    n++;
  }
  return n;
}

/** The layout for `width` terminal columns: every run when they fit, else the baseline and as many others as fit. */
export function compareFit(model: CompareModel, width: number): CompareFit {
  const natural = Math.max(...model.rows.map((r) => rowLabel(r).length));
  const want = Math.min(2, model.columns.length);
  for (const [labelChars, headingChars] of [
    [natural, COLUMN_LABEL_CHARS],
    [MIN_LABEL_CHARS + 6, COLUMN_LABEL_CHARS],
    [MIN_LABEL_CHARS, 12],
    [MIN_LABEL_CHARS, MIN_HEADING_CHARS],
  ] as const) {
    const visible = visibleFor(model, width, labelChars, headingChars);
    if (visible >= want) return { visible, labelChars, headingChars };
  }
  return { visible: Math.max(1, visibleFor(model, width, MIN_LABEL_CHARS, MIN_HEADING_CHARS)), labelChars: MIN_LABEL_CHARS, headingChars: MIN_HEADING_CHARS };
}

/** How many run columns (baseline included) fit in `width` terminal columns. At least 1 and at most all. */
export function columnsThatFit(model: CompareModel, width: number): number {
  return compareFit(model, width).visible;
}

export interface TableView {
  readonly columns: readonly string[];
  readonly data: readonly Record<string, string>[];
  /** Indices (into model.columns) of the run columns shown: the baseline, then a window of the others. */
  readonly shown: readonly number[];
  /** Indices (into model.rows) of the rows shown. */
  readonly rows: readonly number[];
}

/**
 * The table for ink-table: the baseline column always, then `visible - 1` others starting at `offset`; with `o.rows`,
 * only that many metric rows from `o.rowOffset` on (a short terminal scrolls them with ↑/↓).
 */
export function compareTable(model: CompareModel, visible: number, offset: number, o: { readonly labelChars?: number; readonly headingChars?: number; readonly rows?: number; readonly rowOffset?: number } = {}): TableView {
  const heads = columnHeadings(model, o.headingChars ?? COLUMN_LABEL_CHARS);
  const others = model.columns.length - 1;
  const k = Math.max(0, Math.min(visible - 1, others));
  const start = Math.max(0, Math.min(offset, others - k));
  const shown = [0, ...Array.from({ length: k }, (_, j) => 1 + start + j)];
  const columns = [METRIC_COLUMN, ...shown.map((i) => heads[i])];
  const count = Math.min(model.rows.length, o.rows ?? model.rows.length);
  const first = Math.max(0, Math.min(o.rowOffset ?? 0, model.rows.length - count));
  const rows = Array.from({ length: count }, (_, j) => first + j);
  const data = rows.map((ri) => {
    const row = model.rows[ri];
    const rec: Record<string, string> = { [METRIC_COLUMN]: o.labelChars === undefined ? rowLabel(row) : shortRowLabel(row, o.labelChars) };
    for (const i of shown) rec[heads[i]] = cellText(row, i);
    return rec;
  });
  return { columns, data, shown, rows };
}
