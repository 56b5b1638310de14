import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunFile } from '../../../src/engine/types.js';
import { compareRuns } from '../../../src/report/compare.js';
import { paretoFrontier } from '../../../src/report/frontier.js';
import { compareReportHtml, loadChartLibrary, runReportHtml, runsToHtml } from '../../../src/report/html/index.js';
import { SERIES_COLORS } from '../../../src/report/html/palette.js';
import { timelineCharts } from '../../../src/report/html/run-report.js';
import type { ReportData } from '../../../src/report/html/spec.js';
import { fakeRun } from '../../helpers/fake-run.js';
import { fakeSweep, withGpuTelemetry } from '../../helpers/report-runs.js';

const LIB = loadChartLibrary();
const MB = 1024 * 1024;

/** The JSON the page carries. */
function dataOf(html: string): ReportData {
  const m = /<script type="application\/json" id="gb-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'the page has its data');
  return JSON.parse(m[1]) as ReportData;
}

/** Nothing in the page can load from elsewhere: no remote URL in an attribute or stylesheet, a CSP that forbids it. */
function assertSelfContained(html: string): void {
  assert.doesNotMatch(html, /\b(?:src|href|action|poster|data)\s*=\s*["']?(?:https?:|\/\/)/i);
  assert.doesNotMatch(html, /url\(\s*["']?(?:https?:|\/\/)/i);
  assert.doesNotMatch(html, /@import/i);
  assert.doesNotMatch(html, /<(?:link[^>]+rel=["']?stylesheet|iframe|object|embed|img)\b/i);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'none'/);
  // The chart library itself is in the page, as installed.
  assert.ok(html.includes(LIB.js.slice(0, 2000)) && html.includes(LIB.js.slice(-2000)), 'uPlot is inlined');
}

test('the chart library is uPlot, read from the installed package, small', () => {
  assert.equal(LIB.name, 'uPlot');
  assert.match(LIB.version, /^1\.6\./);
  assert.ok(LIB.js.length > 30_000 && LIB.js.length < 80_000, `uPlot minified is ${LIB.js.length} bytes`);
  assert.match(LIB.css, /\.uplot/);
  assert.doesNotMatch(LIB.js, /<\/script/i);
});

test('run report: self-contained; header, summary, every chart, per replica, failures with their reasons', () => {
  const run = withGpuTelemetry(fakeRun({ requests: 60, failed: 3, replicas: 2, notes: ['replica 1 died: worker exited'] }));
  const html = runReportHtml(run, LIB);
  assertSelfContained(html);
  assert.match(html, /<title>gemma-bench run balanced \(20261125-142233-balanced-/);
  assert.match(html, /<strong>Random weights: speed only\.<\/strong>/);
  assert.match(html, /gemma3-tiny, random weights: speed only/);
  assert.match(html, /pan-and-scan on: min ratio 2, max crops 6, min crop size 448 px/);
  assert.match(html, /testbox \(linux\/x64\) · Test CPU @ 3\.0GHz, 16 cores/);
  assert.match(html, /synthetic:1:3: 3 image\(s\) x 1 prompt\(s\)/);
  for (const h of ['Summary', 'Latency distributions', "Over the run&#39;s time", 'Telemetry', 'Workload', 'Per replica', 'Failures and notes']) assert.ok(html.includes(`<h2>${h}</h2>`), h);
  assert.match(html, /<td>E2E latency<\/td><td class="num">57<\/td>/);
  const reasons = [...new Set(run.requests.filter((r) => r.status === 'failed').map((r) => r.error!))];
  assert.match(html, new RegExp(`<p>3 measured request\\(s\\) failed, for ${reasons.length} reason\\(s\\):</p>`));
  assert.match(html, /<td>replica \d: worker exited with code 137, &quot;out of memory&quot;<\/td><td class="num">\d<\/td>/);
  assert.match(html, /<li>replica 1 died: worker exited<\/li>/);
  const data = dataOf(html);
  assert.equal(data.kind, 'run');
  const ids = data.charts.map((c) => c.id);
  for (const id of ['hist-e2e', 'cdf-e2e', 'hist-ttft', 'cdf-ttft', 'hist-tpot', 'cdf-tpot', 'hist-itl', 'cdf-itl', 'time-latency', 'time-throughput', 'time-queue', 'crops']) assert.ok(ids.includes(id), id);
  // GPU telemetry, one row of charts per replica, one series per GPU of it.
  for (const r of [0, 1]) for (const m of ['util', 'mem', 'power']) assert.ok(ids.includes(`gpu-r${r}-${m}`), `gpu-r${r}-${m}`);
  assert.deepEqual(data.charts.find((c) => c.id === 'gpu-r1-util')!.series.map((s) => s.label), ['GPU 2 (A100-SXM4-40GB)', 'GPU 3 (A100-SXM4-40GB)']);
  assert.match(html, /<h3>Replica 0: GPU 0, 1<\/h3>/);
  for (const c of data.charts) {
    assert.ok(html.includes(`<figure class="chart" id="${c.id}">`), `figure for ${c.id}`);
    for (const s of c.series) assert.equal(s.values.length, c.x.length, `${c.id}: ${s.label}`);
    for (let i = 1; i < c.x.length; i++) assert.ok(c.x[i] >= c.x[i - 1], `${c.id}: x ascending`);
  }
  // Every request is in the data; the ITL chart counts every token gap.
  assert.equal(data.requests!.id.length, run.requests.length);
  assert.deepEqual(data.requests!.errors, reasons);
  assert.equal(data.requests!.error.filter((e) => e !== null).length, 3);
  const itl = data.charts.find((c) => c.id === 'hist-itl')!;
  assert.equal(itl.series[0].values.reduce((a, b) => a! + b!, 0), run.summary.metrics.itlMs.count);
});

test('run report: a run with no telemetry, no failure and CPU samples says so rather than drawing empty charts', () => {
  const run = fakeRun({ requests: 10 });
  const html = runReportHtml(run, LIB);
  assert.match(html, /No telemetry was recorded/);
  assert.match(html, /No failed request and no notes/);
  assert.ok(!dataOf(html).charts.some((c) => c.id.startsWith('gpu-')));
  const cpu: RunFile = {
    ...run,
    telemetry: {
      ...run.telemetry,
      source: 'cpu',
      fallbackReason: 'no GPU telemetry: CPU telemetry requested',
      samples: [0, 500, 1000].map((atMs) => ({ atMs, source: 'cpu' as const, cpus: [{ core: 0, utilPct: 90 }, { core: 1, utilPct: 70 }], utilPct: 80, processRssMiB: 2048, memUsedMiB: 8192, memTotalMiB: 24_000 })),
    },
  };
  const d = dataOf(runReportHtml(cpu, LIB));
  assert.deepEqual(d.charts.find((c) => c.id === 'cpu-util')!.series.map((s) => s.label), ['all cores', 'cpu0', 'cpu1']);
  assert.deepEqual(d.charts.find((c) => c.id === 'cpu-mem')!.series[0].values, [2, 2, 2]);
});

test('text from run files is escaped: a hostile name or error cannot end the script or add markup', () => {
  const evil = '</script><img src=x onerror=alert(1)>';
  const run = fakeRun({ name: evil, requests: 6, failed: 1, notes: [evil] });
  const html = runReportHtml({ ...run, requests: run.requests.map((r) => (r.status === 'failed' ? { ...r, error: evil } : r)) }, LIB);
  assert.doesNotMatch(html, /<img/);
  assert.equal((html.match(/<\/script>/g) ?? []).length, 3, 'only the page\'s own three scripts end');
  const data = dataOf(html);
  assert.deepEqual(data.requests!.errors, [evil]);
});

test('a 10,000-request run (256 tokens each) reports in under 5 MB: every request kept, per-token data summarised', (t) => {
  const run = fakeRun({ requests: 10_000, warmup: 4, failed: 25, replicas: 4, outputTokens: 256 });
  const t0 = performance.now();
  const html = runReportHtml(withGpuTelemetry(run), LIB);
  const ms = performance.now() - t0;
  const bytes = Buffer.byteLength(html);
  assert.ok(bytes < 5 * MB, `${(bytes / MB).toFixed(2)} MB`);
  const data = dataOf(html);
  assert.equal(data.requests!.id.length, 10_004);
  assert.equal(data.requests!.e2eMs.filter((v) => v !== null).length, 10_004 - 25);
  // 2.55 million token gaps become a histogram and a CDF of at most 400 points.
  assert.ok(data.charts.find((c) => c.id === 'cdf-itl')!.x.length <= 400);
  assert.ok(data.charts.find((c) => c.id === 'hist-itl')!.x.length <= 40);
  assert.ok(data.charts.find((c) => c.id === 'time-throughput')!.x.length <= 61);
  assert.ok(data.charts.find((c) => c.id === 'time-queue')!.x.length <= 301);
  assert.equal(data.charts.find((c) => c.id === 'time-latency')!.x.length, 10_000 - 25);
  assert.ok(!/tokenTimesMs|tokenIds/.test(html), 'no per-token arrays');
  t.diagnostic(`10,000-request run report: ${(bytes / MB).toFixed(2)} MB, built in ${ms.toFixed(0)} ms`);
});

test('comparison report: the table with deltas and best marked, overlaid E2E and TTFT CDFs, legend "name · id suffix"', () => {
  const a = fakeRun({ id: '20261125-140000-balanced-aaaa', name: 'balanced', seed: 1 });
  const b = fakeRun({ id: '20261125-150000-doc-centric-bbbb', name: 'doc-centric', seed: 7, latencyScale: 1.4 });
  const html = compareReportHtml([a, b], { lib: LIB });
  assertSelfContained(html);
  assert.match(html, /<h1>gemma-bench: 2 runs compared<\/h1>/);
  assert.match(html, /<th class="num">1 balanced \(baseline\)<\/th><th class="num">2 doc-centric<\/th>/);
  assert.match(html, /<span class="best">[^<]+\*<\/span>/);
  assert.match(html, /<span class="delta">\(\+\d+\.\d%\)<\/span>/);
  const data = dataOf(html);
  assert.equal(data.kind, 'compare');
  assert.deepEqual(data.charts.map((c) => c.id), ['cdf-e2e', 'cdf-ttft']);
  for (const c of data.charts) {
    assert.deepEqual(c.series.map((s) => s.label), ['balanced · aaaa', 'doc-centric · bbbb']);
    assert.deepEqual(c.series.map((s) => s.color), SERIES_COLORS.slice(0, 2));
    assert.ok(c.series.every((s) => s.spanGaps && s.values.some((v) => v === 100)));
  }
  assert.ok(!html.includes('sweep-scatter'));
  // Through runsToHtml: one run is its own report, several a comparison.
  assert.equal(dataOf(runsToHtml([a], LIB)).kind, 'run');
  assert.equal(dataOf(runsToHtml([a, b], LIB)).kind, 'compare');
});

test('sweep report: the scatter labelled by knob values, the frontier drawn and marked, and its table', () => {
  const runs = fakeSweep();
  const html = compareReportHtml(runs, { lib: LIB });
  assertSelfContained(html);
  assert.match(html, /<h1>gemma-bench sweep: sweep-20261125-160000-ab12<\/h1>/);
  const data = dataOf(html);
  assert.equal(data.kind, 'sweep');
  const frontier = paretoFrontier(runs.map((r) => ({ throughputReqS: r.summary.throughputReqS, latencyMs: r.summary.metrics.e2eMs.p95 })));
  assert.deepEqual(data.frontier, frontier);
  assert.ok(frontier.length >= 2 && frontier.length < runs.length, `frontier ${frontier}`);
  const sc = data.charts.find((c) => c.id === 'sweep-scatter')!;
  assert.equal(sc.xLabel, 'throughput (req/s)');
  assert.equal(sc.yLabel, 'p95 E2E (ms)');
  assert.deepEqual([...sc.pointLabels!].sort(), runs.map((r) => `max-crops=${r.group!.point['max-crops']} concurrency=${r.group!.point.concurrency}`).sort());
  assert.equal(sc.series[0].values.filter((v) => v !== null).length, runs.length);
  assert.equal(sc.series[1].label, 'Pareto frontier');
  assert.equal(sc.series[1].values.filter((v) => v !== null).length, frontier.length);
  // Each frontier point is in the frontier table with its knobs.
  const table = html.slice(html.indexOf('<h3>Frontier points</h3>'), html.indexOf('<section id="table">'));
  for (const i of frontier) assert.ok(table.includes(runs[i].id), runs[i].id);
  for (const i of runs.keys()) if (!frontier.includes(i)) assert.ok(!table.includes(runs[i].id));
  assert.match(table, /<th class="num">max-crops<\/th><th class="num">concurrency<\/th>/);
  // A sweep of one point: its frontier is that point.
  const one = dataOf(compareReportHtml(runs.slice(0, 1), { lib: LIB }));
  assert.deepEqual(one.frontier, [0]);
  // The goodput rows of a given model show up in the table.
  const withSlo = compareReportHtml(runs, { lib: LIB, model: compareRuns(runs, { slo: { e2eMs: 300 } }) });
  assert.match(withSlo, /Goodput \(E2E &lt;= 300 ms\)/);
});

test('timeline: completions and tokens per bin add up; queued and in flight follow enqueue, dispatch and finish', () => {
  const base = fakeRun({ requests: 3, warmup: 0, outputTokens: 4 });
  // Three requests: enqueued at 0 s; dispatched at 0, 1 and 2 s; each finishing 1.5 s after dispatch.
  const requests = base.requests.map((r, i) => ({ ...r, enqueuedAtMs: 0, dispatchedAtMs: i * 1000, finishedAtMs: i * 1000 + 1500, queueMs: i * 1000, e2eMs: i * 1000 + 1500, tokenTimesMs: [100, 500, 1000, 1500] }));
  const charts = timelineCharts({ ...base, requests });
  const thr = charts.find((c) => c.id === 'time-throughput')!;
  const binS = thr.x[1] - thr.x[0];
  const sum = (v: readonly (number | null)[]) => v.slice(0, -1).reduce((a: number, b) => a + (b ?? 0) * binS, 0);
  assert.equal(Math.round(sum(thr.series[0].values)), 3);
  assert.equal(Math.round(sum(thr.series[1].values)), 12);
  const q = charts.find((c) => c.id === 'time-queue')!;
  const at = (t: number) => {
    const i = q.x.findIndex((x) => x >= t);
    return [q.series[0].values[i], q.series[1].values[i]];
  };
  assert.deepEqual(at(0), [2, 1]);
  assert.deepEqual(at(1.2), [1, 2]);
  assert.deepEqual(at(2.2), [0, 2]);
  assert.deepEqual(at(3.4), [0, 1]);
  assert.deepEqual(charts.find((c) => c.id === 'time-latency')!.x, [1.5, 2.5, 3.5]);
});

test('a run where every measured request failed: no latency to draw, said so; the failures and the queue are there', () => {
  const run = fakeRun({ requests: 4, failed: 4, status: 'failed' });
  const html = runReportHtml(run, LIB);
  assert.match(html, /No measured request completed: there is no latency to show\./);
  assert.match(html, /This run is <strong>failed<\/strong>/);
  assert.match(html, /4 measured request\(s\) failed/);
  assert.deepEqual(dataOf(html).charts.map((c) => c.id), ['time-throughput', 'time-queue']);
});

test('run report: GPUs behind remote endpoints (DCGM) are grouped by endpoint, one series per GPU', () => {
  const run = fakeRun({ requests: 8 });
  const gpu = (index: number, endpoint: string, host: string) => ({ index, uuid: null, name: 'NVIDIA H100 80GB HBM3', utilPct: 50 + index, memUsedMiB: 40_000, memTotalMiB: 81_559, powerW: 300, tempC: 50, smClockMHz: 1980, state: 'ok' as const, endpoint, host, migInstances: 0 });
  const samples = [0, 1000, 2000].flatMap((atMs) => [
    { atMs, source: 'dcgm' as const, endpoint: 'http://node-a:9400/metrics', gpus: [gpu(0, 'http://node-a:9400/metrics', 'node-a'), gpu(1, 'http://node-a:9400/metrics', 'node-a')] },
    { atMs: atMs + 10, source: 'dcgm' as const, endpoint: 'http://node-b:9400/metrics', gpus: [gpu(0, 'http://node-b:9400/metrics', 'node-b')] },
  ]);
  const html = runReportHtml({ ...run, telemetry: { ...run.telemetry, remoteGpus: { summary: [], samples } } }, LIB);
  assert.match(html, /<h3>Endpoint http:\/\/node-a:9400\/metrics \(DCGM\), host node-a<\/h3>/);
  assert.match(html, /<h3>Endpoint http:\/\/node-b:9400\/metrics \(DCGM\), host node-b<\/h3>/);
  const util = dataOf(html).charts.filter((c) => c.id.startsWith('dcgm-') && c.id.endsWith('-util'));
  assert.deepEqual(util.map((c) => c.series.map((s) => s.label)), [['GPU 0 on node-a', 'GPU 1 on node-a'], ['GPU 0 on node-b']]);
  assert.deepEqual(util[0].x, [0, 1, 2]);
  assert.deepEqual(util[0].series[1].values, [51, 51, 51]);
});
