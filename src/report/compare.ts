// Side-by-side comparison of saved runs: a table model (columns = runs, the first is the baseline; rows = headline
// metrics with a direction, deltas against the baseline and the best cell marked), plus its plain-text rendering
// for the CLI. The model knows nothing about rendering so the Ink UI can draw the same thing. Pure.
import type { RunFile } from '../engine/types.js';
import { fmtCount, fmtDelta, fmtMs, fmtRate, padTable, sig3, NONE } from './format.js';
import { cropsMean, modelLabel, pointLabel } from './describe.js';
import { describeSlo, goodput, type GoodputSlo } from './goodput.js';
import { rooflineDevice, rooflineLine } from './roofline.js';

/** lower: smaller is better; higher: bigger is better; none: no better or worse (counts, workload facts). */
export type Direction = 'lower' | 'higher' | 'none';
export type RowUnit = 'ms' | 'req/s' | 'tok/s' | 'count' | 'crops' | 'pct';

export interface CompareColumn {
  readonly id: string;
  readonly name: string;
  /** What to head the column with: the sweep point for sweep runs, else the run name. */
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

function column(r: RunFile): CompareColumn {
  return {
    id: r.id,
    name: r.name,
    label: r.group ? pointLabel(r.group.point) || r.name : r.name,
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
  return { baselineId: runs[0].id, columns: runs.map(column), rows, warnings: warningsFor(runs) };
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
 * by its change against the baseline, e.g. `12.3 ms* (-8.1%)`.
 */
export function renderCompareText(model: CompareModel): string {
  const header = ['', ...model.columns.map((c, i) => (i === 0 ? `${c.label} (baseline)` : c.label))];
  const ids = ['', ...model.columns.map((c) => c.id)];
  const body = model.rows.map((row) => [
    row.label,
    ...row.cells.map((cell, i) => {
      const v = formatCompareValue(row.unit, cell.value) + (cell.best ? '*' : '');
      return i === 0 || cell.deltaPct === null ? v : `${v} (${fmtDelta(cell.deltaPct)})`;
    }),
  ]);
  const lines = [padTable([header, ids, ...body])];
  lines.push('', `* best in its row (lower is better for times, higher for rates). Deltas against ${model.baselineId}.`);
  for (const w of model.warnings) lines.push(`note: ${w}`);
  return lines.join('\n') + '\n';
}
