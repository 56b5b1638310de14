// Exports of saved runs (DESIGN.md §7): the run file's JSON text, CSV (one row per run or sweep point) and a
// Markdown report, each with the run's 95% intervals (src/report/intervals.ts, computed on export). Pure: strings
// in, strings out; the commands do the writing.
import { LATENCY_METRICS, type LatencyMetric, type MetricSummary, type RunFile } from '../engine/types.js';
import { intervalTable, notesWithSteady, rateIntervalsText, runIntervals, type RunIntervals } from './intervals.js';
import { LATENCY_STATISTICS } from './stats/types.js';
import { fmtDuration, sig3 } from './format.js';
import { cropsMean, METRIC_LABELS, modelLabel, pointLabel, RANDOM_WEIGHTS_LABEL, runDurationS } from './describe.js';
import { loadText, panScanText, PEAK_MEMORY_EXPLAINED } from './phrases.js';
import { rooflineDetails } from './roofline.js';

// ---------------------------------------------------------------------------------------------------- JSON

const JSON_PRIMITIVE = String.raw`(?:-?\d[\d.eE+-]*|null|true|false|"(?:[^"\\\n]|\\.)*")`;
/** A pretty-printed array holding only primitives: JSON.stringify puts real newlines only between tokens. */
const PRIMITIVE_ARRAY = new RegExp(String.raw`\[\n[ ]+(${JSON_PRIMITIVE}(?:,\n[ ]+${JSON_PRIMITIVE})*)\n[ ]*\]`, 'g');

/**
 * The run as JSON text: indented objects, but arrays of numbers and strings on one line, so a run with thousands
 * of token timestamps stays a few MB and diffs readably. JSON.parse(runToJson(r)) deep-equals r.
 */
export function runToJson(run: RunFile): string {
  return JSON.stringify(run, null, 2).replace(PRIMITIVE_ARRAY, (_m, inner: string) => `[${inner.replace(/,\n[ ]+/g, ', ')}]`) + '\n';
}

/**
 * The JSON export of a run: the run file as saved, plus `intervals` (its 95% intervals, computed on export: they
 * are never saved, see intervals.ts). Laid out like runToJson.
 */
export function runExportJson(run: RunFile): string {
  const withIntervals = { ...run, intervals: cachedIntervals(run) };
  return runToJson(withIntervals);
}

/** Several runs' JSON exports as one array. */
export function runsExportJson(runs: readonly RunFile[]): string {
  if (runs.length === 0) return '[]\n';
  const items = runs.map((r) => runExportJson(r).trimEnd().replace(/\n/g, '\n  '));
  return `[\n  ${items.join(',\n  ')}\n]\n`;
}

/** Several runs as one JSON array, laid out like runToJson. */
export function runsToJson(runs: readonly RunFile[]): string {
  if (runs.length === 0) return '[]\n';
  const items = runs.map((r) => runToJson(r).trimEnd().replace(/\n/g, '\n  '));
  return `[\n  ${items.join(',\n  ')}\n]\n`;
}

// ---------------------------------------------------------------------------------------------------- CSV

type Cell = string | number | boolean | null;

/** Milliseconds and rates are written rounded to 1e-3 (a microsecond for ms), which is below HDR precision. */
const CSV_DECIMALS = 3;

function csvNum(v: number | null | undefined): Cell {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  return Number(v.toFixed(CSV_DECIMALS));
}

