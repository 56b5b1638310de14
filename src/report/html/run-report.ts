// The HTML report of one run: the header (preset, backend, model with its random-weights label, environment,
// workload), the summary table, E2E/TTFT/TPOT/ITL as histograms and CDFs, latency, throughput and the queue over
// the run's time, telemetry grouped by replica, the crops histogram, the per-replica table and the failures with
// their reasons. Every request is kept in the page's data; per-token times are summarised (token rates in time
// bins, the ITL distribution), which keeps a 10,000-request report at a few MB. Pure.
import { LATENCY_METRICS, type RequestRecord, type RunFile } from '../../engine/types.js';
import { cropsMean, METRIC_LABELS, modelLabel, pointLabel, runDurationS } from '../describe.js';
import { fmtCount, fmtDuration, fmtMs, fmtRate, sig3 } from '../format.js';
import { loadText, localTime, panScanText } from '../phrases.js';
import { binCounts, cdf, histogram, niceBinS, round2, round2OrNull, sortedFinite } from './distributions.js';
import { chartGrid, esc, section, table, type Cell } from './page.js';
import { OKABE_ITO, seriesStyle } from './palette.js';
import type { ChartSpec, RequestColumns } from './spec.js';
import { telemetryGroups, type ChartGroup } from './telemetry-charts.js';

/** Failed requests listed one by one (all are counted by reason, and all are in the page's data). */
export const FAILED_LISTED_MAX = 100;
/** Throughput bins: at most this many, and about this many completions per bin at least, so rates are not noise. */
const RATE_BINS_MAX = 60;
const COMPLETIONS_PER_BIN = 4;
/** The queue chart samples the run at most this many times. */
const QUEUE_SAMPLES_MAX = 300;

/** `bins` times from 0 in steps of `binS`, and the step. */
function timeGrid(endS: number, maxBins: number): { binS: number; x: number[] } {
  const binS = niceBinS(endS, maxBins);
  const bins = Math.max(1, Math.ceil(endS / binS));
  return { binS, x: Array.from({ length: bins }, (_, i) => round2(i * binS)) };
}

/** A step chart's series end at the last bin's end: its last value is repeated there. */
function closeSteps(x: readonly number[], binS: number, series: readonly number[][]): { x: number[]; series: number[][] } {
  return { x: [...x, round2(x.length * binS)], series: series.map((v) => [...v, v[v.length - 1]]) };
}

const measured = (run: RunFile) => run.requests.filter((r) => !r.warmup);
const completed = (run: RunFile) => measured(run).filter((r) => r.status === 'ok' && r.e2eMs !== null);

/** Every gap between consecutive output tokens of completed measured requests (the ITL samples). */
export function itlGaps(records: readonly RequestRecord[]): Float64Array {
  let n = 0;
  for (const r of records) n += Math.max(0, r.tokenTimesMs.length - 1);
  const out = new Float64Array(n);
  let k = 0;
  for (const r of records) for (let i = 1; i < r.tokenTimesMs.length; i++) out[k++] = r.tokenTimesMs[i] - r.tokenTimesMs[i - 1];
  return out.sort();
}

/** The per-request columns of the page's data (every request, warmup and failures included). */
export function requestColumns(run: RunFile): RequestColumns {
  const rs = run.requests;
  const errors: string[] = [];
  const errorIndex = new Map<string, number>();
  const errOf = (e: string | null) => {
    if (e === null) return null;
    if (!errorIndex.has(e)) errorIndex.set(e, errors.push(e) - 1);
    return errorIndex.get(e)!;
  };
  return {
    id: rs.map((r) => r.id),
    status: rs.map((r) => r.status),
    warmup: rs.map((r) => r.warmup),
    replica: rs.map((r) => r.replica),
    imageIndex: rs.map((r) => r.imageIndex),
    crops: rs.map((r) => r.crops),
    promptTokens: rs.map((r) => r.promptTokens),
    outputTokens: rs.map((r) => r.outputTokens),
    enqueuedAtMs: rs.map((r) => round2(r.enqueuedAtMs)),
    dispatchedAtMs: rs.map((r) => round2OrNull(r.dispatchedAtMs)),
    finishedAtMs: rs.map((r) => round2OrNull(r.finishedAtMs)),
    queueMs: rs.map((r) => round2OrNull(r.queueMs)),
    preprocessMs: rs.map((r) => round2OrNull(r.preprocessMs)),
    visionMs: rs.map((r) => round2OrNull(r.visionMs)),
    ttftMs: rs.map((r) => round2OrNull(r.ttftMs)),
    e2eMs: rs.map((r) => round2OrNull(r.e2eMs)),
    tpotMs: rs.map((r) => round2OrNull(r.tpotMs)),
    error: rs.map((r) => errOf(r.error)),
    errors,
  };
}

