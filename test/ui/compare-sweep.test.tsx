// The compare screen of a sweep: the latency-throughput scatter with its Pareto frontier under the table, within
// the terminal's width; and `h` among the export formats (an HTML report).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { compareRuns } from '../../src/report/compare.js';
import { paretoFrontier } from '../../src/report/frontier.js';
import { DOMINATED_MARK, FRONTIER_MARK } from '../../src/report/frontier-scatter.js';
import { CompareScreen } from '../../src/ui/components/CompareScreen.js';
import { fakeRun } from '../helpers/fake-run.js';
import { fakeSweep } from '../helpers/report-runs.js';
import { press, stripAnsi, tick, waitFor } from './helpers.js';

test('a sweep: the scatter of p95 E2E against throughput under the table, frontier points filled, within 80 columns', async () => {
  const runs = fakeSweep();
  const model = compareRuns(runs);
  const frontier = paretoFrontier(runs.map((r) => ({ throughputReqS: r.summary.throughputReqS, latencyMs: r.summary.metrics.e2eMs.p95 })));
  for (const width of [80, 120]) {
    const r = render(<CompareScreen model={model} title="sweep sweep-20261125-160000-ab12" width={width} height={60} onExport={async () => '/x'} onBack={() => {}} onHelp={() => {}} />);
    await tick();
    const f = stripAnsi(r.lastFrame());
    assert.match(f, /p95 E2E latency \(ms\) vs throughput \(req\/s\): ● Pareto frontier, ○ dominated/);
    for (let i = 0; i < runs.length; i++) assert.ok(f.includes(`${frontier.includes(i) ? FRONTIER_MARK : DOMINATED_MARK}${i + 1}`), `point ${i + 1}\n${f}`);
    assert.match(f, new RegExp(`Pareto frontier, ${frontier.length} of ${runs.length} points`));
    assert.match(f, /●1 +[\d.]+ req\/s +[\d.]+ ms +crops=4 conc=1/);
    // The scatter's lines fit the width they were given (the table above scrolls on its own).
    const scatter = f.slice(f.indexOf('p95 E2E latency (ms) vs'), f.indexOf(' 1 20261125-'));
    for (const l of scatter.split('\n')) assert.ok(l.length <= Math.min(width, 100), `${l.length}: ${l}`);
    r.unmount();
  }
});

test('runs that are not one sweep get no scatter; h exports HTML', async () => {
  const model = compareRuns([fakeRun({ seed: 1 }), fakeRun({ seed: 2, name: 'other' })]);
  const calls: string[] = [];
  const r = render(
    <CompareScreen
      model={model}
      title="2 run(s)"
      onExport={async (f) => {
        calls.push(f);
        return `/data/exports/x.${f}`;
      }}
      onBack={() => {}}
      onHelp={() => {}}
    />,
  );
  await tick();
  assert.doesNotMatch(stripAnsi(r.lastFrame()), /Pareto/);
  await press(r.stdin, 'e');
  assert.match(stripAnsi(r.lastFrame()), /as: j JSON · c CSV · m Markdown table · h HTML report \(esc cancels\)/);
  assert.match(stripAnsi(r.lastFrame()), /h HTML · esc cancel/);
  await press(r.stdin, 'h');
  await waitFor(() => assert.match(stripAnsi(r.lastFrame()), /exported the 2 runs' report as HTML to \/data\/exports\/x\.html/));
  assert.deepEqual(calls, ['html']);
  r.unmount();
});
