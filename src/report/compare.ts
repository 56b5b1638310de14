// Side-by-side comparison of saved runs: a table model (columns = runs, or groups of repeats of one specification;
// the first is the baseline; rows = headline metrics with a direction, deltas against the baseline). Its
// renderings live in compare-text.ts (text), compare-export.ts (files) and the UI, which draw the same model.
//
// Noise (issue 12): every timing and rate cell carries the 95% bootstrap interval of its value, and every
// non-baseline one whether its difference from the baseline is significant (the paired-resample interval of the
// difference excludes zero; for groups of repeats, also beyond the repeats' spread: src/report/stats/significance.ts).
// Only significant differences count: a row's best value is marked only when it is significantly better than every
// other value in the row, and the renderings print "≈" (within noise) instead of the change for the others. Pure.
import type { LatencyMetric, RunFile } from '../engine/types.js';
import { cropsMean, modelLabel, pointLabel } from './describe.js';
import { describeSlo, goodput, meetsSlo, type GoodputSlo } from './goodput.js';
import { runBootstrap, runSeed } from './intervals.js';
import { rooflineDevice, rooflineLine } from './roofline.js';
import { boxPlotRow, type BoxPlotRow } from './stats/boxplot.js';
import type { RunBootstrap } from './stats/bootstrap.js';
import { percentileInterval } from './stats/order.js';
import { subStream } from './stats/random.js';
import { combinedVerdict, compareEstimates, compareRepeats, repeatSpread, type RepeatSpread } from './stats/significance.js';
import { steadyState } from './stats/steady.js';
import { bootstrapRates } from './stats/throughput.js';
import { SUMMARY_PERCENTILE_OF, type Estimate } from './stats/types.js';

/** lower: smaller is better; higher: bigger is better; none: no better or worse (counts, workload facts). */
export type Direction = 'lower' | 'higher' | 'none';
export type RowUnit = 'ms' | 'req/s' | 'tok/s' | 'count' | 'crops' | 'pct';

export interface CompareColumn {
  /** The run's id; for a group of repeats the group's id (a repeat group) or its first run's (a sweep point). */
  readonly id: string;
  readonly name: string;
  /**
   * What to head the column with: for sweep runs the grid values that differ between the compared runs, else the
   * run name; with the id's suffix when two columns would read the same; "×N" for N repeats.
   */
  readonly label: string;
  readonly status: RunFile['status'];
  readonly startedAt: string;
  readonly preset: string;
  readonly backend: string;
  readonly model: string;
  readonly groupId: string | null;
  /** The runs behind the column: one, or the repeats of one specification. */
  readonly runIds: readonly string[];
}

export interface CompareCell {
  /** The run's value; for repeats the median of the repeats' values. */
  readonly value: number | null;
  /** value - baseline value; null for the baseline itself or when either is missing. */
  readonly delta: number | null;
  /** delta / baseline * 100; null also when the baseline is 0. */
  readonly deltaPct: number | null;
  /**
   * Best in its row, and significantly better than every other value in it (ties and differences within noise mark
   * nothing); never set on rows with direction "none" or fewer than two values.
   */
  readonly best: boolean;
  /** The 95% interval of the value (timing and rate rows with a value; else null). */
  readonly ci95: readonly [number, number] | null;
  /**
   * The difference from the baseline is real: its 95% interval excludes zero (and, for repeats, it exceeds their
   * spread). Null for the baseline, and where there is no interval to judge by.
   */
  readonly significant: boolean | null;
  /** min / median / max of the value over the column's repeats; null for a single run. */
  readonly repeats: RepeatSpread | null;
}

export interface CompareRow {
  readonly key: string;
  readonly label: string;
  readonly unit: RowUnit;
  readonly direction: Direction;
  readonly cells: readonly CompareCell[];
}

/** One box plot line per column: a latency's p5..p95 with the median's interval (see stats/boxplot.ts). */
export interface CompareDistribution {
  readonly key: 'e2e' | 'ttft';
  readonly label: string;
  /** One per column, null where the column has no values. */
  readonly rows: readonly (BoxPlotRow | null)[];
}

export interface CompareModel {
  readonly baselineId: string;
  readonly columns: readonly CompareColumn[];
  readonly rows: readonly CompareRow[];
  /** E2E and TTFT distributions, for the box plots. */
  readonly distributions: readonly CompareDistribution[];
  /** Reasons the numbers may not compare like for like (different image sets, models, output lengths, drift ...). */
  readonly warnings: readonly string[];
}