/** RFC 4180 quoting: fields with a comma, quote, CR/LF or edge spaces are quoted, quotes doubled; null is empty. */
export function csvField(v: Cell): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const CSV_COLUMN_DEFS = {
  run_id: (r) => r.id,
  name: (r) => r.name,
  status: (r) => r.status,
  preset: (r) => r.preset.name,
  backend: (r) => r.backend.name,
  model: (r) => modelLabel(r),
  min_ratio: (r) => r.preset.panScan.minRatioToActivate,
  max_crops: (r) => r.preset.panScan.maxNumCrops,
  min_crop_size: (r) => r.preset.panScan.minCropSize,
  pan_and_scan: (r) => r.preset.panScan.enabled,
  requests_completed: (r) => r.summary.completed,
  requests_failed: (r) => r.summary.failed,
  latency_p50_ms: (r) => csvNum(r.summary.metrics.e2eMs.p50),
  latency_p90_ms: (r) => csvNum(r.summary.metrics.e2eMs.p90),
  latency_p95_ms: (r) => csvNum(r.summary.metrics.e2eMs.p95),
  latency_p99_ms: (r) => csvNum(r.summary.metrics.e2eMs.p99),
  ttft_p50_ms: (r) => csvNum(r.summary.metrics.ttftMs.p50),
  ttft_p95_ms: (r) => csvNum(r.summary.metrics.ttftMs.p95),
  tpot_p50_ms: (r) => csvNum(r.summary.metrics.tpotMs.p50),
  itl_p50_ms: (r) => csvNum(r.summary.metrics.itlMs.p50),
  throughput_req_s: (r) => csvNum(r.summary.throughputReqS),
  output_tokens_per_s: (r) => csvNum(r.summary.outputTokensPerS),
  tokens_per_s_mean: (r) => csvNum(r.summary.tokensPerSMean),
  // Beyond the required set: enough to plot a sweep without opening the run files.
  requests_cancelled: (r) => r.summary.cancelled,
  warmup: (r) => r.summary.warmup,
  latency_mean_ms: (r) => csvNum(r.summary.metrics.e2eMs.mean),
  ttft_p99_ms: (r) => csvNum(r.summary.metrics.ttftMs.p99),
  tpot_p95_ms: (r) => csvNum(r.summary.metrics.tpotMs.p95),
  itl_p95_ms: (r) => csvNum(r.summary.metrics.itlMs.p95),
  queue_p50_ms: (r) => csvNum(r.summary.metrics.queueMs.p50),
  preprocess_p50_ms: (r) => csvNum(r.summary.metrics.preprocessMs.p50),
  vision_p50_ms: (r) => csvNum(r.summary.metrics.visionMs.p50),
  prompt_tokens_per_s: (r) => csvNum(r.summary.promptTokensPerS),
  crops_mean: (r) => csvNum(cropsMean(r.summary)),
  measured_wall_s: (r) => csvNum(r.summary.measuredWallS),
  max_new_tokens: (r) => r.settings.maxNewTokens,
  concurrency: (r) => r.settings.concurrency,
  rate_rps: (r) => r.settings.rateRps,
  batch_size: (r) => r.settings.batchSize,
  replicas: (r) => r.settings.replicas,
  random_weights: (r) => r.backend.model.randomWeights,
  workload_set_hash: (r) => r.workload.setHash,
  started_at: (r) => r.startedAt,
  group_id: (r) => r.group?.id ?? null,
  sweep_index: (r) => r.group?.index ?? null,
  sweep_point: (r) => (r.group ? pointLabel(r.group.point) : null),
} satisfies Record<string, (r: RunFile) => Cell>;

/** The CSV names of the latency metrics, as the columns above already use them (E2E is "latency"). */
const CSV_METRIC_PREFIX: Readonly<Record<LatencyMetric, string>> = { queueMs: 'queue', preprocessMs: 'preprocess', visionMs: 'vision', ttftMs: 'ttft', e2eMs: 'latency', tpotMs: 'tpot', itlMs: 'itl' };

/**
 * The 95% intervals (src/report/intervals.ts), after every column above: per latency metric and statistic its
 * ends (`latency_p50_ci95_lo_ms`, `latency_p50_ci95_hi_ms`, ...), the rates' ends, and whether the run was steady
 * (empty when too short to tell).
 */
