import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignCdfs, binCounts, cdf, histogram, niceBinS, sortedFinite } from '../../../src/report/html/distributions.js';

test('sortedFinite drops nulls and non-finite values and sorts numerically', () => {
  assert.deepEqual([...sortedFinite([10, null, 2, undefined, Number.NaN, 100, Infinity, -1])], [-1, 2, 10, 100]);
});

test('histogram: about √n bins over [min, max], every sample counted once; one bin for equal values', () => {
  const values = sortedFinite(Array.from({ length: 100 }, (_, i) => i));
  const h = histogram(values);
  assert.equal(h.counts.length, 10);
  assert.equal(h.counts.reduce((a, b) => a + b, 0), 100);
  assert.deepEqual(h.counts, new Array(10).fill(10));
  assert.equal(h.x[0], 4.95);
  assert.deepEqual(histogram(sortedFinite([5, 5, 5])), { x: [5], counts: [3], binWidth: 0 });
  assert.deepEqual(histogram(sortedFinite([])).counts, []);
  assert.equal(histogram(sortedFinite(Array.from({ length: 100_000 }, (_, i) => i))).counts.length, 40);
});

test('cdf: at most maxPoints, min and max always in, shares rising to 100', () => {
  const many = sortedFinite(Array.from({ length: 1_000_000 }, (_, i) => i / 1000));
  const c = cdf(many, 400);
  assert.equal(c.x.length, 400);
  assert.equal(c.x[0], 0);
  assert.equal(c.x.at(-1), 1000);
  assert.equal(c.y.at(-1), 100);
  for (let i = 1; i < c.x.length; i++) assert.ok(c.x[i] >= c.x[i - 1] && c.y[i] > c.y[i - 1]);
  assert.deepEqual(cdf(sortedFinite([7])), { x: [7], y: [100] });
  assert.deepEqual(cdf(sortedFinite([1, 2, 3, 4])), { x: [1, 2, 3, 4], y: [25, 50, 75, 100] });
});

test('alignCdfs: one ascending x axis, each series null where it has no point, ties keep the highest share', () => {
  const a = { x: [1, 3], y: [50, 100] };
  const b = { x: [2, 3, 3], y: [10, 60, 100] };
  assert.deepEqual(alignCdfs([a, b]), { x: [1, 2, 3], series: [[50, null, 100], [null, 10, 100]] });
});

test('niceBinS: a round width giving at most maxBins bins; binCounts puts late times in the last bin', () => {
  assert.equal(niceBinS(60, 120), 0.5);
  assert.equal(niceBinS(4.2, 150), 0.05);
  assert.equal(niceBinS(3600, 120), 50);
  assert.equal(niceBinS(0, 120), 1);
  for (const span of [0.3, 7, 99, 12_345]) assert.ok(span / niceBinS(span, 100) <= 100);
  assert.deepEqual(binCounts([0, 0.4, 0.5, 1.2, 9, -1, Number.NaN], 0.5, 3), [2, 1, 2]);
});
