// compare's noise handling (issue 12) on synthetic records with known distributions: the 95% interval of every
// timing and rate cell holds its value; a non-baseline cell is significant exactly when its runs differ beyond
// noise; only such a difference earns "best" and a change, the rest read "≈"; repeat groups are one column whose
// differences must also exceed the repeats' spread; the exports (Markdown, CSV) and the box plots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestRecord, RunFile, RunGroup } from '../../src/engine/types.js';
import { columnSets, compareRuns, compareSets, type CompareModel } from '../../src/report/compare.js';
import { compareBoxPlotLines, renderCompareText, WITHIN_NOISE_MARK } from '../../src/report/compare-text.js';
import { compareToCsv, compareToMarkdown } from '../../src/report/compare-export.js';
import { summarizeRecords } from '../../src/engine/accumulator.js';
import { fakeRun } from '../helpers/fake-run.js';
import { logNormal, okRecord, tokenTimes } from './stats/helpers.js';

/**
 * A run of `n` completed requests whose E2E is log-normal with median `medianMs` (sigma 0.25), arriving every 50 ms,
 * with 8 tokens each; seeded, so every test sees the same records.
 */
function synthetic(id: string, medianMs: number, seed: number, o: { n?: number; group?: RunGroup } = {}): RunFile {
  const n = o.n ?? 300;
  const draw = logNormal(seed, Math.log(medianMs), 0.25);
  const records: RequestRecord[] = [];
  for (let i = 0; i < n; i++) {
    const e2e = draw();
    const times = tokenTimes(e2e * 0.4, Array.from({ length: 7 }, () => (e2e * 0.6) / 7));
    records.push(okRecord(i, { e2eMs: e2e, enqueuedAtMs: i * 50, tokenTimesMs: times, ttftMs: times[0] }));
  }
  const base = fakeRun({ id, requests: n });
  // The summary as the engine computes it from these records (HDR histograms), so values and intervals agree.
  return { ...base, group: o.group ?? null, requests: records, summary: summarizeRecords(records, [{ replica: 0, devices: ['cpu'] }]) };
}

const row = (m: CompareModel, key: string) => m.rows.find((r) => r.key === key)!;

test('significant only beyond noise: the same distribution is ≈, a 30% slower one is significant and the faster one best', () => {
  const base = synthetic('base-1', 600, 1);
  const same = synthetic('same-2', 600, 2);
  const slow = synthetic('slow-3', 800, 3);
  const m = compareRuns([base, same, slow]);
  const e2e = row(m, 'e2e_p50');
  assert.deepEqual(e2e.cells.map((c) => c.significant), [null, false, true]);
  // The baseline beats the slow run beyond noise but not `same`: nobody is the clear winner.
  assert.deepEqual(e2e.cells.map((c) => c.best), [false, false, false]);
  const text = renderCompareText(m);
  assert.match(text.split('\n').find((l) => l.startsWith('E2E p50'))!, new RegExp(`${WITHIN_NOISE_MARK} +\\d+ ms \\(\\+\\d+\\.\\d%\\)$`));
  assert.match(text, /≈ within noise: the 95% interval of the difference from the baseline includes 0/);

  // Two runs, one clearly faster: it is best, with its change printed.
  const two = compareRuns([slow, base]);
  const e = row(two, 'e2e_p50');
  assert.deepEqual(e.cells.map((c) => [c.significant, c.best]), [[null, false], [true, true]]);
  assert.match(renderCompareText(two), /E2E p50 +\d+ ms +\d+ ms\* \(-2\d\.\d%\)/);
});

test('every timing and rate cell with a value has a 95% interval holding it; counts have none', () => {
  const m = compareRuns([synthetic('a-1', 800, 4, { n: 40 }), synthetic('b-2', 900, 5, { n: 40 })]);
  let checked = 0;
  for (const r of m.rows) {
    for (const c of r.cells) {
      if (['ms', 'req/s', 'tok/s'].includes(r.unit) && c.value !== null) {
        assert.ok(c.ci95, `${r.key} has an interval`);
        assert.ok(c.ci95[0] <= c.value && c.value <= c.ci95[1], `${r.key}: ${c.value} in [${c.ci95}]`);
        checked++;
      }
      if (r.unit === 'count') assert.equal(c.ci95, null);
    }
  }
  assert.ok(checked >= 20, `${checked} cells checked`);
  // JSON keeps the shape: significant is null for the baseline, a boolean where there is an interval.
  const json = JSON.parse(JSON.stringify(m)) as CompareModel;
  assert.equal(row(json, 'e2e_p50').cells[0].significant, null);
  assert.equal(typeof row(json, 'e2e_p50').cells[1].significant, 'boolean');
  assert.equal(row(json, 'completed').cells[1].significant, null);
});