/** A column's runs: one run, or the repeats of one specification. */
export type RunSet = readonly RunFile[];

interface RowDef {
  readonly key: string;
  readonly label: string;
  readonly unit: RowUnit;
  readonly direction: Direction;
  readonly get: (r: RunFile) => number | null;
  /** The value's bootstrap estimate (timing and rate rows): its interval and resamples. */
  readonly estimate?: (r: RunFile, b: RunBootstrap) => Estimate | null;
  /** For a percentile row: the metric and percentile, to tell whether a run has enough values to judge it. */
  readonly percentile?: { readonly metric: LatencyMetric; readonly p: number };
}

/**
 * A percentile is judged only where every run has at least this many values beyond it (on its shorter side: above a
 * p95, below a p5): a p50 needs 10 requests, a p95 100, a p99 500. With fewer, the run's percentile is its extreme
 * value or close to it, and the resampled percentile can only fall short of it: the bootstrap sees no spread where the
 * true spread is widest, and would call 2-request runs "different" on their p99 (the usual np >= 5 rule of thumb).
 * Such cells read as within noise.
 */
export const PERCENTILE_TAIL_VALUES_MIN = 5;

/** Enough values in `r` to judge the row's percentile (always true for rows that are not percentiles). */
function enoughValues(def: Pick<RowDef, 'percentile'>, r: RunFile): boolean {
  if (!def.percentile) return true;
  const { metric, p } = def.percentile;
  return (r.summary.metrics[metric].count * Math.min(p, 100 - p)) / 100 >= PERCENTILE_TAIL_VALUES_MIN;
}

const m = (r: RunFile) => r.summary.metrics;
/** A latency percentile row's estimate and what it needs to be judged. */
const lat = (metric: LatencyMetric, stat: 'p50' | 'p95' | 'p99') => ({
  estimate: (_r: RunFile, b: RunBootstrap) => b.latency[metric]?.[stat] ?? null,
  percentile: { metric, p: SUMMARY_PERCENTILE_OF[stat] },
});

/** The headline rows, in display order. */
export const COMPARE_ROWS: readonly RowDef[] = [
  { key: 'e2e_p50', label: 'E2E p50', unit: 'ms', direction: 'lower', get: (r) => m(r).e2eMs.p50, ...lat('e2eMs', 'p50') },
  { key: 'e2e_p95', label: 'E2E p95', unit: 'ms', direction: 'lower', get: (r) => m(r).e2eMs.p95, ...lat('e2eMs', 'p95') },
  { key: 'e2e_p99', label: 'E2E p99', unit: 'ms', direction: 'lower', get: (r) => m(r).e2eMs.p99, ...lat('e2eMs', 'p99') },
  { key: 'ttft_p50', label: 'TTFT p50', unit: 'ms', direction: 'lower', get: (r) => m(r).ttftMs.p50, ...lat('ttftMs', 'p50') },
  { key: 'ttft_p95', label: 'TTFT p95', unit: 'ms', direction: 'lower', get: (r) => m(r).ttftMs.p95, ...lat('ttftMs', 'p95') },
  { key: 'tpot_p50', label: 'TPOT p50', unit: 'ms', direction: 'lower', get: (r) => m(r).tpotMs.p50, ...lat('tpotMs', 'p50') },
  { key: 'itl_p50', label: 'ITL p50', unit: 'ms', direction: 'lower', get: (r) => m(r).itlMs.p50, ...lat('itlMs', 'p50') },
  { key: 'preprocess_p50', label: 'Preprocess p50', unit: 'ms', direction: 'lower', get: (r) => m(r).preprocessMs.p50, ...lat('preprocessMs', 'p50') },
  { key: 'vision_p50', label: 'Vision p50', unit: 'ms', direction: 'lower', get: (r) => m(r).visionMs.p50, ...lat('visionMs', 'p50') },
  { key: 'throughput_req_s', label: 'Throughput', unit: 'req/s', direction: 'higher', get: (r) => r.summary.throughputReqS, estimate: (_r, b) => b.throughputReqS },
  { key: 'output_tokens_per_s', label: 'Output tokens/s', unit: 'tok/s', direction: 'higher', get: (r) => r.summary.outputTokensPerS, estimate: (_r, b) => b.outputTokensPerS },
  { key: 'tokens_per_s_mean', label: 'Tokens/s per request', unit: 'tok/s', direction: 'higher', get: (r) => r.summary.tokensPerSMean, estimate: (_r, b) => b.tokensPerSMean },
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

/** The column labels of `runs` compared one column each (a sweep's scatter names its points by them). */
export function runLabels(runs: readonly RunFile[]): string[] {
  return labels(runs.map((r) => [r]));
}

/**
 * Column labels that tell the columns apart: for sweep points only the grid values that differ between the compared
 * runs ("max-crops=6", not "min-ratio=2 max-crops=6 min-crop-size=448" twice cut to the same prefix); a label that
 * is still shared by two columns gets the column id's suffix; "×N" after a column of N repeats.
 */
function labels(sets: readonly RunSet[]): string[] {
  const runs = sets.map((s) => s[0]);
  const varying = new Set<string>();
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.group?.point ?? {})) if (runs.some((o) => o.group && String(o.group.point[k]) !== String(v))) varying.add(k);
  }
  const base = runs.map((r) => {
    if (!r.group || Object.keys(r.group.point).length === 0) return r.name;
    const parts = Object.entries(r.group.point).filter(([k]) => varying.has(k));
    return parts.length ? parts.map(([k, v]) => `${SHORT_GRID_KEYS[k] ?? k}=${v}`).join(' ') : pointLabel(r.group.point) || r.name;
  });
  const ids = sets.map(setId);
  return base.map((l, i) => (base.filter((x) => x === l).length > 1 ? `${l} (${idSuffix(ids[i])})` : l) + (sets[i].length > 1 ? ` ×${sets[i].length}` : ''));
}

