// Pure text helpers for the screens: bars, sparklines, histograms and unit-less number cells (the unit lives in
// the column header). Built on src/report/format.ts so the CLI and the UI print the same digits. No I/O, no React.
import { NONE, sig3 } from '../report/format.js';

export const BAR_FULL = '█';
export const BAR_EMPTY = '░';
/** Eighth blocks, lowest first: a sparkline's levels. */
export const SPARK_LEVELS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

type Num = number | null | undefined;
const bad = (v: Num): v is null | undefined => v === null || v === undefined || !Number.isFinite(v);

/** A horizontal bar of `width` cells filled to `fraction` (clamped to 0..1); all empty for a missing value. */
export function bar(fraction: Num, width: number): string {
  const w = Math.max(0, Math.floor(width));
  if (bad(fraction)) return BAR_EMPTY.repeat(w);
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * w);
  return BAR_FULL.repeat(filled) + BAR_EMPTY.repeat(w - filled);
}

/**
 * The last `width` values as a sparkline scaled from their min to their max (a flat series sits mid-height).
 * Missing values read as a space.
 */
export function sparkline(values: readonly Num[], width: number): string {
  const tail = values.slice(Math.max(0, values.length - Math.max(0, Math.floor(width))));
  const ok = tail.filter((v): v is number => !bad(v));
  if (ok.length === 0) return '';
  const lo = Math.min(...ok);
  const hi = Math.max(...ok);
  const top = SPARK_LEVELS.length - 1;
  return tail
    .map((v) => {
      if (bad(v)) return ' ';
      const level = hi === lo ? Math.floor(top / 2) : Math.round(((v - lo) / (hi - lo)) * top);
      return SPARK_LEVELS[level];
    })
    .join('');
}

/** A milliseconds cell without its unit: `0.044`, `26.5`, `1846`, `12300`. */
export function msCell(ms: Num): string {
  return bad(ms) ? NONE : sig3(ms);
}

/** A rate cell without its unit: `0.83`, `6.60`, `1834`. */
export function rateCell(v: Num): string {
  return bad(v) ? NONE : sig3(v, 2);
}

/** A percent cell without the sign: `87`, `4.5`. */
export function pctCell(v: Num): string {
  return bad(v) ? NONE : sig3(v, 1);
}

/** MiB as GiB without the unit: `20.1`, `0.59`. */
export function gibCell(mib: Num): string {
  return bad(mib) ? NONE : sig3(mib / 1024, 2);
}

/** Cuts text to `max` columns, ending in "…" when cut. */
export function truncate(text: string, max: number): string {
  if (max <= 0) return '';
  if (text.length <= max) return text;
  return max === 1 ? '…' : `${text.slice(0, max - 1)}…`;
}

/** Cuts text to its last `max` columns, starting with "…" when cut. */
export function truncateStart(text: string, max: number): string {
  if (max <= 0) return '';
  if (text.length <= max) return text;
  return max === 1 ? '…' : `…${text.slice(text.length - max + 1)}`;
}

/** Left-aligns in exactly `width` columns (cut with "…" when longer). */
export function fit(text: string, width: number): string {
  return truncate(text, width).padEnd(width);
}

/** Right-aligns in exactly `width` columns (cut with "…" when longer). */
export function fitRight(text: string, width: number): string {
  return truncate(text, width).padStart(width);
}

export interface HistogramRow {
  readonly key: string;
  readonly count: number;
  readonly bar: string;
}

/** A histogram's rows (keys in numeric order) with bars scaled to the largest count. */
export function histogramRows(hist: Readonly<Record<string, number>>, width: number): HistogramRow[] {
  const entries = Object.entries(hist)
    .filter(([, n]) => Number.isFinite(n) && n > 0)
    .sort(([a], [b]) => Number(a) - Number(b));
  const max = Math.max(0, ...entries.map(([, n]) => n));
  return entries.map(([key, count]) => ({ key, count, bar: BAR_FULL.repeat(Math.max(1, Math.round((count / (max || 1)) * width))) }));
}

/** "3/8" or "3" when the total is unknown. */
export function ofTotal(n: number, total: number | null): string {
  return total === null ? String(n) : `${n}/${total}`;
}


