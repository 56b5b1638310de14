// Side-by-side comparison of saved runs: a table model (columns = runs, the first is the baseline; rows = headline
// metrics with a direction, deltas against the baseline and the best cell marked), plus its plain-text rendering
// for the CLI. The model knows nothing about rendering so the Ink UI can draw the same thing. Pure.
import type { RunFile } from '../engine/types.js';
import { fitTable, fmtCount, fmtDelta, fmtMs, fmtRate, padTable, sig3, wrapText, NONE, type FitColumn } from './format.js';
import { cropsMean, modelLabel, pointLabel } from './describe.js';
import { describeSlo, goodput, type GoodputSlo } from './goodput.js';
import { rooflineDevice, rooflineLine } from './roofline.js';

/** lower: smaller is better; higher: bigger is better; none: no better or worse (counts, workload facts). */
export type Direction = 'lower' | 'higher' | 'none';
export type RowUnit = 'ms' | 'req/s' | 'tok/s' | 'count' | 'crops' | 'pct';

export interface CompareColumn {
  readonly id: string;
  readonly name: string;
  /**
   * What to head the column with: for sweep runs the grid values that differ between the compared runs, else the
   * run name; with the id's suffix when two columns would read the same.
   */
  readonly label: string;
  readonly status: RunFile['status'];
  readonly startedAt: string;
  readonly preset: string;
  readonly backend: string;
  readonly model: string;
  readonly groupId: string | null;
}

export interface CompareCell {
  readonly value: number | null;
  /** value - baseline value; null for the baseline itself or when either is missing. */
  readonly delta: number | null;
  /** delta / baseline * 100; null also when the baseline is 0. */
  readonly deltaPct: number | null;
  /** Best in its row (ties all marked); never set on rows with direction "none" or fewer than two values. */
  readonly best: boolean;
}

export interface CompareRow {
  readonly key: string;
  readonly label: string;
  readonly unit: RowUnit;
  readonly direction: Direction;
  readonly cells: readonly CompareCell[];
}

export interface CompareModel {
  readonly baselineId: string;
  readonly columns: readonly CompareColumn[];
  readonly rows: readonly CompareRow[];
  /** Reasons the numbers may not compare like for like (different image sets, models, output lengths ...). */
  readonly warnings: readonly string[];
}

interface RowDef {
  readonly key: string;
  readonly label: string;
  readonly unit: RowUnit;
  readonly direction: Direction;
  readonly get: (r: RunFile) => number | null;
}

const m = (r: RunFile) => r.summary.metrics;

/** The headline rows, in display order. */
export const COMPARE_ROWS: readonly RowDef[] = [
  { key: 'e2e_p50', label: 'E2E p50', unit: 'ms', direction: 'lower', get: (r) => m(r).e2eMs.p50 },
  { key: 'e2e_p95', label: 'E2E p95', unit: 'ms', direction: 'lower', get: (r) => m(r).e2eMs.p95 },
  { key: 'e2e_p99', label: 'E2E p99', unit: 'ms', direction: 'lower', get: (r) => m(r).e2eMs.p99 },
  { key: 'ttft_p50', label: 'TTFT p50', unit: 'ms', direction: 'lower', get: (r) => m(r).ttftMs.p50 },
  { key: 'ttft_p95', label: 'TTFT p95', unit: 'ms', direction: 'lower', get: (r) => m(r).ttftMs.p95 },
  { key: 'tpot_p50', label: 'TPOT p50', unit: 'ms', direction: 'lower', get: (r) => m(r).tpotMs.p50 },
  { key: 'itl_p50', label: 'ITL p50', unit: 'ms', direction: 'lower', get: (r) => m(r).itlMs.p50 },
  { key: 'preprocess_p50', label: 'Preprocess p50', unit: 'ms', direction: 'lower', get: (r) => m(r).preprocessMs.p50 },
  { key: 'vision_p50', label: 'Vision p50', unit: 'ms', direction: 'lower', get: (r) => m(r).visionMs.p50 },
  { key: 'throughput_req_s', label: 'Throughput', unit: 'req/s', direction: 'higher', get: (r) => r.summary.throughputReqS },
  { key: 'output_tokens_per_s', label: 'Output tokens/s', unit: 'tok/s', direction: 'higher', get: (r) => r.summary.outputTokensPerS },
  { key: 'tokens_per_s_mean', label: 'Tokens/s per request', unit: 'tok/s', direction: 'higher', get: (r) => r.summary.tokensPerSMean },
  // The hardware's floor over the measured median (src/engine/roofline.ts): 100% is the physical limit.
  { key: 'roofline_ttft_pct', label: 'Roofline TTFT (% of floor)', unit: 'pct', direction: 'higher', get: (r) => r.summary.roofline?.ttftPctOfFloor ?? null },
  { key: 'roofline_tpot_pct', label: 'Roofline TPOT (% of floor)', unit: 'pct', direction: 'higher', get: (r) => r.summary.roofline?.tpotPctOfFloor ?? null },
  { key: 'completed', label: 'Completed', unit: 'count', direction: 'none', get: (r) => r.summary.completed },
  { key: 'failed', label: 'Failed', unit: 'count', direction: 'none', get: (r) => r.summary.failed },
  { key: 'crops_mean', label: 'Crops (mean)', unit: 'crops', direction: 'none', get: (r) => cropsMean(r.summary) },
];

