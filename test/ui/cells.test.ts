// The screens' pure text helpers: bars, sparklines, histogram rows, unit-less cells, truncation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bar, fit, fitRight, gibCell, histogramRows, msCell, ofTotal, pctCell, rateCell, sparkline, truncate, truncateStart } from '../../src/ui/cells.js';

test('bar fills in proportion, clamps, and is empty for a missing value', () => {
  assert.equal(bar(0.5, 10), '█████░░░░░');
  assert.equal(bar(0, 4), '░░░░');
  assert.equal(bar(1.7, 4), '████');
  assert.equal(bar(-1, 4), '░░░░');
  assert.equal(bar(null, 3), '░░░');
  assert.equal(bar(Number.NaN, 3), '░░░');
});

test('sparkline scales from min to max over the last width values', () => {
  assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8), '▁▂▃▄▅▆▇█');
  assert.equal(sparkline([5, 5, 5], 10), '▄▄▄');
  assert.equal(sparkline([100, 1, 2, 3], 3), '▁▅█');
  assert.equal(sparkline([], 5), '');
  assert.equal(sparkline([1, null, 3], 5), '▁ █');
});

test('histogram rows are in numeric key order with bars scaled to the largest count', () => {
  const rows = histogramRows({ '10': 1, '2': 4, '0': 2, '3': 0 }, 8);
  assert.deepEqual(rows.map((r) => [r.key, r.count, r.bar.length]), [
    ['0', 2, 4],
    ['2', 4, 8],
    ['10', 1, 2],
  ]);
});

test('unit-less cells keep about 3 significant digits', () => {
  assert.equal(msCell(1846.27), '1846');
  assert.equal(msCell(26.54), '26.5');
  assert.equal(msCell(0.0436), '0.044');
  assert.equal(msCell(null), '-');
  assert.equal(rateCell(6.6037), '6.60');
  assert.equal(pctCell(87.25), '87.3');
  assert.equal(gibCell(40960), '40.0');
  assert.equal(gibCell(null), '-');
});

test('truncate and fit keep exact widths', () => {
  assert.equal(truncate('abcdef', 4), 'abc…');
  assert.equal(truncate('abc', 4), 'abc');
  assert.equal(truncate('abc', 0), '');
  assert.equal(truncateStart('abcdef', 4), '…def');
  assert.equal(truncateStart('abc', 3), 'abc');
  assert.equal(truncateStart('abc', 1), '…');
  assert.equal(truncateStart('abc', 0), '');
  assert.equal(fit('ab', 4), 'ab  ');
  assert.equal(fit('abcdef', 4), 'abc…');
  assert.equal(fitRight('7', 3), '  7');
  assert.equal(ofTotal(3, 8), '3/8');
  assert.equal(ofTotal(3, null), '3');
});