// ---------------------------------------------------------------------------------------------------- charts

/** A histogram and a CDF of one latency. */
function distributionCharts(key: string, name: string, sorted: Float64Array, color: string, what: string): ChartSpec[] {
  if (!sorted.length) return [];
  const h = histogram(sorted);
  const c = cdf(sorted);
  return [
    { id: `hist-${key}`, title: `${name}: histogram (ms, ${sorted.length} ${what})`, xLabel: 'ms', yLabel: what, x: h.x, series: [{ label: what, values: h.counts, kind: 'bars', color }], yRange: [0, null] },
    { id: `cdf-${key}`, title: `${name}: CDF (share at or below)`, xLabel: 'ms', yLabel: '% of ' + what, x: c.x, series: [{ label: `${name} CDF`, values: c.y, kind: 'line', color }], yRange: [0, 100] },
  ];
}

/** E2E, TTFT, TPOT over completed measured requests; ITL over their token gaps. */
export function latencyCharts(run: RunFile): ChartSpec[] {
  const ok = completed(run);
  return [
    ...distributionCharts('e2e', 'E2E latency', sortedFinite(ok.map((r) => r.e2eMs)), OKABE_ITO.blue, 'requests'),
    ...distributionCharts('ttft', 'TTFT', sortedFinite(ok.map((r) => r.ttftMs)), OKABE_ITO.vermillion, 'requests'),
    ...distributionCharts('tpot', 'TPOT', sortedFinite(ok.map((r) => r.tpotMs)), OKABE_ITO.bluishGreen, 'requests'),
    ...distributionCharts('itl', 'ITL', itlGaps(ok), OKABE_ITO.reddishPurple, 'token gaps'),
  ];
}

/** Latency of each request at its finish, completions and output tokens per second, and queue/in flight, over time. */
export function timelineCharts(run: RunFile): ChartSpec[] {
  const ok = completed(run)
    .filter((r) => r.finishedAtMs !== null)
    .sort((a, b) => a.finishedAtMs! - b.finishedAtMs!);
  const all = measured(run);
  if (!all.length) return [];
  const charts: ChartSpec[] = [];
  if (ok.length) {
    charts.push({
      id: 'time-latency',
      title: 'Latency of each request, at its finish (ms)',
      xLabel: 'time since start (s)',
      yLabel: 'ms',
      x: ok.map((r) => round2(r.finishedAtMs! / 1000)),
      series: [
        { label: 'E2E', values: ok.map((r) => round2OrNull(r.e2eMs)), kind: 'points', pointSize: 4, ...seriesStyle(0) },
        { label: 'TTFT', values: ok.map((r) => round2OrNull(r.ttftMs)), kind: 'points', pointSize: 4, hollow: true, ...seriesStyle(1) },
      ],
      yRange: [0, null],
    });
  }
  const endMs = Math.max(...all.map((r) => r.finishedAtMs ?? r.dispatchedAtMs ?? r.enqueuedAtMs));
  const { binS, x } = timeGrid(endMs / 1000, Math.max(5, Math.min(RATE_BINS_MAX, Math.round(ok.length / COMPLETIONS_PER_BIN))));
  const bins = x.length;
  const perS = (counts: number[]) => counts.map((c) => round2(c / binS));
  const done = binCounts(ok.map((r) => r.finishedAtMs! / 1000), binS, bins);
  // Per-token data, summarised: each output token's time (dispatch + its offset) counted in its bin.
  const tokenTimes = function* () {
    for (const r of ok) if (r.dispatchedAtMs !== null) for (const t of r.tokenTimesMs) yield (r.dispatchedAtMs + t) / 1000;
  };
  const tokens = binCounts(tokenTimes(), binS, bins);
  const rates = closeSteps(x, binS, [perS(done), perS(tokens)]);
  charts.push({
    id: 'time-throughput',
    title: `Throughput over the run (per ${sig3(binS)} s bin)`,
    xLabel: 'time since start (s)',
    yLabel: 'req/s',
    y2Label: 'tok/s',
    x: rates.x,
    series: [
      { label: 'completed (req/s)', values: rates.series[0], kind: 'step', ...seriesStyle(0) },
      { label: 'output tokens (tok/s)', values: rates.series[1], kind: 'step', axis: 'y2', ...seriesStyle(1) },
    ],
    yRange: [0, null],
    y2Range: [0, null],
  });
  // Queued (enqueued, not yet dispatched) and in flight (dispatched, not finished) at each bin's start.
  // Each as (entered by t) - (left by t), from sorted times: a request leaves the queue when dispatched (or when it
  // ends undispatched), and leaves flight when it finishes.
  const atOrBefore = (sorted: Float64Array) => {
    let k = 0;
    return (t: number) => {
      while (k < sorted.length && sorted[k] <= t) k++;
      return k;
    };
  };
  const enq = atOrBefore(sortedFinite(all.map((r) => r.enqueuedAtMs / 1000)));
  const deq = atOrBefore(sortedFinite(all.map((r) => (r.dispatchedAtMs ?? r.finishedAtMs ?? Infinity) / 1000)));
  const disp = atOrBefore(sortedFinite(all.map((r) => (r.dispatchedAtMs === null ? null : r.dispatchedAtMs / 1000))));
  const fin = atOrBefore(sortedFinite(all.map((r) => (r.dispatchedAtMs === null || r.finishedAtMs === null ? null : r.finishedAtMs / 1000))));
  const queued: number[] = [];
  const inFlight: number[] = [];
  const q = timeGrid(endMs / 1000, QUEUE_SAMPLES_MAX);
  for (const t of q.x) {
    queued.push(enq(t) - deq(t));
    inFlight.push(disp(t) - fin(t));
  }
  const occupancy = closeSteps(q.x, q.binS, [queued, inFlight]);
  charts.push({
    id: 'time-queue',
    title: 'Requests queued and in flight',
    xLabel: 'time since start (s)',
    yLabel: 'requests',
    x: occupancy.x,
    series: [
      { label: 'queued', values: occupancy.series[0], kind: 'step', ...seriesStyle(3) },
      { label: 'in flight', values: occupancy.series[1], kind: 'step', ...seriesStyle(2) },
    ],
    yRange: [0, null],
  });
  return charts;
}