test('the verdicts are deterministic: the same runs give the same intervals and marks', () => {
  const runs = [synthetic('a-1', 1000, 6, { n: 60 }), synthetic('b-2', 1100, 7, { n: 60 })];
  assert.deepEqual(JSON.parse(JSON.stringify(compareRuns(runs))), JSON.parse(JSON.stringify(compareRuns(runs))));
});

const repeatGroup = (id: string, medians: readonly number[], seed: number): RunFile[] =>
  medians.map((med, index) =>
    synthetic(`${id}-r${index}`, med, seed + index, {
      n: 200,
      group: { id, kind: 'repeat', point: {}, index, total: medians.length, repeat: { index, total: medians.length, orderSeed: index } },
    }),
  );

test('repeat groups: one column each (the median of its repeats); a difference counts only beyond the repeats\' spread', () => {
  // Every repeat of B is slower than every repeat of A: within-run and between-repeat verdicts agree.
  const a = repeatGroup('repeat-a', [1000, 1020, 990], 10);
  const b = repeatGroup('repeat-b', [1300, 1350, 1280], 20);
  const sets = columnSets([{ kind: 'group', runs: a }, { kind: 'group', runs: b }]);
  assert.deepEqual(sets.map((s) => s.length), [3, 3]);
  const m = compareSets(sets);
  assert.deepEqual(m.columns.map((c) => c.id), ['repeat-a', 'repeat-b']);
  assert.match(m.columns[1].label, /×3$/);
  const e2e = row(m, 'e2e_p50');
  assert.equal(e2e.cells[1].significant, true);
  assert.deepEqual(e2e.cells[1].repeats && [e2e.cells[1].repeats.count, e2e.cells[1].repeats.min <= e2e.cells[1].value!, e2e.cells[1].value! <= e2e.cells[1].repeats.max], [3, true, true]);

  // B's repeats straddle A's: each run differs from A's pooled median within its run, but the ranges overlap, so
  // the repeats say the machine moved, not the setting.
  const wobbly = repeatGroup('repeat-c', [1300, 950, 1250], 30);
  const w = compareSets(columnSets([{ kind: 'group', runs: a }, { kind: 'group', runs: wobbly }]));
  assert.equal(row(w, 'e2e_p50').cells[1].significant, false);
  assert.match(renderCompareText(w), /E2E p50 .*≈/);
});

test('columnSets: runs are columns, a sweep is a column per point (its repeats together), in grid order', () => {
  const point = (index: number, rep: number): RunGroup => ({ id: 'sweep-x', kind: 'sweep', point: { 'max-crops': index }, index, total: 2, repeat: { index: rep, total: 2, orderSeed: rep } });
  const s = [synthetic('p0r0', 100, 1, { n: 5, group: point(0, 0) }), synthetic('p1r0', 100, 2, { n: 5, group: point(1, 0) }), synthetic('p0r1', 100, 3, { n: 5, group: point(0, 1) }), synthetic('p1r1', 100, 4, { n: 5, group: point(1, 1) })];
  const lone = synthetic('lone', 100, 5, { n: 5 });
  assert.deepEqual(columnSets([{ kind: 'run', run: lone }, { kind: 'group', runs: s }]).map((x) => x.map((r) => r.id)), [['lone'], ['p0r0', 'p0r1'], ['p1r0', 'p1r1']]);
});

test('a drifting run is named in the warnings', () => {
  const steady = synthetic('steady-1', 1000, 8, { n: 60 });
  const drifting: RunFile = { ...steady, id: 'drift-2', requests: steady.requests.map((r, i) => ({ ...r, e2eMs: r.e2eMs! * (1 + i / 20), finishedAtMs: r.enqueuedAtMs + r.e2eMs! * (1 + i / 20) })) };
  const m = compareRuns([steady, drifting]);
  assert.ok(m.warnings.some((w) => /^drift-2 is not steady: more warmup or a longer run \(E2E median \+\d+\.\d% from its first third to its last\)$/.test(w)), m.warnings.join('\n'));
  assert.ok(!m.warnings.some((w) => w.startsWith('steady-1')));
});

