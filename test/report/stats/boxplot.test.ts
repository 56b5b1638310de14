// The text box plot: exact strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BOXPLOT_LEGEND, boxPlotRow, renderBoxPlot, type BoxPlotRow } from '../../../src/report/stats/boxplot.js';

const row = (label: string, q: [number, number, number, number, number], ci: [number, number] | null): BoxPlotRow => ({
  label,
  p5: q[0],
  p25: q[1],
  p50: q[2],
  p75: q[3],
  p95: q[4],
  medianCi95: ci,
});

test('one line per run on a shared axis, then the axis', () => {
  const lines = renderBoxPlot([row('a', [10, 20, 30, 40, 50], [28, 32]), row('b', [30, 40, 50, 60, 110], [45, 55])], { width: 40 });
  assert.deepEqual(lines, [
    'a ├───▒▒▒┃█▒▒▒───┤',
    'b        ├───▒▒██┃██▒▒─────────────────┤',
    '  10.0 ms        60.0 ms          110 ms',
  ]);
  for (const l of lines) assert.ok([...l].length <= 40);
});

test('at 80 columns: long labels are cut, overlapping runs show it, the legend fits', () => {
  const lines = renderBoxPlot(
    [row('baseline run with a long name', [812, 901, 955, 1010, 1190], [930, 981]), row('48 tokens', [1500, 1580, 1640, 1700, 1850], [1622, 1660]), row('same again', [820, 899, 949, 1003, 1202], [925, 978])],
    { width: 80 },
  );
  assert.deepEqual(lines, [
    'baseline run wi… ├────▒▒██┃█▒▒──────────┤',
    '48 tokens                                                 ├────▒▒█┃██▒▒────────┤',
    'same again       ├────▒▒█┃██▒───────────┤',
    '                 812 ms                      1.33 s                       1.85 s',
  ]);
  for (const l of lines) assert.ok([...l].length <= 80, l);
  assert.ok([...BOXPLOT_LEGEND].length <= 80);
});

test('no interval, one value everywhere, custom format; too narrow throws', () => {
  assert.deepEqual(renderBoxPlot([row('x', [5, 6, 7, 8, 9], null)], { width: 12, format: (v) => `${v}` }), ['x ├─▒▒▒┃▒▒─┤', '  5   7    9']);
  assert.deepEqual(renderBoxPlot([row('flat', [3, 3, 3, 3, 3], [3, 3])], { width: 20, format: (v) => `${v}` }), ['flat        ┃', '     3']);
  assert.deepEqual(renderBoxPlot([], { width: 80 }), []);
  assert.throws(() => renderBoxPlot([row('x', [1, 2, 3, 4, 5], null)], { width: 11 }), /at least 12 columns/);
  // Labels give way to the plot when the width is tight.
  assert.deepEqual(renderBoxPlot([row('a long label', [1, 2, 3, 4, 5], null)], { width: 14, format: (v) => `${v}` }), ['a … ├─▒▒▒┃▒▒─┤', '    1   3    5']);
});

test('boxPlotRow: nearest-rank quantiles of a run\'s values', () => {
  const r = boxPlotRow('run', Array.from({ length: 100 }, (_, i) => 100 - i), [48, 53])!;
  assert.deepEqual(r, { label: 'run', p5: 5, p25: 25, p50: 50, p75: 75, p95: 95, medianCi95: [48, 53] });
  assert.equal(boxPlotRow('none', [], null), null);
});
