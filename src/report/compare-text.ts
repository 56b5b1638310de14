// The comparison (compare.ts's model) as text for a terminal or a pipe: the table with each value's change against
// the baseline or ≈ within noise and `*` on the best beyond noise, fitted to a width (a compact layout when it is
// too wide), the E2E and TTFT box plots, the legend and the notes, and colour for a terminal; and the cell
// phrases every rendering shares (the TUI, Markdown, HTML). Pure.
import { fitTable, fmtCount, fmtDelta, fmtMs, fmtRate, padTable, sig3, wrapText, NONE, type FitColumn } from './format.js';
import type { CompareCell, CompareModel, CompareRow, RowUnit } from './compare.js';
import { BOXPLOT_LEGEND, renderBoxPlot, type BoxPlotRow } from './stats/boxplot.js';

/**
 * The box plot lines of the comparison, `width` columns wide: per latency a title line, one line per column
 * (labelled with its number, as the tables number the runs), the shared axis; then the legend. Empty when nothing
 * fits or no column has values.
 */
export function compareBoxPlotLines(model: CompareModel, width: number): string[] {
  const out: string[] = [];
  for (const d of model.distributions) {
    const present = d.rows.filter((r): r is BoxPlotRow => r !== null);
    if (present.length === 0) continue;
    try {
      // The axis carries the units (ms or s, as the values need).
      out.push(`${d.label} latency by run`, ...renderBoxPlot(present, { width }));
    } catch {
      return [];
    }
  }
  if (out.length) out.push(BOXPLOT_LEGEND.length <= width ? BOXPLOT_LEGEND : BOXPLOT_LEGEND.slice(0, width));
  return out;
}

/** A cell's value in its row's unit, as every screen shows it. */
export function formatCompareValue(unit: RowUnit, v: number | null): string {
  switch (unit) {
    case 'ms':
      return fmtMs(v);
    case 'req/s':
    case 'tok/s':
      return fmtRate(v, unit);
    case 'count':
      return fmtCount(v);
    case 'crops':
      return v === null ? NONE : sig3(v, 2);
    case 'pct':
      return v === null ? NONE : `${sig3(v, 1)}%`;
  }
}

/** Marks "within noise": a difference from the baseline whose 95% interval includes zero. */
export const WITHIN_NOISE_MARK = '≈';

/** What follows a non-baseline value: "(+8.1%)" for a significant change (or one with no interval), "≈" for noise. */
export function changeText(cell: CompareCell, i: number): string {
  if (i === 0) return '';
  if (cell.significant === false) return WITHIN_NOISE_MARK;
  return cell.deltaPct === null ? '' : `(${fmtDelta(cell.deltaPct)})`;
}

/** The legend of the marks, as every rendering prints it under the table. */
export function compareLegend(baselineId: string): string {
  return `* best in its row, beyond noise (lower is better for times, higher for rates). ${WITHIN_NOISE_MARK} within noise: the 95% interval of the difference from the baseline includes 0. Deltas against ${baselineId}.`;
}

const withChange = (v: string, cell: CompareCell, i: number): string => {
  const c = changeText(cell, i);
  return c ? `${v} ${c}` : v;
};

/**
 * Plain-text table: one column per run, `*` after the best value of each row, and each non-baseline cell followed
 * by its change against the baseline, e.g. `12.3 ms* (-8.1%)`, or `≈` when the change is within noise. When it is
 * wider than `width`, the compact layout: units in the row labels, numbered run headings with the ids listed
 * underneath, and the runs that still do not fit left out (said in a note; the baseline and the first runs stay).
 * With `boxPlots` (a terminal), the E2E and TTFT box plots follow the table, one numbered line per run.
 */