function intervalColumnDefs(of: (r: RunFile) => RunIntervals): Record<string, (r: RunFile) => Cell> {
  const defs: Record<string, (r: RunFile) => Cell> = {};
  for (const m of LATENCY_METRICS) {
    for (const st of LATENCY_STATISTICS) {
      defs[`${CSV_METRIC_PREFIX[m]}_${st}_ci95_lo_ms`] = (r) => csvNum(of(r).latency[m]?.[st][0]);
      defs[`${CSV_METRIC_PREFIX[m]}_${st}_ci95_hi_ms`] = (r) => csvNum(of(r).latency[m]?.[st][1]);
    }
  }
  for (const [name, key] of [['throughput_req_s', 'throughputReqS'], ['output_tokens_per_s', 'outputTokensPerS'], ['tokens_per_s_mean', 'tokensPerSMean']] as const) {
    defs[`${name}_ci95_lo`] = (r) => csvNum(of(r)[key]?.[0]);
    defs[`${name}_ci95_hi`] = (r) => csvNum(of(r)[key]?.[1]);
  }
  defs.steady = (r) => of(r).steady?.steady ?? null;
  return defs;
}

// The intervals of a run are computed once per export, however many columns read them.
const intervalCache = new WeakMap<RunFile, RunIntervals>();
const cachedIntervals = (r: RunFile): RunIntervals => intervalCache.get(r) ?? intervalCache.set(r, runIntervals(r)).get(r)!;
const ALL_CSV_DEFS: Readonly<Record<string, (r: RunFile) => Cell>> = { ...CSV_COLUMN_DEFS, ...intervalColumnDefs(cachedIntervals) };

export type CsvColumn = string;
/** The CSV header, in order. Stable: new columns are only ever appended. */
export const CSV_COLUMNS: readonly CsvColumn[] = Object.keys(ALL_CSV_DEFS);