export function cropsChart(run: RunFile): ChartSpec[] {
  const entries = Object.entries(run.summary.cropsHistogram)
    .map(([k, n]) => [Number(k), n] as const)
    .filter(([k]) => Number.isFinite(k))
    .sort((a, b) => a[0] - b[0]);
  if (!entries.length) return [];
  return [{ id: 'crops', title: 'Crops per request (completed measured requests)', xLabel: 'crops', yLabel: 'requests', x: entries.map(([k]) => k), series: [{ label: 'requests', values: entries.map(([, n]) => n), kind: 'bars', color: OKABE_ITO.bluishGreen }], yRange: [0, null], height: 180 }];
}

// ---------------------------------------------------------------------------------------------------- HTML

const fact = (k: string, v: string) => `<div><dt>${esc(k)}</dt><dd>${v}</dd></div>`;

/** The environment in one line: host, CPU, memory, GPUs, Node and gemma-bench versions. */
export function environmentCapsule(run: RunFile): string {
  const e = run.environment;
  const gpus = e.gpus.length ? e.gpus.map((g) => `${g.index}: ${g.name}${g.memTotalMiB ? ` ${sig3(g.memTotalMiB / 1024, 1)} GiB` : ''}`).join('; ') : 'no GPU';
  const driver = e.gpus.find((g) => g.driverVersion)?.driverVersion;
  return `${e.hostname} (${e.platform}/${e.arch}) · ${e.cpuModel}, ${e.cpuCores} cores, ${sig3(e.memoryGiB, 1)} GiB · ${gpus}${driver ? ` (driver ${driver})` : ''} · Node ${e.node} · gemma-bench ${e.gemmaBench.version}${e.gemmaBench.gitCommit ? ` (${e.gemmaBench.gitCommit.slice(0, 12)})` : ''}`;
}

