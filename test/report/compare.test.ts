import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunFile } from '../../src/engine/types.js';
import { compareRuns, type CompareModel } from '../../src/report/compare.js';
import { renderCompareText } from '../../src/report/compare-text.js';
import { fakeRun } from '../helpers/fake-run.js';

const row = (m: CompareModel, key: string) => {
  const r = m.rows.find((x) => x.key === key);
  assert.ok(r, key);
  return r;
};

/**
 * A run with chosen headline numbers (everything else from the fake). Its records are scaled to match (latencies
 * by e2eP50 / 100, arrivals by the throughput), and there are many of them, so the significance that compare now
 * computes from the records agrees with the chosen numbers whenever they differ by 20% or more.
 */
function withSummary(id: string, e2eP50: number | null, throughput: number | null, failed = 0): RunFile {
  const r = fakeRun({ id, seed: id.length, requests: 200, latencyScale: (e2eP50 ?? 100) / 100, ...(throughput ? { intervalMs: 1000 / throughput } : {}) });
  return {
    ...r,
    summary: {
      ...r.summary,
      failed,
      throughputReqS: throughput,
      metrics: { ...r.summary.metrics, e2eMs: { ...r.summary.metrics.e2eMs, p50: e2eP50 } },
    },
  };
}

test('deltas are against the first run, absolute and in percent', () => {
  const m = compareRuns([withSummary('base-1', 100, 10), withSummary('fast-22', 80, 12.5), withSummary('slow-333', 150, 5)]);
  assert.equal(m.baselineId, 'base-1');
  assert.deepEqual(m.columns.map((c) => c.id), ['base-1', 'fast-22', 'slow-333']);
  const e2e = row(m, 'e2e_p50');
  assert.equal(e2e.direction, 'lower');
  assert.equal(e2e.unit, 'ms');
  assert.deepEqual(e2e.cells.map((c) => c.value), [100, 80, 150]);
  assert.deepEqual(e2e.cells.map((c) => c.delta), [null, -20, 50]);
  assert.deepEqual(e2e.cells.map((c) => c.deltaPct), [null, -20, 50]);
  const thr = row(m, 'throughput_req_s');
  assert.deepEqual(thr.cells.map((c) => c.delta), [null, 2.5, -5]);
  assert.deepEqual(thr.cells.map((c) => c.deltaPct), [null, 25, -50]);
});

test('best marks: lowest for times, highest for rates, only beyond noise (a tie marks nothing), none on counts', () => {
  const m = compareRuns([withSummary('a-1', 100, 10, 2), withSummary('b-2', 80, 12.5, 0), withSummary('c-3', 150, 5, 0)]);
  assert.deepEqual(row(m, 'e2e_p50').cells.map((c) => c.best), [false, true, false]);
  assert.deepEqual(row(m, 'throughput_req_s').cells.map((c) => c.best), [false, true, false]);
  assert.equal(row(m, 'failed').direction, 'none');
  assert.deepEqual(row(m, 'failed').cells.map((c) => c.best), [false, false, false]);
  assert.deepEqual(row(m, 'completed').cells.map((c) => c.best), [false, false, false]);
  assert.deepEqual(row(m, 'crops_mean').cells.map((c) => c.best), [false, false, false]);

  // A tie is no winner: neither of two equal values is better beyond noise, so the row marks nothing.
  const tie = compareRuns([withSummary('a-1', 90, 12), withSummary('b-2', 90, 12), withSummary('c-3', 150, 6)]);
  assert.deepEqual(row(tie, 'e2e_p50').cells.map((c) => c.best), [false, false, false]);
  assert.deepEqual(row(tie, 'throughput_req_s').cells.map((c) => c.best), [false, false, false]);
  assert.deepEqual(row(tie, 'e2e_p50').cells.map((c) => c.significant), [null, false, true]);
  assert.deepEqual(row(tie, 'e2e_p50').cells.map((c) => c.deltaPct), [null, 0, (60 / 90) * 100]);
});