test('Markdown: a real table (header and separator rows), values with intervals, marks escaped; CSV: a row per metric, a column per run', () => {
  const m = compareRuns([synthetic('a-1', 800, 1), synthetic('b-2', 600, 2), synthetic('c-3', 600, 3)]);
  const md = compareToMarkdown(m).split('\n');
  const t = md.findIndex((l) => l.startsWith('| Metric |'));
  assert.ok(t > 0);
  assert.equal(md[t], '| Metric | 1 balanced (1) (baseline) | 2 balanced (2) | 3 balanced (3) |');
  assert.equal(md[t + 1], '| --- | ---: | ---: | ---: |');
  const e2e = md.find((l) => l.startsWith('| E2E p50 |'))!;
  assert.match(e2e, /^\| E2E p50 \| \d+ ms \[\d+–\d+ ms\] \| \d+ ms \[\d+–\d+ ms\] \(-2\d\.\d%\) \| \d+ ms \[\d+–\d+ ms\] \(-2\d\.\d%\) \|$/);
  // Every table row has as many cells as the header.
  for (const l of md.slice(t, md.indexOf('', t))) assert.equal(l.split(' | ').length, 4, l);
  assert.ok(md.some((l) => l.startsWith('\\* best in its row')));

  const csv = compareToCsv(m).trimEnd().split('\n');
  assert.equal(csv[0], 'metric,label,unit,a-1,b-2,c-3');
  assert.equal(csv.length, 1 + m.rows.length);
  const e2eCsv = csv.find((l) => l.startsWith('e2e_p50,'))!.split(',');
  assert.deepEqual(e2eCsv.slice(0, 3), ['e2e_p50', 'E2E p50', 'ms']);
  assert.deepEqual(e2eCsv.slice(3).map(Number), row(m, 'e2e_p50').cells.map((c) => Number(c.value!.toFixed(3))));
});

test('box plots: one numbered line per run for E2E and TTFT on a shared axis, within 80 columns', () => {
  const m = compareRuns([synthetic('a-1', 1300, 1), synthetic('b-2', 1000, 2)]);
  const lines = compareBoxPlotLines(m, 80);
  assert.equal(lines[0], 'E2E latency by run');
  assert.match(lines[1], /^1 .*┃/);
  assert.match(lines[2], /^2 .*┃/);
  assert.ok(lines.includes('TTFT latency by run'));
  for (const l of lines) assert.ok([...l].length <= 80, l);
  // The slower run's median sits right of the faster one's on the shared axis.
  assert.ok(lines[1].indexOf('┃') > lines[2].indexOf('┃'));
  const text = renderCompareText(m, { width: 80, boxPlots: true });
  assert.ok(text.includes(lines[1]));
  assert.ok(!renderCompareText(m, { width: 80 }).includes('┃'), 'no plots unless asked (a pipe)');
});

test('colour on a terminal: changes beyond noise green when better, red when worse; ≈ dimmed; counts plain', () => {
  const m = compareRuns([synthetic('base-1', 600, 1), synthetic('same-2', 600, 2), synthetic('slow-3', 800, 3), synthetic('fast-4', 450, 4)]);
  const text = renderCompareText(m, { color: true });
  const e2e = text.split('\n').find((l) => l.startsWith('E2E p50'))!;
  assert.match(e2e, /\u001b\[2m≈\u001b\[0m/);
  assert.match(e2e, /\u001b\[31m\(\+\d+\.\d%\)\u001b\[0m/, 'slower: red');
  assert.match(e2e, /\u001b\[32m\(-\d+\.\d%\)\u001b\[0m/, 'faster: green');
  assert.doesNotMatch(text.split('\n').find((l) => l.startsWith('Completed'))!, /\u001b/);
  // Without colour, and once the codes are stripped, the same text.
  assert.equal(text.replace(/\u001b\[\d+m/g, ''), renderCompareText(m));
});

test('too few requests for a percentile: no verdict beyond noise (≈), however far apart, and a note says so', () => {
  // Eight requests six times faster: the mean is judged, the percentiles (a p50 needs 10 values) are not.
  const m = compareRuns([synthetic('big-1', 600, 1), synthetic('tiny-2', 100, 2, { n: 8 })]);
  assert.equal(row(m, 'e2e_p50').cells[1].significant, false);
  assert.equal(row(m, 'e2e_p99').cells[1].significant, false);
  assert.ok(!row(m, 'e2e_p50').cells.some((c) => c.best));
  assert.equal(row(m, 'tokens_per_s_mean').cells[1].significant, true);
  // ITL pools every gap between tokens: 56 of them, enough for its median.
  assert.equal(row(m, 'itl_p50').cells[1].significant, true);
  assert.ok(m.warnings.some((w) => /^too few requests to judge E2E p50, E2E p95, E2E p99, TTFT p50, TTFT p95, TPOT p50, Preprocess p50, Vision p50 /.test(w)), m.warnings.join('\n'));
});