export function renderCompareText(model: CompareModel, o: { readonly width?: number; readonly boxPlots?: boolean; readonly color?: boolean } = {}): string {
  const width = o.width ?? Number.POSITIVE_INFINITY;
  const header = ['', ...model.columns.map((c, i) => (i === 0 ? `${c.label} (baseline)` : c.label))];
  const ids = ['', ...model.columns.map((c) => c.id)];
  const body = model.rows.map((row) => [row.label, ...row.cells.map((cell, i) => withChange(formatCompareValue(row.unit, cell.value) + (cell.best ? '*' : ''), cell, i))]);
  const full = padTable([header, ids, ...body]);
  const lines: string[] = [];
  const fits = Math.max(...full.split('\n').map((l) => l.length)) <= width;
  const table = fits ? full.split('\n') : compactCompare(model, width);
  lines.push(...(o.color ? colourChanges(model, table) : table));
  if (o.boxPlots) {
    // The plots name runs by number: the compact layout lists the numbers; the full one gets the list here.
    const plots = compareBoxPlotLines(model, Math.min(Number.isFinite(width) ? width : BOXPLOT_WIDTH_MAX, BOXPLOT_WIDTH_MAX));
    if (plots.length) {
      lines.push('');
      if (fits) lines.push(...model.columns.map((c, i) => `${String(i + 1).padStart(2)} ${c.label}`));
      lines.push(...plots);
    }
  }
  lines.push('', wrapText(compareLegend(model.baselineId), width, '  '));
  for (const w of model.warnings) lines.push(wrapText(`note: ${w}`, width, '  '));
  return lines.join('\n') + '\n';
}

const GREEN = '\u001b[32m';
const RED = '\u001b[31m';
const DIM = '\u001b[2m';
const RESET = '\u001b[0m';

/**
 * On a terminal: the changes beyond noise in green (better) or red (worse) and ≈ dimmed, in the rows that judge
 * noise (times and rates; counts and the roofline's shares stay plain). Applied to laid-out lines, so the escape
 * codes never count toward a column's width.
 */
function colourChanges(model: CompareModel, lines: readonly string[]): string[] {
  const judged = model.rows.filter((r) => r.direction !== 'none' && r.cells.some((c) => c.significant !== null));
  return lines.map((line) => {
    const row = judged.find((r) => line.startsWith(`${r.label} `) || line.startsWith(`${r.label} (`));
    if (!row) return line;
    return line
      .replace(/\(([+-])[\d.]+%\)/g, (m, sign: string) => `${(sign === '-') === (row.direction === 'lower') ? GREEN : RED}${m}${RESET}`)
      .replace(/≈/g, `${DIM}≈${RESET}`);
  });
}

/** Box plots are drawn at most this wide, however wide the terminal (beyond it the plot only gets sparser). */
export const BOXPLOT_WIDTH_MAX = 100;

/** A value without its unit (the row label carries it), as the compact layout shows it. */
function bareValue(unit: RowUnit, v: number | null): string {
  if (v === null || !Number.isFinite(v)) return NONE;
  if (unit === 'count') return fmtCount(v);
  return unit === 'pct' ? sig3(v, 1) : sig3(v, unit === 'ms' ? 3 : 2);
}

/** Compare heading labels are cut to this many characters in the compact layout. */
const COMPACT_LABEL_CHARS = 16;

function compactCompare(model: CompareModel, width: number): string[] {
  const unitOf = (row: CompareRow) => (row.unit === 'crops' ? '' : ` (${row.unit === 'pct' ? '%' : row.unit})`);
  const cut = (t: string) => (t.length <= COMPACT_LABEL_CHARS ? t : `${t.slice(0, COMPACT_LABEL_CHARS - 1)}…`);
  const columns: FitColumn[] = [
    { header: '', align: 'left', priority: Number.POSITIVE_INFINITY },
    ...model.columns.map((c, i): FitColumn => ({ header: `${i + 1} ${cut(c.label)}${i === 0 ? ' (base)' : ''}`, align: 'right', priority: i === 0 ? Number.POSITIVE_INFINITY : model.columns.length - i })),
  ];
  const rows = model.rows.map((row) => [
    `${row.label}${unitOf(row)}`,
    ...row.cells.map((cell, i) => withChange(bareValue(row.unit, cell.value) + (cell.best ? '*' : ''), cell, i)),
  ]);
  const t = fitTable(columns, rows, width);
  const out = [t.text, ''];
  for (const [i, c] of model.columns.entries()) {
    const shown = !t.hidden.includes(columns[i + 1].header);
    out.push(`${String(i + 1).padStart(2)} ${c.id}${shown ? '' : ' (not shown)'}`);
  }
  if (t.hidden.length) out.push(wrapText(`(${t.hidden.length} run${t.hidden.length === 1 ? '' : 's'} not shown to fit ${width} columns; --wide shows them all, or compare fewer runs)`, width, ' '));
  return out;
}