test('missing values: no delta, never best; a zero baseline has no percent; one run marks nothing', () => {
  const m = compareRuns([withSummary('a-1', null, 0), withSummary('b-2', 80, 5), withSummary('c-3', 150, null)]);
  const e2e = row(m, 'e2e_p50');
  assert.deepEqual(e2e.cells.map((c) => c.delta), [null, null, null]);
  assert.deepEqual(e2e.cells.map((c) => c.best), [false, true, false]);
  const thr = row(m, 'throughput_req_s');
  assert.deepEqual(thr.cells.map((c) => c.delta), [null, 5, null]);
  assert.deepEqual(thr.cells.map((c) => c.deltaPct), [null, null, null]);
  assert.deepEqual(thr.cells.map((c) => c.best), [false, true, false]);
  const single = compareRuns([withSummary('a-1', 100, 10)]);
  assert.ok(single.rows.every((r) => r.cells.every((c) => !c.best)));
  assert.throws(() => compareRuns([]));
});

test('rows cover the headline metrics; warnings flag unlike runs', () => {
  const a = fakeRun({ id: 'a-1' });
  const b = fakeRun({ id: 'b-2', seed: 2, setHash: 'e'.repeat(64), outputTokens: 32, status: 'interrupted' });
  const m = compareRuns([a, b]);
  assert.deepEqual(m.rows.map((r) => r.key), [
    'e2e_p50', 'e2e_p95', 'e2e_p99', 'ttft_p50', 'ttft_p95', 'tpot_p50', 'itl_p50', 'preprocess_p50', 'vision_p50',
    'throughput_req_s', 'output_tokens_per_s', 'tokens_per_s_mean', 'completed', 'failed', 'crops_mean',
  ]);
  assert.equal(row(m, 'output_tokens_per_s').direction, 'higher');
  assert.equal(row(m, 'tokens_per_s_mean').direction, 'higher');
  assert.ok(m.warnings.some((w) => /different image sets/.test(w)));
  assert.ok(m.warnings.some((w) => /maxNewTokens/.test(w)));
  assert.ok(m.warnings.some((w) => /random weights: speed only/.test(w)));
  assert.ok(m.warnings.some((w) => /b-2 \(interrupted\)/.test(w)));
  assert.deepEqual(compareRuns([a, fakeRun({ id: 'c-3', seed: 3 })]).warnings, [
    'random weights: speed only (outputs are not meaningful)',
    'too few requests to judge E2E p95, E2E p99, TTFT p95 (a p50 needs 10, a p95 100, a p99 500 in every run): they read ≈',
  ]);
  // With enough requests every row is judged, and nothing is said.
  assert.deepEqual(compareRuns([fakeRun({ id: 'a-1', requests: 500 }), fakeRun({ id: 'c-3', seed: 3, requests: 500 })]).warnings, ['random weights: speed only (outputs are not meaningful)']);
  // The model is plain data: it survives JSON unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(m)), m);
});

test('renderCompareText: aligned columns, best marked with *, deltas like +12.3%', () => {
  const text = renderCompareText(compareRuns([withSummary('base-1', 100, 10), withSummary('fast-22', 80, 12.5), withSummary('slow-333', 150, 5)]));
  const lines = text.split('\n');
  const e2e = lines.find((l) => l.startsWith('E2E p50'))!;
  assert.match(e2e, /^E2E p50 +100 ms +80\.0 ms\* \(-20\.0%\) +150 ms \(\+50\.0%\)$/);
  const thr = lines.find((l) => l.startsWith('Throughput'))!;
  assert.match(thr, /10\.0 req\/s +12\.5 req\/s\* \(\+25\.0%\) +5\.00 req\/s \(-50\.0%\)$/);
  // Three runs named alike: each label ends with its id's suffix.
  assert.match(lines[0], /balanced \(1\) \(baseline\) +balanced \(22\) +balanced \(333\)$/);
  assert.match(lines[1], /base-1 +fast-22 +slow-333$/);
  // Columns line up: every body row is as wide as the widest, right-aligned cells end together.
  const body = lines.slice(0, lines.indexOf(''));
  const width = Math.max(...body.map((l) => l.length));
  for (const l of body.slice(1)) assert.equal(l.length, width, l);
  assert.match(text, /\* best in its row/);
});