/** One row per run (a sweep is just its runs, each with group_id / sweep_point). Header first, LF line ends. */
export function runsToCsv(runs: readonly RunFile[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of runs) lines.push(CSV_COLUMNS.map((c) => csvField(ALL_CSV_DEFS[c](r))).join(','));
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------- Markdown

/** Escapes a value for a Markdown table cell. */
function md(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined || v === '') return '-';
  return String(v).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function mdTable(header: readonly string[], rows: readonly (readonly (string | number | boolean | null | undefined)[])[], rightFrom = 1): string[] {
  const sep = header.map((_, i) => (i >= rightFrom ? '---:' : '---'));
  return [`| ${header.map(md).join(' | ')} |`, `| ${sep.join(' | ')} |`, ...rows.map((r) => `| ${r.map(md).join(' | ')} |`)];
}

const msCell = (v: number | null): string | null => (v === null ? null : sig3(v));
const rateCell = (v: number | null): string | null => (v === null ? null : sig3(v, 2));

function metricRow(label: string, s: MetricSummary): (string | number | null)[] {
  return [label, s.count, msCell(s.p50), msCell(s.p90), msCell(s.p95), msCell(s.p99), msCell(s.mean), msCell(s.min), msCell(s.max)];
}

type MdCell = string | number | boolean | null | undefined;

/** The title, the facts table (id, status, times, model, backend, preset, sweep point) and the random-weights warning. */
export function mdHeader(run: RunFile): string[] {
  const dur = runDurationS(run);
  const facts: MdCell[][] = [
    ['Run id', `\`${run.id}\``],
    ['Status', run.status],
    ['Started', run.startedAt],
    ['Ended', `${run.endedAt}${dur === null ? '' : ` (${fmtDuration(dur)})`}`],
    ['Model', modelLabel(run)],
    ['Backend', `${run.backend.name}, ${run.backend.replicas.length} replica(s)`],
    ['Preset', run.preset.name],
    ...(run.group ? [['Sweep', `${run.group.id}, point ${run.group.index + 1}/${run.group.total}: ${pointLabel(run.group.point)}`]] : []),
  ];
  const out = [`# gemma-bench run: ${run.name}`, '', ...mdTable(['Field', 'Value'], facts, 2), ''];
  if (run.backend.model.randomWeights) out.push(`> **${RANDOM_WEIGHTS_LABEL}.** The model has random weights: timings are real, the generated text is not.`, '');
  return out;
}

/** ## Settings: pan-and-scan, load, requests, batching, generation, replicas, seed and the model's details. */
export function mdSettings(run: RunFile): string[] {
  const st = run.settings;
  const rows: MdCell[][] = [
    ['Pan-and-scan', panScanText(run.preset.panScan, 'long')],
    ['Load', loadText(st, 'long')],
    ['Requests', st.requests !== null ? `${st.requests} measured + ${st.warmup} warmup` : `for ${st.durationS ?? '-'} s + ${st.warmup} warmup`],
    ['Batching', `batch size ${st.batchSize}, ${st.batching === 'crop' ? 'grouped by crop count' : 'arrival order'}`],
    ['Generation', `max ${st.maxNewTokens} new tokens, greedy`],
    ['Replicas', st.replicas],
    ['Seed', st.seed],
    ...Object.entries(run.backend.model.details).map(([k, v]) => [`Model ${k}`, v] as [string, string | number | boolean | null]),
  ];
  return ['## Settings', '', ...mdTable(['Setting', 'Value'], rows, 2), ''];
}

/** ## Workload: where the images came from, how many, the set's hash and the completed requests by crop count. */
export function mdWorkload(run: RunFile): string[] {
  const w = run.workload;
  const s = run.summary;
  const out = ['## Workload', '', `- Source: ${w.source}`, `- Images: ${w.images.length}, prompts: ${w.prompts.length}${w.skipped ? `, skipped (not images): ${w.skipped}` : ''}`, `- Image set hash: \`${w.setHash}\``];
  const crops = Object.entries(s.cropsHistogram);
  if (crops.length) out.push(`- Completed requests by crop count: ${crops.map(([k, n]) => `${k} crops: ${n}`).join(', ')} (mean ${sig3(cropsMean(s) ?? 0)})`);
  out.push('');
  return out;
}

/** ## Summary: request counts, wall time, throughput and the latency table. */
export function mdSummary(run: RunFile): string[] {
  const s = run.summary;
  return [
    '## Summary',
    '',
    `- Requests: ${s.completed} completed, ${s.failed} failed, ${s.cancelled} cancelled, ${s.warmup} warmup (not in the statistics)`,
    `- Measured wall time: ${fmtDuration(s.measuredWallS)}`,
    `- Throughput: ${rateCell(s.throughputReqS) ?? '-'} req/s, ${rateCell(s.outputTokensPerS) ?? '-'} output tok/s, ${rateCell(s.promptTokensPerS) ?? '-'} prompt tok/s`,
    `- Per-request output rate (mean): ${rateCell(s.tokensPerSMean) ?? '-'} tok/s`,
    ...rooflineDetails(s.roofline).map((l, i) => (i === 0 ? `- Roofline (% of the hardware's floor): ${l}` : `  - ${l}`)),
    '',
    ...mdTable(['Metric (ms)', 'count', 'p50', 'p90', 'p95', 'p99', 'mean', 'min', 'max'], LATENCY_METRICS.map((m) => metricRow(METRIC_LABELS[m], s.metrics[m]))),
    '',
  ];
}

/** ## 95% intervals: of every latency statistic (ms) and of the rates, from the run's own requests. */
export function mdIntervals(run: RunFile): string[] {
  const iv = cachedIntervals(run);
  if (iv.requests === 0) return [];
  const [head, ...rows] = intervalTable(iv);
  return [
    '## 95% intervals',
    '',
    `From ${iv.requests} completed requests: a percentile bootstrap seeded by the run id (${iv.resamples} resamples), so the same every time.`,
    '',
    ...mdTable(['Metric (ms)', ...head.slice(1).map((h) => h.toLowerCase())], rows),
    '',
    `- Rates: ${rateIntervalsText(iv)}`,
    '',
  ];
}

/** ## Per replica: one row per replica (devices, counts, rates, latencies, died or ok); nothing without replicas. */
export function mdPerReplica(run: RunFile): string[] {
  const reps = run.summary.perReplica;
  if (!reps.length) return [];
  const header = ['Replica', 'Devices', 'Completed', 'Failed', 'req/s', 'output tok/s', 'E2E p50 (ms)', 'E2E p95 (ms)', 'TTFT p50 (ms)', 'State'];
  const rows = reps.map((r) => [
    r.replica,
    r.devices.join(', '),
    r.completed,
    r.failed,
    rateCell(r.throughputReqS),
    rateCell(r.outputTokensPerS),
    msCell(r.e2eMs.p50),
    msCell(r.e2eMs.p95),
    msCell(r.ttftMs.p50),
    r.died ? `died: ${r.died}` : 'ok',
  ]);
  return ['## Per replica', '', ...mdTable(header, rows, 2), ''];
}

/** ## Peak GPU memory: per replica and GPU, where the backend measured it (transformers); nothing otherwise. */
export function mdPeakMemory(run: RunFile): string[] {
  const rows = run.summary.perReplica.flatMap((r) => (r.peakMemory ?? []).map((p) => [r.replica, /^\d+$/.test(p.gpu) ? `GPU ${p.gpu}` : p.gpu, (p.allocatedMiB / 1024).toFixed(2), p.reservedMiB === null ? null : (p.reservedMiB / 1024).toFixed(2)]));
  if (!rows.length) return [];
  return ['## Peak GPU memory', '', `Per replica and GPU: ${PEAK_MEMORY_EXPLAINED}.`, '', ...mdTable(['Replica', 'GPU', 'Allocated (GiB)', 'Reserved (GiB)'], rows, 2), ''];
}

/** Failed measured requests listed in the notes at most (the JSON export has them all). */
export const MD_FAILED_SHOWN_MAX = 10;

/** ## Notes: the run's notes and its failed measured requests (the first ten); nothing when there are none. */
export function mdNotes(run: RunFile): string[] {
  const failedReqs = run.requests.filter((r) => r.status === 'failed' && !r.warmup);
  const notes = notesWithSteady(run, cachedIntervals(run));
  if (!notes.length && !failedReqs.length) return [];
  const out = ['## Notes', ''];
  for (const n of notes) out.push(`- ${n.replace(/\r?\n/g, ' ')}`);
  const shown = failedReqs.slice(0, MD_FAILED_SHOWN_MAX);
  for (const f of shown) out.push(`- Request ${f.id} failed: ${(f.error ?? 'no error message').replace(/\r?\n/g, ' ')}`);
  if (failedReqs.length > shown.length) out.push(`- ... and ${failedReqs.length - shown.length} more failed requests (see the JSON export)`);
  out.push('');
  return out;
}

/** ## Environment: host, CPU, memory, GPUs, Node and gemma-bench versions (the report's last section). */
export function mdEnvironment(run: RunFile): string[] {
  const e = run.environment;
  return [
    '## Environment',
    '',
    `- Host: ${e.hostname} (${e.platform}/${e.arch}), ${e.cpuModel}, ${e.cpuCores} cores, ${sig3(e.memoryGiB, 1)} GiB`,
    `- GPUs: ${e.gpus.length ? e.gpus.map((g) => `${g.index}: ${g.name}${g.memTotalMiB ? ` (${g.memTotalMiB} MiB)` : ''}`).join('; ') : 'none'}`,
    `- Node ${e.node}, gemma-bench ${e.gemmaBench.version}${e.gemmaBench.gitCommit ? ` (${e.gemmaBench.gitCommit.slice(0, 12)})` : ''}`,
  ];
}

/** The report's sections, in order; each returns its lines (an empty list leaves the section out). */
export const MARKDOWN_SECTIONS: readonly ((run: RunFile) => string[])[] = [mdHeader, mdSettings, mdWorkload, mdSummary, mdIntervals, mdPerReplica, mdPeakMemory, mdNotes, mdEnvironment];

/** A readable report of one run: what was run, on what, the latency table, per replica, notes. */
export function runToMarkdown(run: RunFile): string {
  return MARKDOWN_SECTIONS.flatMap((section) => section(run)).join('\n') + '\n';
}
