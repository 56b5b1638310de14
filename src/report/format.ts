// Number and table formatting shared by the CLI and the Ink UI, so both show the same digits. Pure.
// Every formatter maps null, undefined and non-finite numbers to NONE ("-") so callers can pass summaries as-is.

export const NONE = '-';

const MS_PER_S = 1000;
const S_PER_MIN = 60;
const S_PER_HOUR = 3600;

type Num = number | null | undefined;

const bad = (v: Num): v is null | undefined => v === null || v === undefined || !Number.isFinite(v);

/** Decimals that show about 3 significant digits of |v| (never fewer than 0, at most maxDecimals). */
function decimalsFor(abs: number, maxDecimals: number): number {
  if (abs === 0) return 0;
  if (abs >= 100) return 0;
  if (abs >= 10) return Math.min(1, maxDecimals);
  if (abs >= 0.1) return Math.min(2, maxDecimals);
  return maxDecimals;
}

/**
 * About 3 significant digits: 0.42, 4.56, 12.3, 123, 1234. Re-rounds when rounding crossed a magnitude
 * (9.996 -> "10.0", not "10.00").
 */
export function sig3(v: number, maxDecimals = 3): string {
  const abs = Math.abs(v);
  const d = decimalsFor(abs, maxDecimals);
  let s = abs.toFixed(d);
  const dRounded = decimalsFor(Number(s), maxDecimals);
  if (dRounded !== d) s = Number(s).toFixed(dRounded);
  return (v < 0 && Number(s) !== 0 ? '-' : '') + s;
}

/** Milliseconds: `0.42 ms`, `12.3 ms`, `123 ms`, `1.24 s`, `12.4 s`, `124 s`. */
export function fmtMs(ms: Num): string {
  if (bad(ms)) return NONE;
  const abs = Math.abs(ms);
  // Decide the unit after rounding, so 999.7 ms reads "1.00 s" rather than "1000 ms".
  if (abs >= MS_PER_S || Number(sig3(abs)) >= MS_PER_S) return `${sig3(ms / MS_PER_S, 2)} s`;
  return `${sig3(ms)} ms`;
}

/**
 * An interval's two ends, formatted, with a unit they share said once: "118–126 ms", "1.02–1.10 s", "3.1–3.4 req/s".
 */
export function rangeText(iv: readonly [number, number], format: (v: number) => string): string {
  const lo = format(iv[0]);
  const hi = format(iv[1]);
  const unit = / [^\d\s]+$/.exec(hi)?.[0];
  return unit && lo.endsWith(unit) ? `${lo.slice(0, -unit.length)}–${hi}` : `${lo}–${hi}`;
}

/** A rate with about 3 significant digits and its unit: `12.3 req/s`, `1834 tok/s`. */
export function fmtRate(perS: Num, unit = '/s'): string {
  if (bad(perS)) return NONE;
  return `${sig3(perS, 2)} ${unit}`;
}

/** A percentage given in percent (0..100): `12.3%`. */
export function fmtPct(percent: Num): string {
  if (bad(percent)) return NONE;
  return `${sig3(percent, 1)}%`;
}

/** A signed relative change given in percent: `+12.3%`, `-4.0%`, `+0.0%`. */
export function fmtDelta(percent: Num): string {
  if (bad(percent)) return NONE;
  const r = Math.round(percent * 10) / 10;
  const s = Math.abs(r) >= 100 ? Math.abs(r).toFixed(0) : Math.abs(r).toFixed(1);
  return `${r < 0 ? '-' : '+'}${s}%`;
}

/** An integer count; non-integers are rounded. */
export function fmtCount(n: Num): string {
  if (bad(n)) return NONE;
  return String(Math.round(n));
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** Binary units: `512 B`, `1.50 KiB`, `39.4 GiB`. */
export function fmtBytes(bytes: Num): string {
  if (bad(bytes)) return NONE;
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u > 0 && Number(sig3(v, 2)) >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const s = u === 0 ? String(Math.round(v)) : sig3(v, 2);
  return `${bytes < 0 ? '-' : ''}${s} ${BYTE_UNITS[u]}`;
}

/** A duration in seconds: `350 ms`, `12.3 s`, `4m 05s`, `2h 03m`. */
export function fmtDuration(seconds: Num): string {
  if (bad(seconds)) return NONE;
  const sign = seconds < 0 ? '-' : '';
  const s = Math.abs(seconds);
  if (s < 1) return sign + fmtMs(s * MS_PER_S);
  if (s < S_PER_MIN && Number(sig3(s, 1)) < S_PER_MIN) return `${sign}${sig3(s, 1)} s`;
  const whole = Math.round(s);
  if (whole < S_PER_HOUR) return `${sign}${Math.floor(whole / S_PER_MIN)}m ${String(whole % S_PER_MIN).padStart(2, '0')}s`;
  const mins = Math.round(s / S_PER_MIN);
  return `${sign}${Math.floor(mins / 60)}h ${String(mins % 60).padStart(2, '0')}m`;
}

export type Align = 'left' | 'right';

export interface PadTableOptions {
  /** Per column; default: left for the first column, right for the others (numbers line up). */
  readonly align?: readonly Align[];
  /** Spaces between columns. */
  readonly gap?: number;
}

/**
 * Aligns rows of cells into text lines (no trailing spaces). Null/undefined cells print as "-". Widths count
 * UTF-16 code units, which is exact for the ASCII this tool prints.
 */
export function padTable(rows: readonly (readonly (string | number | null | undefined)[])[], o: PadTableOptions = {}): string {
  const gap = ' '.repeat(o.gap ?? 2);
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? NONE : String(c))));
  const cols = Math.max(0, ...cells.map((r) => r.length));
  const widths = Array.from({ length: cols }, (_, i) => Math.max(0, ...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => ((o.align?.[i] ?? (i === 0 ? 'left' : 'right')) === 'left' ? c.padEnd(widths[i]) : c.padStart(widths[i])))
        .join(gap)
        .trimEnd(),
    )
    .join('\n');
}