/** A column's id: the run's, a repeat group's, or (the repeats of a sweep point) the first repeat's. */
function setId(set: RunSet): string {
  const g = set[0].group;
  return set.length > 1 && g?.kind === 'repeat' && set.every((r) => r.group?.id === g.id) ? g.id : set[0].id;
}

function column(set: RunSet, label: string): CompareColumn {
  const r = set[0];
  return {
    id: setId(set),
    name: r.name,
    label,
    status: set.find((x) => x.status !== 'completed')?.status ?? 'completed',
    startedAt: r.startedAt,
    preset: r.preset.name,
    backend: r.backend.name,
    model: modelLabel(r),
    groupId: r.group?.id ?? null,
    runIds: set.map((x) => x.id),
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
  const w: string[] = [];
  if (runs.length >= 2) {
    if (differing(runs, (r) => r.workload.setHash)) w.push('the runs used different image sets (workload set hash differs)');
    if (differing(runs, (r) => [r.backend.name, r.backend.model.name])) w.push('the runs used different models or backends');
    if (differing(runs, (r) => r.settings.maxNewTokens)) w.push('the runs generated different numbers of tokens (maxNewTokens differs)');
    if (differing(runs, (r) => r.workload.prompts)) w.push('the runs used different prompts');
  }
  if (runs.some((r) => r.backend.model.randomWeights)) w.push('random weights: speed only (outputs are not meaningful)');
  w.push(...rooflineNotes(runs));
  const unfinished = runs.filter((r) => r.status !== 'completed');
  if (unfinished.length) w.push(`not completed: ${unfinished.map((r) => `${r.id} (${r.status})`).join(', ')}`);
  // A drifting run mixes two regimes: its intervals (and so the verdicts) describe neither.
  for (const r of runs) {
    const s = steadyState(r.requests, { seed: runSeed(r) });
    if (s && !s.steady) w.push(`${r.id} is ${s.note} (E2E median ${s.driftPct >= 0 ? '+' : ''}${s.driftPct.toFixed(1)}% from its first third to its last)`);
  }
  return w;
}

/** The measured window of a run (first measured enqueue -> last measured finish), as the bootstrap's rates use it. */
function measuredWindow(r: RunFile): [number, number] {
  let start = Infinity;
  let end = -Infinity;
  for (const q of r.requests) {
    if (q.warmup) continue;
    start = Math.min(start, q.enqueuedAtMs);
    if (q.finishedAtMs !== null) end = Math.max(end, q.finishedAtMs);
  }
  return [start, end];
}

/** Goodput rows under `slo`, computed from each run's records (placed after the throughput rows). */
function goodputRows(slo: GoodputSlo): RowDef[] {
  // Both rows read one pass over each run's records.
  const byRun = new WeakMap<RunFile, ReturnType<typeof goodput>>();
  const of = (r: RunFile) => byRun.get(r) ?? byRun.set(r, goodput(r, slo)).get(r)!;
  // Goodput is a rate like throughput, over the good completions only: the same time-block bootstrap.
  const estimate = (r: RunFile, b: RunBootstrap): Estimate | null => {
    const [start, end] = measuredWindow(r);
    const done = r.requests.filter((q) => !q.warmup && q.finishedAtMs !== null && meetsSlo(q, slo));
    const rates = bootstrapRates(
      done.map((q) => ({ finishedAtMs: q.finishedAtMs!, outputTokens: q.outputTokens })),
      start,
      end,
      b.latency.e2eMs?.p50.value ?? null,
      b.resamples,
      subStream(b.seed, 'goodput'),
      b.level,
    );
    return rates?.throughputReqS ?? null;
  };
  return [
    { key: 'goodput_req_s', label: `Goodput (${describeSlo(slo)})`, unit: 'req/s', direction: 'higher', get: (r) => of(r).goodputReqS, estimate },
    { key: 'good_pct', label: 'Within SLO', unit: 'pct', direction: 'higher', get: (r) => of(r).goodPct },
  ];
}

/**
 * A column's estimate of one statistic: a single run's own, or for repeats the median over the repeats, resample by
 * resample (resample b of the column is the median of the repeats' resamples b: the bootstrap of the median of
 * independently resampled repeats).
 */
function columnEstimate(values: readonly (number | null)[], estimates: readonly (Estimate | null)[], level: number): Estimate | null {
  if (estimates.some((e) => e === null) || values.some((v) => v === null)) return null;
  const es = estimates as Estimate[];
  if (es.length === 1) return es[0];
  const b = es[0].resamples.length;
  const out = new Float64Array(b);
  const col = new Array<number>(es.length);
  for (let i = 0; i < b; i++) {
    for (let k = 0; k < es.length; k++) col[k] = es[k].resamples[i];
    out[i] = repeatSpread(col)!.median;
  }
  return { value: repeatSpread(values as number[])!.median, ci95: percentileInterval(out, level), resamples: out };
}

/**
 * The interval shown with a value: the bootstrap's, widened to take in the value when it falls just outside. Two
 * reasons it can: the value shown is the run summary's (HDR histograms, 3 significant digits) while the bootstrap
 * works on the exact records, and a percentile interval of a skewed statistic (a short run's p99) can sit to one side
 * of the estimate. A reader takes the interval as the range the value lies in, so it always does.
 */
function shownInterval(value: number, e: Estimate): [number, number] {
  return [Math.min(value, e.ci95[0]), Math.max(value, e.ci95[1])];
}

/**
 * Builds the comparison of `sets` (at least one; each one run, or the repeats of one specification, a column each);
 * the first is the baseline every delta is taken against. With `slo`, goodput rows are added after the throughput
 * rows.
 */
export function compareSets(sets: readonly RunSet[], opts: { slo?: GoodputSlo } = {}): CompareModel {
  if (sets.length === 0 || sets.some((s) => s.length === 0)) throw new Error('compareSets needs at least one run in every column');
  const runs = sets.flat();
  const boot = new Map<RunFile, RunBootstrap>(runs.map((r) => [r, runBootstrap(r)]));
  const level = boot.get(runs[0])!.level;
  const defs = [...COMPARE_ROWS];
  if (opts.slo) defs.splice(defs.findIndex((d) => d.key === 'tokens_per_s_mean') + 1, 0, ...goodputRows(opts.slo));
  // The roofline rows only where some run has a number (CPU runs have none; the notes say why).
  const shown = defs.filter((d) => !d.key.startsWith('roofline_') || runs.some((r) => d.get(r) !== null));
  const rows = shown.map((def): CompareRow => {
    const perRun = sets.map((s) => s.map(def.get));
    const values = perRun.map((vs) => (vs.some((v) => v === null) ? null : repeatSpread(vs as number[])?.median ?? null));
    const estimates = def.estimate ? sets.map((s, i) => columnEstimate(perRun[i], s.map((r) => def.estimate!(r, boot.get(r)!)), level)) : null;
    // Does column j differ from column i (within-run interval, and beyond the repeats' spread)? Null: no evidence.
    const differs = (i: number, j: number): boolean | null => {
      const a = estimates?.[i];
      const b = estimates?.[j];
      if (!a || !b) return null;
      if (![...sets[i], ...sets[j]].every((r) => enoughValues(def, r))) return false;
      const rep = compareRepeats(perRun[i] as number[], perRun[j] as number[]);
      return combinedVerdict(compareEstimates(a, b, level), rep);
    };
    const best = bestFlags(values, def.direction).map((isBest, i) =>
      // Rows with intervals: the best value counts only when it is significantly better than every other value.
      isBest && (!estimates || values.every((v, j) => j === i || v === null || differs(i, j) === true)),
    );
    const base = values[0];
    const cells = values.map((value, i): CompareCell => {
      const delta = i === 0 || value === null || base === null ? null : value - base;
      const deltaPct = delta === null || base === null || base === 0 ? null : (delta / Math.abs(base)) * 100;
      const e = estimates?.[i] ?? null;
      return {
        value,
        delta,
        deltaPct,
        best: best[i],
        ci95: value !== null && e ? shownInterval(value, e) : null,
        significant: i === 0 || delta === null ? null : differs(0, i),
        repeats: sets[i].length > 1 ? repeatSpread(perRun[i].filter((v): v is number => v !== null)) : null,
      };
    });
    return { key: def.key, label: def.label, unit: def.unit, direction: def.direction, cells };
  });
  const heads = labels(sets);
  const columns = sets.map((s, i) => column(s, heads[i]));
  const warnings = warningsFor(runs);
  const unjudged = shown.filter((d) => d.percentile && runs.some((r) => !enoughValues(d, r) && d.get(r) !== null));
  if (sets.length > 1 && unjudged.length) {
    warnings.push(`too few requests to judge ${unjudged.map((d) => d.label).join(', ')} (a p50 needs ${(PERCENTILE_TAIL_VALUES_MIN * 100) / 50}, a p95 ${(PERCENTILE_TAIL_VALUES_MIN * 100) / 5}, a p99 ${PERCENTILE_TAIL_VALUES_MIN * 100} in every run): they read ≈`);
  }
  const multi = sets.filter((s) => s.length > 1);
  if (multi.length) {
    warnings.push(`columns of repeats (×N) show the median of their repeats; a difference counts only when the repeats' ranges do not overlap too`);
  }
  return { baselineId: columns[0].id, columns, rows, distributions: distributions(sets, rows), warnings };
}

/** Builds the comparison of `runs` (at least one), a column each; the first is the baseline. See compareSets. */
export function compareRuns(runs: readonly RunFile[], opts: { slo?: GoodputSlo } = {}): CompareModel {
  if (runs.length === 0) throw new Error('compareRuns needs at least one run');
  return compareSets(runs.map((r) => [r]), opts);
}

/**
 * The columns to compare from what the command line named, in order: a run is a column; a repeat group
 * (`run --repeat N`) is one column of its repeats; a sweep group is one column per point (its repeats, if it was
 * swept with --repeat, together).
 */
export function columnSets(named: readonly ({ readonly kind: 'run'; readonly run: RunFile } | { readonly kind: 'group'; readonly runs: readonly RunFile[] })[]): RunSet[] {
  const sets: RunSet[] = [];
  for (const n of named) {
    if (n.kind === 'run') sets.push([n.run]);
    else if (n.runs[0]?.group?.kind === 'repeat') sets.push([...n.runs]);
    else {
      const byPoint = new Map<number, RunFile[]>();
      for (const r of n.runs) byPoint.set(r.group?.index ?? 0, [...(byPoint.get(r.group?.index ?? 0) ?? []), r]);
      sets.push(...[...byPoint.entries()].sort((a, b) => a[0] - b[0]).map(([, rs]) => rs));
    }
  }
  return sets;
}

/** E2E and TTFT box plot rows per column (a column of repeats pools their requests), with the p50 row's interval. */
function distributions(sets: readonly RunSet[], rows: readonly CompareRow[]): CompareDistribution[] {
  const of = (key: 'e2e' | 'ttft', label: string, metric: 'e2eMs' | 'ttftMs'): CompareDistribution => {
    const p50 = rows.find((r) => r.key === `${key}_p50`);
    return {
      key,
      label,
      rows: sets.map((s, i) => {
        const values: number[] = [];
        for (const r of s) for (const q of r.requests) if (!q.warmup && q.status === 'ok' && q[metric] !== null) values.push(q[metric]!);
        return boxPlotRow(String(i + 1), values, p50?.cells[i]?.ci95 ?? null);
      }),
    };
  };
  return [of('e2e', 'E2E', 'e2eMs'), of('ttft', 'TTFT', 'ttftMs')];
}