/** Values this close (relative) count as a tie, so float noise does not pick a single winner. */
const TIE_REL_EPS = 1e-9;

function bestFlags(values: readonly (number | null)[], direction: Direction): boolean[] {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (direction === 'none' || present.length < 2) return values.map(() => false);
  const best = direction === 'lower' ? Math.min(...present) : Math.max(...present);
  const tol = Math.abs(best) * TIE_REL_EPS;
  return values.map((v) => v !== null && Number.isFinite(v) && Math.abs(v - best) <= tol);
}

/** Grid keys as column labels say them: "ratio=2.5 crops=6", short enough to tell sweep points apart. */
const SHORT_GRID_KEYS: Readonly<Record<string, string>> = {
  'min-ratio': 'ratio',
  'max-crops': 'crops',
  'min-crop-size': 'crop-px',
  concurrency: 'conc',
  rate: 'rate',
  'batch-size': 'batch',
  batching: 'batching',
  'max-new-tokens': 'tokens',
};

/** The last part of a run id (its random suffix), which tells apart runs of the same name. */
export const idSuffix = (id: string): string => id.slice(id.lastIndexOf('-') + 1);

/**
 * Column labels that tell the runs apart: for sweep points only the grid values that differ between the compared
 * runs ("max-crops=6", not "min-ratio=2 max-crops=6 min-crop-size=448" twice cut to the same prefix); a label that
 * is still shared by two columns gets the run id's suffix.
 */
export function runLabels(runs: readonly RunFile[]): string[] {
  const varying = new Set<string>();
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.group?.point ?? {})) if (runs.some((o) => o.group && String(o.group.point[k]) !== String(v))) varying.add(k);
  }
  const base = runs.map((r) => {
    if (!r.group) return r.name;
    const parts = Object.entries(r.group.point).filter(([k]) => varying.has(k));
    return parts.length ? parts.map(([k, v]) => `${SHORT_GRID_KEYS[k] ?? k}=${v}`).join(' ') : pointLabel(r.group.point) || r.name;
  });
  return base.map((l, i) => (base.filter((x) => x === l).length > 1 ? `${l} (${idSuffix(runs[i].id)})` : l));
}

function column(r: RunFile, label: string): CompareColumn {
  return {
    id: r.id,
    name: r.name,
    label,
    status: r.status,
    startedAt: r.startedAt,
    preset: r.preset.name,
    backend: r.backend.name,
    model: modelLabel(r),
    groupId: r.group?.id ?? null,
  };
}

function differing<T>(runs: readonly RunFile[], get: (r: RunFile) => T): boolean {
  const first = JSON.stringify(get(runs[0]));
  return runs.some((r) => JSON.stringify(get(r)) !== first);
}

/** Where a run has no roofline number, why (grouped by reason); and the device each known one was measured against. */
function rooflineNotes(runs: readonly RunFile[]): string[] {
  const unknown = new Map<string, string[]>();
  const known: string[] = [];
  for (const r of runs) {
    const rl = r.summary.roofline;
    if (rl && rl.unknown !== null) unknown.set(rooflineLine(rl), [...(unknown.get(rooflineLine(rl)) ?? []), r.id]);
    else if (rl) known.push(`${r.id} on ${rooflineDevice(rl)}`);
  }
  const out = [...unknown].map(([why, ids]) => `roofline ${why} (${ids.length === runs.length ? 'every run' : ids.join(', ')})`);
  if (known.length) out.push(`roofline: % of the hardware's floor (floor / measured median): ${known.join('; ')}`);
  return out;
}

