// A text box plot (issue 12, item 6): one line per run on a shared axis, so a person sees at a glance whether two
// distributions overlap, and under them one axis line with the axis's ends and middle. Each line:
//
//   baseline ├───▒▒▒┃█▒▒▒───┤
//
// ├ and ┤ are p5 and p95 joined by ─, ▒ spans p25..p75, █ marks the median's 95% interval and ┃ the median
// (drawn over the others in that order). Labels are cut to BOXPLOT_LABEL_MAX columns. Works at 80 columns and
// below; lines carry no trailing spaces. Pure.
import { fmtMs } from '../format.js';
import { nearestRank } from './order.js';

/** Longest label kept (longer ones end in "…"). */
export const BOXPLOT_LABEL_MAX = 16;
/** Narrowest plot area, in columns. */
export const BOXPLOT_MIN_PLOT_COLUMNS = 10;
export const BOXPLOT_LEGEND = '├─┤ p5..p95  ▒ p25..p75  █ median 95% interval  ┃ median';

export interface BoxPlotRow {
  readonly label: string;
  readonly p5: number;
  readonly p25: number;
  readonly p50: number;
  readonly p75: number;
  readonly p95: number;
  /** The median's 95% interval; null draws none. */
  readonly medianCi95: readonly [number, number] | null;
}

export interface BoxPlotOptions {
  /** Columns of a whole line, label included. */
  readonly width: number;
  /** Formats the axis values (default fmtMs). */
  readonly format?: (v: number) => string;
}

/** A row from a run's values (nearest-rank quantiles, as the summaries use). Null for no values. */
export function boxPlotRow(label: string, values: ArrayLike<number>, medianCi95: readonly [number, number] | null): BoxPlotRow | null {
  const v = Float64Array.from(values as ArrayLike<number>).filter((x) => Number.isFinite(x)).sort();
  if (v.length === 0) return null;
  const q = (p: number): number => v[nearestRank(p, v.length) - 1];
  return { label, p5: q(5), p25: q(25), p50: q(50), p75: q(75), p95: q(95), medianCi95 };
}

function cut(label: string, max: number): string {
  const chars = [...label];
  return chars.length <= max ? label : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** One line per row, then the axis line. Throws when `width` leaves fewer than BOXPLOT_MIN_PLOT_COLUMNS to plot. */
export function renderBoxPlot(rows: readonly BoxPlotRow[], o: BoxPlotOptions): string[] {
  if (rows.length === 0) return [];
  const format = o.format ?? fmtMs;
  // Labels give way to the plot when the width is tight, down to one column (rows must stay told apart).
  const longest = Math.max(...rows.map((r) => [...r.label].length));
  const labelWidth = longest === 0 ? 0 : Math.max(1, Math.min(BOXPLOT_LABEL_MAX, longest, o.width - 1 - BOXPLOT_MIN_PLOT_COLUMNS));
  const plot = o.width - (labelWidth > 0 ? labelWidth + 1 : 0);
  if (plot < BOXPLOT_MIN_PLOT_COLUMNS) throw new RangeError(`a box plot needs at least ${BOXPLOT_MIN_PLOT_COLUMNS + (labelWidth > 0 ? 2 : 0)} columns (got ${o.width})`);

  let lo = Infinity;
  let hi = -Infinity;
  for (const r of rows) {
    lo = Math.min(lo, r.p5, r.medianCi95?.[0] ?? Infinity);
    hi = Math.max(hi, r.p95, r.medianCi95?.[1] ?? -Infinity);
  }
  const col = (v: number): number => (hi > lo ? Math.round(((v - lo) / (hi - lo)) * (plot - 1)) : Math.floor((plot - 1) / 2));
  const prefix = (label: string): string => (labelWidth > 0 ? `${[...cut(label, labelWidth)].join('').padEnd(labelWidth)} ` : '');

  const lines = rows.map((r) => {
    const cells = new Array<string>(plot).fill(' ');
    const paint = (from: number, to: number, ch: string): void => {
      for (let c = Math.max(0, from); c <= Math.min(plot - 1, to); c++) cells[c] = ch;
    };
    paint(col(r.p5), col(r.p95), '─');
    cells[col(r.p5)] = '├';
    cells[col(r.p95)] = '┤';
    paint(col(r.p25), col(r.p75), '▒');
    if (r.medianCi95) paint(col(r.medianCi95[0]), col(r.medianCi95[1]), '█');
    cells[col(r.p50)] = '┃';
    return `${prefix(r.label)}${cells.join('')}`.trimEnd();
  });

  // The axis: its low end under the first column, its high end ending under the last, the middle between them
  // when it fits with two spaces either side.
  const axis = new Array<string>(plot).fill(' ');
  const put = (text: string, start: number): void => {
    [...text].forEach((ch, i) => {
      if (start + i >= 0 && start + i < plot) axis[start + i] = ch;
    });
  };
  const left = format(lo);
  const right = hi > lo ? format(hi) : '';
  put(left, 0);
  if (right) put(right, plot - right.length);
  const middle = hi > lo ? format((lo + hi) / 2) : '';
  const midStart = Math.round((plot - 1) / 2 - middle.length / 2);
  if (middle && midStart >= left.length + 2 && midStart + middle.length + 2 <= plot - right.length) put(middle, midStart);
  lines.push(`${labelWidth > 0 ? ' '.repeat(labelWidth + 1) : ''}${axis.join('')}`.trimEnd());
  return lines;
}