test('roofline rows: % of the floor where a run has one (higher is better), why not where it has none', async () => {
  const { computeRoofline, GEMMA3_TEXT } = await import('../../src/engine/roofline.js');
  const rec = { promptTokens: 1074, imageTokens: 1024, crops: 3, outputTokens: 256, batchSize: 1 };
  const gpu = (id: string, ttft: number, tpot: number): RunFile => {
    const r = fakeRun({ id });
    const roofline = computeRoofline({ cost: { name: 'gemma-3-27b', arch: GEMMA3_TEXT['27b'], bytesPerParam: 2 }, gpuNames: ['NVIDIA H200'], cpu: false, gpusPerReplica: 1, pipelineSharded: false, records: [rec], ttftP50Ms: ttft, tpotP50Ms: tpot });
    return { ...r, summary: { ...r.summary, roofline } };
  };
  const cpu = (id: string): RunFile => {
    const r = fakeRun({ id });
    const roofline = computeRoofline({ cost: null, gpuNames: [], cpu: true, gpusPerReplica: 1, pipelineSharded: false, records: [], ttftP50Ms: 1, tpotP50Ms: 1 });
    return { ...r, summary: { ...r.summary, roofline } };
  };
  const m = compareRuns([gpu('a', 400, 60), gpu('b', 200, 30), cpu('c')]);
  const t = row(m, 'roofline_ttft_pct');
  assert.equal(t.label, 'Roofline TTFT (% of floor)');
  assert.equal(t.direction, 'higher');
  assert.ok(t.cells[1].best && !t.cells[0].best);
  assert.ok(Math.abs(t.cells[1].value! - 2 * t.cells[0].value!) < 1e-9, 'half the TTFT, twice the share of the floor');
  assert.equal(t.cells[2].value, null);
  assert.ok(m.warnings.includes('roofline unknown peak: CPU run: the peak table covers GPUs only (c)'), m.warnings.join('\n'));
  assert.ok(m.warnings.some((w) => /^roofline: % of the hardware's floor \(floor \/ measured median\): a on H200 \(989 TFLOP\/s BF16, 4\.8 TB\/s\); b on H200/.test(w)));
  assert.match(renderCompareText(m), /Roofline TPOT \(% of floor\) +[\d.]+% +[\d.]+%\* \(\+100%\) +-/);
  // CPU runs only: no roofline rows, one note saying why.
  const cpuOnly = compareRuns([cpu('x'), cpu('y')]);
  assert.ok(!cpuOnly.rows.some((r) => r.key.startsWith('roofline_')));
  assert.deepEqual(cpuOnly.warnings.filter((w) => w.startsWith('roofline')), ['roofline unknown peak: CPU run: the peak table covers GPUs only (every run)']);
});

test('renderCompareText fits a width: units move to the row labels, ids go under the table, runs that do not fit are left out and said so', () => {
  const runs = Array.from({ length: 6 }, (_, i) => withSummary(`20261125-14223${i}-balanced-00${i}${i}`, 100 + i * 10, 10 - i));
  const model = compareRuns(runs);
  const wide = renderCompareText(model);
  assert.ok(Math.max(...wide.split('\n').map((l) => l.length)) > 120);
  const text = renderCompareText(model, { width: 80 });
  for (const l of text.split('\n')) assert.ok(l.length <= 80, `${l.length}: ${l}`);
  // 10% apart: within noise for the bimodal E2E median (≈, and no best), beyond it for the p95.
  assert.match(text, /^E2E p50 \(ms\) +100 +110 ≈$/m);
  assert.match(text, /^E2E p95 \(ms\) +176\* +193 \(\+10\.0%\)$/m);
  assert.match(text, /1 balanced \(0000\) \(base\) +2 balanced \(0011\)/);
  assert.match(text, /^ 1 20261125-142230-balanced-0000$/m);
  assert.match(text, /\(not shown\)/);
  assert.match(text, /runs? not shown to fit 80 columns; --wide shows them all/);
});