function warningsFor(runs: readonly RunFile[]): string[] {
  if (runs.length < 2) return [];
  const w: string[] = [];
  if (differing(runs, (r) => r.workload.setHash)) w.push('the runs used different image sets (workload set hash differs)');
  if (differing(runs, (r) => [r.backend.name, r.backend.model.name])) w.push('the runs used different models or backends');
  if (differing(runs, (r) => r.settings.maxNewTokens)) w.push('the runs generated different numbers of tokens (maxNewTokens differs)');
  if (differing(runs, (r) => r.workload.prompts)) w.push('the runs used different prompts');
  if (runs.some((r) => r.backend.model.randomWeights)) w.push('random weights: speed only (outputs are not meaningful)');
  w.push(...rooflineNotes(runs));
  const unfinished = runs.filter((r) => r.status !== 'completed');
  if (unfinished.length) w.push(`not completed: ${unfinished.map((r) => `${r.id} (${r.status})`).join(', ')}`);
  return w;
}

/** Goodput rows under `slo`, computed from each run's records (placed after the throughput rows). */
function goodputRows(slo: GoodputSlo): RowDef[] {
  // Both rows read one pass over each run's records.
  const byRun = new WeakMap<RunFile, ReturnType<typeof goodput>>();
  const of = (r: RunFile) => byRun.get(r) ?? byRun.set(r, goodput(r, slo)).get(r)!;
  return [
    { key: 'goodput_req_s', label: `Goodput (${describeSlo(slo)})`, unit: 'req/s', direction: 'higher', get: (r) => of(r).goodputReqS },
    { key: 'good_pct', label: 'Within SLO', unit: 'pct', direction: 'higher', get: (r) => of(r).goodPct },
  ];
}

/**
 * Builds the comparison of `runs` (at least one); the first is the baseline every delta is taken against. With
 * `slo`, goodput rows are added after the throughput rows.
 */
export function compareRuns(runs: readonly RunFile[], opts: { slo?: GoodputSlo } = {}): CompareModel {
  if (runs.length === 0) throw new Error('compareRuns needs at least one run');
  const defs = [...COMPARE_ROWS];
  if (opts.slo) defs.splice(defs.findIndex((d) => d.key === 'tokens_per_s_mean') + 1, 0, ...goodputRows(opts.slo));
  // The roofline rows only where some run has a number (CPU runs have none; the notes say why).
  const shown = defs.filter((d) => !d.key.startsWith('roofline_') || runs.some((r) => d.get(r) !== null));
  const rows = shown.map((def): CompareRow => {
    const values = runs.map(def.get);
    const best = bestFlags(values, def.direction);
    const base = values[0];
    const cells = values.map((value, i): CompareCell => {
      const delta = i === 0 || value === null || base === null ? null : value - base;
      const deltaPct = delta === null || base === null || base === 0 ? null : (delta / Math.abs(base)) * 100;
      return { value, delta, deltaPct, best: best[i] };
    });
    return { key: def.key, label: def.label, unit: def.unit, direction: def.direction, cells };
  });
  const heads = runLabels(runs);
  return { baselineId: runs[0].id, columns: runs.map((r, i) => column(r, heads[i])), rows, warnings: warningsFor(runs) };
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

/**
 * Plain-text table: one column per run, `*` after the best value of each row, and each non-baseline cell followed
 * by its change against the baseline, e.g. `12.3 ms* (-8.1%)`. When it is wider than `width`, the compact layout:
 * units in the row labels, numbered run headings with the ids listed underneath, and the runs that still do not
 * fit left out (said in a note; the baseline and the first runs stay).
 */
export function renderCompareText(model: CompareModel, o: { readonly width?: number } = {}): string {
  const width = o.width ?? Number.POSITIVE_INFINITY;
  const header = ['', ...model.columns.map((c, i) => (i === 0 ? `${c.label} (baseline)` : c.label))];
  const ids = ['', ...model.columns.map((c) => c.id)];
  const body = model.rows.map((row) => [
    row.label,
    ...row.cells.map((cell, i) => {
      const v = formatCompareValue(row.unit, cell.value) + (cell.best ? '*' : '');
      return i === 0 || cell.deltaPct === null ? v : `${v} (${fmtDelta(cell.deltaPct)})`;
    }),
  ]);
  const full = padTable([header, ids, ...body]);
  const lines: string[] = [];
  if (Math.max(...full.split('\n').map((l) => l.length)) <= width) lines.push(full);
  else lines.push(...compactCompare(model, width));
  lines.push('', wrapText(`* best in its row (lower is better for times, higher for rates). Deltas against ${model.baselineId}.`, width, '  '));
  for (const w of model.warnings) lines.push(wrapText(`note: ${w}`, width, '  '));
  return lines.join('\n') + '\n';
}

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
    ...row.cells.map((cell, i) => {
      const v = bareValue(row.unit, cell.value) + (cell.best ? '*' : '');
      return i === 0 || cell.deltaPct === null ? v : `${v} (${fmtDelta(cell.deltaPct)})`;
    }),
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