function header(run: RunFile): string {
  const st = run.settings;
  const w = run.workload;
  const dur = runDurationS(run);
  const parts: string[] = [];
  parts.push(`<h1>gemma-bench run: ${esc(run.name)}</h1>`);
  parts.push(`<p class="sub"><span class="mono">${esc(run.id)}</span> · ${esc(run.status)} · started ${esc(localTime(run.startedAt))}${dur === null ? '' : `, took ${esc(fmtDuration(dur))}`}</p>`);
  if (run.backend.model.randomWeights) parts.push(`<p class="warn"><strong>Random weights: speed only.</strong> The model has random weights: the timings are real, the generated text is not.</p>`);
  if (run.status !== 'completed') parts.push(`<p class="warn">This run is <strong>${esc(run.status)}</strong>: its numbers cover only what ran.</p>`);
  const replicas = run.backend.replicas.map((r) => `r${r.replica}: ${r.devices.join(', ') || '-'}`).join(' · ') || 'no replicas';
  const facts = [
    fact('Preset', `${esc(run.preset.name)}; pan-and-scan ${esc(panScanText(run.preset.panScan, 'long'))}`),
    fact('Load', esc(`${loadText(st, 'long')}; ${st.requests !== null ? `${st.requests} measured + ${st.warmup} warmup requests` : `for ${st.durationS ?? '-'} s + ${st.warmup} warmup`}`)),
    fact('Batching', esc(`batch size ${st.batchSize}, ${st.batching === 'crop' ? 'grouped by crop count' : 'arrival order'}; max ${st.maxNewTokens} new tokens, greedy; seed ${st.seed}`)),
    fact('Backend', esc(`${run.backend.name}, ${run.backend.replicas.length} replica(s): ${replicas}`)),
    fact('Model', esc(modelLabel(run)) + (Object.keys(run.backend.model.details).length ? ` <span class="muted">(${esc(Object.entries(run.backend.model.details).map(([k, v]) => `${k} ${v}`).join(', '))})</span>` : '')),
    fact('Workload', esc(`${w.source}: ${w.images.length} image(s) x ${w.prompts.length} prompt(s)${w.skipped ? `, ${w.skipped} skipped` : ''}`) + ` <span class="muted mono">set ${esc(w.setHash.slice(0, 12))}</span>`),
    fact('Environment', esc(environmentCapsule(run))),
    ...(run.group ? [fact('Sweep', esc(`${run.group.id}, point ${run.group.index + 1}/${run.group.total}: ${pointLabel(run.group.point)}`))] : []),
  ];
  parts.push(`<dl class="facts">\n${facts.join('\n')}\n</dl>`);
  return parts.join('\n');
}

function summarySection(run: RunFile): string {
  const s = run.summary;
  const lines = [
    `<p>${esc(`${s.completed} completed, ${s.failed} failed, ${s.cancelled} cancelled, ${s.warmup} warmup (not in the statistics) over ${fmtDuration(s.measuredWallS)} measured`)}<br>`,
    `${esc(`Throughput ${fmtRate(s.throughputReqS, 'req/s')} · output ${fmtRate(s.outputTokensPerS, 'tok/s')} · prompt ${fmtRate(s.promptTokensPerS, 'tok/s')} · per request (mean) ${fmtRate(s.tokensPerSMean, 'tok/s')}`)}</p>`,
  ];
  const rows = LATENCY_METRICS.map((m) => {
    const x = s.metrics[m];
    return [METRIC_LABELS[m], fmtCount(x.count), fmtMs(x.p50), fmtMs(x.p90), fmtMs(x.p95), fmtMs(x.p99), fmtMs(x.mean), fmtMs(x.min), fmtMs(x.max)];
  });
  const note = '<p class="muted">Percentiles from HDR histograms (3 significant digits); mean, min and max exact. E2E includes the queue; TTFT starts at dispatch; TPOT is per request, ITL pools every token gap.</p>';
  return section('summary', 'Summary', [...lines, table(['metric', 'count', 'p50', 'p90', 'p95', 'p99', 'mean', 'min', 'max'], rows), note].join('\n'));
}

function groupsHtml(groups: readonly ChartGroup[]): string {
  return groups.map((g) => `${g.heading ? `<h3>${esc(g.heading)}</h3>\n` : ''}${chartGrid(g.charts, '')}`).join('\n');
}

function perReplicaSection(run: RunFile): string {
  const reps = run.summary.perReplica;
  if (!reps.length) return '';
  const rows = reps.map((r) => [`r${r.replica}`, r.devices.join(', '), r.completed, r.failed, fmtRate(r.throughputReqS, 'req/s'), fmtRate(r.outputTokensPerS, 'tok/s'), fmtMs(r.e2eMs.p50), fmtMs(r.e2eMs.p95), fmtMs(r.ttftMs.p50), r.died ? `died: ${r.died}` : 'ok'] as Cell[]);
  return section('replicas', 'Per replica', table(['replica', 'devices', 'completed', 'failed', 'throughput', 'output', 'E2E p50', 'E2E p95', 'TTFT p50', 'state'], rows, { numericFrom: 2 }));
}