/** A column of a table that may have to fit a width (fitTable). */
export interface FitColumn {
  readonly header: string;
  readonly align?: Align;
  /**
   * Which columns give way first when the table is too wide: the lowest priority is cut down to `minWidth` (if it
   * has one), then hidden, then the next lowest. Ties: the rightmost first. Infinity: never hidden.
   */
  readonly priority: number;
  /** Cut cells with "…" down to this many characters before hiding the column (text columns: names, models). */
  readonly minWidth?: number;
}

export interface FittedTable {
  readonly text: string;
  /** Headers of the columns left out to fit, in table order. */
  readonly hidden: readonly string[];
  /** Whether some cells were cut short. */
  readonly cut: boolean;
}

const cutCell = (s: string, w: number): string => (s.length <= w ? s : w <= 1 ? '…'.slice(0, w) : `${s.slice(0, w - 1)}…`);

/**
 * Lays out a table (header first) in at most `width` characters per line: columns of the lowest priority are
 * first cut (down to their minWidth) and then hidden until it fits (Infinity: all, as padTable). The caller says
 * what was hidden (and that --wide shows it).
 */
export function fitTable(columns: readonly FitColumn[], rows: readonly (readonly (string | number | null | undefined)[])[], width: number, gap = 2): FittedTable {
  const cells = [columns.map((c) => c.header), ...rows.map((r) => columns.map((_, i) => { const c = r[i]; return c === null || c === undefined ? NONE : String(c); }))];
  const natural = columns.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const widths = [...natural];
  const shown = columns.map(() => true);
  const total = () => widths.reduce((sum, w, i) => sum + (shown[i] ? w : 0), 0) + gap * (shown.filter(Boolean).length - 1);
  const order = columns.map((c, i) => ({ c, i })).sort((a, b) => a.c.priority - b.c.priority || b.i - a.i);
  for (const { c, i } of order) {
    if (total() <= width) break;
    if (shown.filter(Boolean).length <= 1 || c.priority === Number.POSITIVE_INFINITY) continue;
    const min = c.minWidth;
    if (min !== undefined && widths[i] > min) {
      widths[i] = Math.max(min, widths[i] - (total() - width));
      if (total() <= width) break;
    }
    shown[i] = false;
  }
  const idx = columns.map((_, i) => i).filter((i) => shown[i]);
  const text = cells
    .map((r) => idx.map((i) => (columns[i].align ?? (i === 0 ? 'left' : 'right')) === 'left' ? cutCell(r[i], widths[i]).padEnd(widths[i]) : cutCell(r[i], widths[i]).padStart(widths[i])).join(' '.repeat(gap)).trimEnd())
    .join('\n');
  return { text, hidden: columns.filter((_, i) => !shown[i]).map((c) => c.header), cut: idx.some((i) => widths[i] < natural[i]) };
}

/** The line under a fitted table that says what was left out, or null when nothing was. */
export function fitNote(t: FittedTable, width: number): string | null {
  if (!t.hidden.length && !t.cut) return null;
  const what = t.hidden.length ? `${t.hidden.length} column${t.hidden.length === 1 ? '' : 's'} hidden (${t.hidden.join(', ')})` : 'long cells cut';
  return wrapText(`(${what} to fit ${width} columns; --wide shows them all)`, width, ' ');
}

/**
 * Prose wrapped at spaces into lines of at most `width` characters (a word longer than that stays whole), later
 * lines indented by `indent`. Infinity: the text as it is.
 */
export function wrapText(text: string, width: number, indent = ''): string {
  if (!Number.isFinite(width) || text.length <= width) return text;
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (candidate.length > width && line.trim() !== '') {
      lines.push(line);
      line = indent + word;
    } else line = candidate;
  }
  lines.push(line);
  return lines.join('\n');
}
