// The compare screen: the model from compareRuns (src/report/compare.ts) drawn with ink-table: deltas against the
// first run, `*` on the best value of each row, units in the row labels, scrolling when runs do not fit, export.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { compareRuns } from '../../src/report/compare.js';
import { CompareScreen } from '../../src/ui/components/CompareScreen.js';
import { cellText, columnHeadings, columnsThatFit, compareTable, rowLabel } from '../../src/ui/compare-view.js';
import { fakeRun } from '../helpers/fake-run.js';
import { KEYS, press, stripAnsi, tick, waitFor } from './helpers.js';

// 200 requests each, so that 20% faster is beyond noise (compare marks only significant differences).
const fast = fakeRun({ id: '20261125-142233-fast-0001', name: 'fast', seed: 3, latencyScale: 0.8, requests: 200 });
const base = fakeRun({ id: '20261125-142233-base-0002', name: 'base', seed: 3, requests: 200 });
const slow = fakeRun({ id: '20261125-142233-slow-0003', name: 'slow', seed: 3, latencyScale: 1.5, requests: 200 });

test('cells: the baseline plain, the others with their change, the best marked', () => {
  const m = compareRuns([base, fast, slow]);
  const e2e = m.rows.find((r) => r.key === 'e2e_p50')!;
  assert.equal(rowLabel(e2e), 'E2E p50 (ms)');
  assert.doesNotMatch(cellText(e2e, 0), /[(*]/);
  assert.match(cellText(e2e, 1), /^\S+\* \(-\d+\.\d%\)$/, 'the faster run is best and lower');
  assert.match(cellText(e2e, 2), /^\S+ \(\+\d+\.\d%\)$/);
  const thr = m.rows.find((r) => r.key === 'throughput_req_s')!;
  assert.equal(rowLabel(thr), 'Throughput (req/s)');
  assert.equal(thr.cells.filter((c) => c.best).length, 1);
  assert.deepEqual(columnHeadings(m), ['1 base (base)', '2 fast', '3 slow']);
});

test('the screen: a table with every row, deltas against run 1, best marks, legend, ids and notes', async () => {
  const m = compareRuns([base, fast, slow]);
  const r = render(<CompareScreen model={m} title="3 run(s)" onExport={async () => '/x'} onBack={() => {}} onHelp={() => {}} />);
  await tick();
  const f = stripAnsi(r.lastFrame());
  assert.match(f, /compare 3 run\(s\)/);
  assert.match(f, /│ metric \(unit\)\s+│ 1 base \(base\) │\s+2 fast │\s+3 slow │/);
  for (const row of m.rows) assert.ok(f.includes(rowLabel(row)), rowLabel(row));
  const e2eLine = f.split('\n').find((l) => l.includes('E2E p50 (ms)'))!;
  const cells = e2eLine.split('│').map((c) => c.trim()).filter(Boolean);
  const e2e = m.rows.find((x) => x.key === 'e2e_p50')!;
  assert.deepEqual(cells, ['E2E p50 (ms)', cellText(e2e, 0), cellText(e2e, 1), cellText(e2e, 2)]);
  assert.match(f, /\* best in row beyond noise \(lower is better for times, higher for rates\) · \(±%\) change against run 1\s+· ≈ within noise/);
  assert.match(f, /1 20261125-142233-base-0002 · completed/);
  assert.match(f, /note: random weights: speed only/);
  assert.match(f, /e export · \? help · q back/);
  for (const l of f.split('\n')) assert.ok(l.length <= 100, `${l.length}: ${l}`);
  r.unmount();
});

test('columns that do not fit scroll with ←/→ while the baseline stays', async () => {
  const runs = Array.from({ length: 6 }, (_, i) => fakeRun({ id: `20261125-14223${i}-run${i}-000${i}`, name: `run${i}`, seed: 3, latencyScale: 1 + i / 10 }));
  const m = compareRuns(runs);
  const fit = columnsThatFit(m, 100);
  assert.ok(fit >= 2 && fit < 6, `fits ${fit}`);
  assert.deepEqual(compareTable(m, fit, 0).shown, Array.from({ length: fit }, (_, i) => i));
  assert.deepEqual(compareTable(m, fit, 99).shown[0], 0);
  assert.equal(compareTable(m, fit, 99).shown.at(-1), 5);

  const r = render(<CompareScreen model={m} title="6 run(s)" onExport={async () => '/x'} onBack={() => {}} onHelp={() => {}} />);
  await tick();
  let f = stripAnsi(r.lastFrame());
  assert.match(f, /1 run0 \(base\)/);
  assert.doesNotMatch(f, /│ +6 run5 │/);
  assert.match(f, /←\/→ scroll runs/);
  await press(r.stdin, KEYS.right, KEYS.right, KEYS.right, KEYS.right, KEYS.right);
  f = stripAnsi(r.lastFrame());
  assert.match(f, /1 run0 \(base\)/);
  assert.match(f, /6 run5/);
  for (const l of f.split('\n')) assert.ok(l.length <= 100, `${l.length}: ${l}`);
  r.unmount();
});

test('export asks for a format, calls the controller and shows the path; q goes back', async () => {
  const m = compareRuns([base, fast]);
  const calls: string[] = [];
  let back = 0;
  const r = render(
    <CompareScreen
      model={m}
      title="2 run(s)"
      onExport={async (f) => {
        calls.push(f);
        return `/data/exports/x.${f}`;
      }}
      onBack={() => back++}
      onHelp={() => {}}
    />,
  );
  await tick();
  await press(r.stdin, 'e');
  assert.match(stripAnsi(r.lastFrame()), /Export this comparison as: j JSON · c CSV · m Markdown table/);
  await press(r.stdin, 'c');
  await waitFor(() => assert.match(stripAnsi(r.lastFrame()), /exported the comparison as CSV to \/data\/exports\/x\.csv/));
  assert.deepEqual(calls, ['csv']);
  await press(r.stdin, 'q');
  assert.equal(back, 1);
  r.unmount();
});

test('box plots of E2E and TTFT under the table when the terminal is tall enough; none at 80x24', async () => {
  const m = compareRuns([base, fast, slow]);
  const tall = render(<CompareScreen model={m} title="3 run(s)" width={80} height={60} onExport={async () => '/x'} onBack={() => {}} onHelp={() => {}} />);
  await tick();
  const f = stripAnsi(tall.lastFrame());
  assert.match(f, /^E2E latency by run$/m);
  assert.match(f, /^TTFT latency by run$/m);
  // One line per run, numbered as the table's columns, on one axis: the slow run's median right of the fast one's.
  const line = (n: number) => f.split('\n').find((l) => l.startsWith(`${n} `) && l.includes('┃'))!;
  assert.ok(line(3).indexOf('┃') > line(2).indexOf('┃'), f);
  assert.match(f, /├─┤ p5\.\.p95 {2}▒ p25\.\.p75 {2}█ median 95% interval {2}┃ median/);
  for (const l of f.split('\n')) assert.ok(l.length <= 80, `${l.length}: ${l}`);
  assert.ok(f.split('\n').length <= 60);
  tall.unmount();
  const small = render(<CompareScreen model={m} title="3 run(s)" width={80} height={24} onExport={async () => '/x'} onBack={() => {}} onHelp={() => {}} />);
  await tick();
  const s = stripAnsi(small.lastFrame());
  assert.doesNotMatch(s, /┃/);
  assert.ok(s.split('\n').length <= 24, `${s.split('\n').length} lines`);
  small.unmount();
});