function failuresSection(run: RunFile): string {
  const failed = run.requests.filter((r) => r.status === 'failed' && !r.warmup);
  const body: string[] = [];
  if (run.notes.length) body.push(`<ul>\n${run.notes.map((n) => `<li>${esc(n)}</li>`).join('\n')}\n</ul>`);
  if (failed.length) {
    const byReason = new Map<string, RequestRecord[]>();
    for (const f of failed) {
      const k = f.error ?? 'no error message';
      byReason.set(k, [...(byReason.get(k) ?? []), f]);
    }
    const reasons = [...byReason.entries()].sort((a, b) => b[1].length - a[1].length);
    body.push(`<p>${failed.length} measured request(s) failed, for ${reasons.length} reason(s):</p>`);
    body.push(table(['reason', 'requests', 'ids'], reasons.map(([k, rs]) => [k, rs.length, rs.slice(0, 10).map((r) => r.id).join(', ') + (rs.length > 10 ? ', …' : '')]), { numericFrom: 1 }));
    const shown = failed.slice(0, FAILED_LISTED_MAX);
    const img = (i: number) => run.workload.images[i]?.path ?? `image ${i}`;
    body.push(`<div class="table-scroll">${table(['request', 'replica', 'image', 'crops', 'reason'], shown.map((f) => [f.id, f.replica === null ? '-' : `r${f.replica}`, img(f.imageIndex), f.crops, f.error ?? 'no error message']), { numericFrom: 99 })}</div>`);
    if (failed.length > shown.length) body.push(`<p class="muted">… and ${failed.length - shown.length} more (every request, with its reason, is in this page's data and in the JSON export).</p>`);
  }
  if (!body.length) return section('failures', 'Failures and notes', '<p class="muted">No failed request and no notes.</p>');
  return section('failures', 'Failures and notes', body.join('\n'));
}

export interface RunReport {
  readonly title: string;
  readonly body: string;
  readonly charts: ChartSpec[];
  readonly requests: RequestColumns;
}

/** The run report's body and charts (page.ts wraps them into the document). */
export function runReport(run: RunFile): RunReport {
  const latency = latencyCharts(run);
  const timeline = timelineCharts(run);
  const tel = telemetryGroups(run);
  const crops = cropsChart(run);
  const telemetryNote = run.telemetry.source === null && !tel.gpus.length ? `<p class="muted">No telemetry was recorded${run.telemetry.fallbackReason ? ` (${esc(run.telemetry.fallbackReason)})` : ''}.</p>` : run.telemetry.fallbackReason ? `<p class="muted">${esc(`Telemetry: ${run.telemetry.source}; ${run.telemetry.fallbackReason}`)}</p>` : '';
  const w = run.workload;
  const cm = cropsMean(run.summary);
  const body = [
    header(run),
    summarySection(run),
    section('distributions', 'Latency distributions', chartGrid(latency, 'No measured request completed: there is no latency to show.')),
    section('timeline', "Over the run's time", `<p class="muted">Measured requests only (warmup excluded); time from the run's start.</p>\n${chartGrid(timeline, 'No measured request ran.')}`),
    section('telemetry', 'Telemetry', `${telemetryNote}\n${groupsHtml(tel.gpus)}`),
    ...(tel.servers.length ? [section('servers', 'Servers', groupsHtml(tel.servers))] : []),
    section('workload', 'Workload', `<p>${esc(`${w.source}: ${w.images.length} image(s), ${w.prompts.length} prompt(s); crops per completed request: mean ${cm === null ? '-' : sig3(cm, 2)}`)}</p>\n${chartGrid(crops, 'No completed request to count crops of.')}`),
    perReplicaSection(run),
    failuresSection(run),
  ]
    .filter((s) => s !== '')
    .join('\n');
  const charts = [...latency, ...timeline, ...tel.gpus.flatMap((g) => g.charts), ...tel.servers.flatMap((g) => g.charts), ...crops];
  return { title: `gemma-bench run ${run.name} (${run.id})`, body, charts, requests: requestColumns(run) };
}
