import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareRuns } from '../../src/report/compare.js';
import { DOMINATED_MARK, FRONTIER_MARK, isSweepModel, renderFrontierScatter, scatterPointsOfModel, scatterPointsOfRuns, type ScatterPoint } from '../../src/report/frontier-scatter.js';
import { fakeRun } from '../helpers/fake-run.js';

const pt = (n: number, throughputReqS: number | null, latencyMs: number | null, label = `max-crops=${n}`): ScatterPoint => ({ n, label, throughputReqS, latencyMs });

const POINTS = [pt(1, 1.2, 1840, 'min-ratio=2 max-crops=4'), pt(2, 0.52, 410, 'min-ratio=2 max-crops=6'), pt(3, 2.1, 900, 'min-ratio=2.5 max-crops=4'), pt(4, 2.6, 1200, 'min-ratio=2.5 max-crops=6'), pt(5, 3.1, 1000, 'min-ratio=3 max-crops=4')];

test('fits 80 columns: every line, with the frontier filled, the others hollow, and the frontier listed with its knobs', () => {
  const lines = renderFrontierScatter(POINTS);
  for (const l of lines) assert.ok([...l].length <= 80, `${[...l].length} > 80: ${l}`);
  const text = lines.join('\n');
  for (const n of [2, 3, 5]) assert.ok(text.includes(`${FRONTIER_MARK}${n}`), `frontier point ${n}\n${text}`);
  for (const n of [1, 4]) assert.ok(text.includes(`${DOMINATED_MARK}${n}`), `dominated point ${n}\n${text}`);
  assert.match(text, /Pareto frontier, 3 of 5 points/);
  assert.match(text, /●2 +0\.52 req\/s +410 ms +min-ratio=2 max-crops=6/);
  assert.match(text, /●5 +3\.10 req\/s +1000 ms +min-ratio=3 max-crops=4/);
  assert.doesNotMatch(text, /●1 /);
  // The axes: latency top and bottom, throughput left and right.
  assert.match(lines[1], /^1840 ┤/);
  assert.match(text, /\n 410 ┤/);
  assert.match(text, /0\.52 +3\.10 req\/s/);
});

test('the plot places points by value: the highest latency on the top row, the lowest on the bottom, left to right by throughput', () => {
  const lines = renderFrontierScatter(POINTS, { width: 80, height: 9 });
  const plot = lines.slice(1, 10);
  assert.ok(plot[0].includes(`${DOMINATED_MARK}1`));
  assert.ok(plot[8].includes(`${FRONTIER_MARK}2`));
  const col = (mark: string) => plot.find((l) => l.includes(mark))!.indexOf(mark);
  assert.ok(col(`${FRONTIER_MARK}2`) < col(`${DOMINATED_MARK}1`) && col(`${DOMINATED_MARK}1`) < col(`${FRONTIER_MARK}3`) && col(`${FRONTIER_MARK}3`) < col(`${FRONTIER_MARK}5`));
});

test('a single point, points without numbers, and crowded points are all accounted for', () => {
  const one = renderFrontierScatter([pt(1, 2, 100)]).join('\n');
  assert.match(one, /●1/);
  assert.match(one, /Pareto frontier, 1 of 1 point:/);
  const none = renderFrontierScatter([pt(1, null, null)]).join('\n');
  assert.match(none, /no point has both numbers/);
  const missing = renderFrontierScatter([pt(1, 2, 100), pt(2, null, null)]).join('\n');
  assert.match(missing, /not drawn \(no completed request\): 2/);
  // Twenty identical points cannot all get a cell near their place: the ones left out are named.
  const crowd = renderFrontierScatter(Array.from({ length: 40 }, (_, i) => pt(i + 1, 1, 100)), { width: 40, height: 3 });
  const plotted = crowd.slice(1, 4).join('\n').match(/●\d+/g) ?? [];
  const crowded = /crowded out\): ([\d,\s]+)/.exec(crowd.join('\n'));
  assert.ok(crowded, crowd.join('\n'));
  assert.equal(plotted.length + crowded[1].split(',').length, 40);
  for (const l of crowd) assert.ok([...l].length <= 40, l);
  assert.match(crowd.join('\n'), /… and 30 more/);
});

test('points from a sweep\'s runs and from its comparison model agree; only a one-sweep model is a sweep', () => {
  const group = (i: number) => ({ id: 'sweep-20261125-160000-ab12', kind: 'sweep' as const, point: { 'max-crops': 2 + 2 * i }, index: i, total: 3 });
  const runs = [0, 1, 2].map((i) => fakeRun({ id: `20261125-16000${i}-sweep-000${i}`, seed: 3 + i, latencyScale: 1 + 0.3 * i, group: group(i) }));
  const model = compareRuns(runs);
  assert.ok(isSweepModel(model));
  assert.deepEqual(scatterPointsOfModel(model), scatterPointsOfRuns(runs));
  assert.deepEqual(scatterPointsOfRuns(runs).map((p) => p.label), ['crops=2', 'crops=4', 'crops=6']);
  assert.equal(isSweepModel(compareRuns([fakeRun({ seed: 1 }), fakeRun({ seed: 2 })])), false);
  assert.equal(isSweepModel(compareRuns([runs[0], fakeRun({ seed: 2 })])), false);
});
