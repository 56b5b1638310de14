// How the live dashboard fits the terminal: the full layout when it fits the height, else a compact one with the
// title, progress and percentile table pinned at the top, the telemetry collapsed to one line and the crops
// histogram and latency sparkline hidden (blank lines, the settings line and more error lines come back as the
// height allows). Widths follow the terminal. Ink redraws in place only while the frame is shorter than the
// terminal, so the frame is kept to rows - 1 lines. Pure.
import { CPU_CORES_SHOWN_MAX } from './components/TelemetryPanel.js';
import type { DashboardState } from './state.js';
import { MIN_SIZE, type TerminalSize } from './terminal-size.js';

export interface DashboardLayout {
  /** Width of the screen's lines. */
  readonly columns: number;
  readonly compact: boolean;
  /** Blank lines between the sections. */
  readonly margins: boolean;
  /** The images · load · batch · tokens · pan-and-scan line under the title. */
  readonly settingsLine: boolean;
  readonly telemetry: 'full' | 'line';
  /** The crops histogram and the E2E sparkline. */
  readonly crops: boolean;
  /** Lines under "Errors N" (the last errors, then warnings). */
  readonly errorLines: number;
  /** Notes shown under a finished run. */
  readonly notes: number;
  /** Width of the sparkline in the crops block. */
  readonly sparkChars: number;
  /** Width of the content (wider than `columns` when a table does not fit: ←/→ scroll it). */
  readonly contentWidth: number;
}

/** The widest fixed table of the full layout: the GPU rows (see TelemetryPanel's GPU_HEADER), the Server panel. */
export const GPU_TABLE_COLUMNS = 88;
const SERVER_TABLE_COLUMNS = 90;
const CROPS_BLOCK_COLUMNS = 40;
const SPARK_MAX = 120;
const PERCENTILE_ROWS = 6;

function telemetryLines(s: DashboardState): number {
  const t = s.telemetry;
  if (!t) return 2;
  if (t.kind === 'cpu') {
    const cores = Math.min(t.sample.cpus.length, CPU_CORES_SHOWN_MAX);
    return 3 + Math.ceil(cores / 5) + (t.sample.cpus.length > cores ? 1 : 0);
  }
  const groups = new Set(t.gpus.map((g) => s.replicas.find((r) => r.gpuIndices.includes(g.index))?.replica ?? null)).size;
  return 2 + groups + t.gpus.length;
}

/** A finished run's notes as the final screen lists them: the steady-state warning (once computed) first. */
export function finishedNotes(s: DashboardState): readonly string[] {
  if (!s.finished) return [];
  const steady = s.intervals?.steady;
  return steady && !steady.steady && steady.note ? [`${steady.note} (E2E median ${steady.driftPct >= 0 ? '+' : ''}${steady.driftPct.toFixed(1)}% from the first third to the last)`, ...s.finished.notes] : s.finished.notes;
}

function outcomeLines(s: DashboardState, notes: number): number {
  if (s.finished) return 1 + (s.finished.file ? 1 : 0) + Math.min(notes, finishedNotes(s).length);
  return s.fatal ? 1 : 0;
}

function errorBlock(s: DashboardState, lines: number): number {
  const warn = s.logs.filter((l) => l.level === 'warn').length;
  return 1 + Math.min(lines, s.errors.length + Math.min(2, warn));
}

/** The layout for the state on a terminal of the given size. */
export function dashboardLayout(s: DashboardState, size: TerminalSize): DashboardLayout {
  const columns = Math.max(MIN_SIZE.columns, size.columns);
  const budget = Math.max(MIN_SIZE.rows, size.rows) - 1;
  const servers = s.servers.length ? 2 + s.servers.length + (s.remoteGpus.length ? 1 + s.remoteGpus.length : 0) : 0;
  // Lines under the percentile table: the parity line, the roofline, the final 95% intervals.
  const underTable = (s.backend?.name === 'openai' || (s.progress?.snapshot.promptTokenParity?.mismatched ?? 0) > 0 ? 1 : 0) + (s.finished?.summary.roofline ? 1 : 0) + (s.finished && s.intervals ? 1 : 0);
  const histRows = Object.keys(s.finished?.summary.cropsHistogram ?? s.progress?.snapshot.cropsHistogram ?? s.workload?.cropsHistogram ?? {}).length;
  const cropsLines = 1 + Math.max(3, histRows);
  const wide = (n: number) => Math.max(columns, n);
  const sparkChars = Math.max(10, Math.min(SPARK_MAX, columns - CROPS_BLOCK_COLUMNS - 2));
  const full =
    3 + (1 + 2) + (1 + telemetryLines(s)) + (servers ? 1 + servers : 0) + (1 + PERCENTILE_ROWS + 1 + underTable) + (1 + cropsLines) + (1 + errorBlock(s, 7)) + (outcomeLines(s, 3) ? 1 + outcomeLines(s, 3) : 0) + 2;
  if (full <= budget) {
    const contentWidth = s.telemetry?.kind === 'gpu' ? wide(GPU_TABLE_COLUMNS) : servers ? wide(SERVER_TABLE_COLUMNS) : columns;
    return { columns, compact: false, margins: true, settingsLine: true, telemetry: 'full', crops: true, errorLines: 7, notes: 3, sparkChars, contentWidth };
  }
  // Compact: what must show, then extras in order while the height allows. A run that was not steady says so
  // whatever the height: its numbers mix two regimes.
  const steadyNote = s.finished && s.intervals?.steady?.steady === false ? 1 : 0;
  const base = 2 + 2 + PERCENTILE_ROWS + 1 + underTable + 1 + (servers ? 1 : 0) + errorBlock(s, 0) + outcomeLines(s, steadyNote) + 1;
  let left = budget - base;
  const take = (n: number) => (left >= n ? ((left -= n), true) : false);
  // Blank lines above: the progress, the table, the telemetry, the errors, the hints (and the outcome).
  const margins = take(5 + (outcomeLines(s, 0) ? 1 : 0));
  const settingsLine = take(1);
  let errorLines = 0;
  while (errorLines < 3 && errorBlock(s, errorLines + 1) > errorBlock(s, errorLines) && take(1)) errorLines++;
  let notes = steadyNote;
  while (s.finished && notes < Math.min(3, finishedNotes(s).length) && take(1)) notes++;
  return { columns, compact: true, margins, settingsLine, telemetry: 'line', crops: false, errorLines, notes, sparkChars, contentWidth: columns };
}
