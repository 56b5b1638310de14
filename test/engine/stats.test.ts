import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyStats, nearestRankPercentile, HISTOGRAM_MAX_US, SUMMARY_PERCENTILES } from '../../src/engine/stats.js';
import { prng } from '../helpers/fake-run.js';

/** HDR with 3 significant digits: within 0.1% of the true value, plus half a microsecond of integer-us rounding. */
function assertClose(actual: number | null, expected: number | null, what: string): void {
  if (expected === null) return assert.equal(actual, null, what);
  assert.notEqual(actual, null, what);
  const tol = Math.abs(expected) * 1e-3 + 0.0005 + 1e-9;
  assert.ok(Math.abs(actual! - expected) <= tol, `${what}: HDR ${actual} vs exact ${expected} (tolerance ${tol})`);
}

function check(values: number[], label: string): void {
  const s = new LatencyStats();
  for (const v of values) s.record(v);
  const sorted = [...values].sort((a, b) => a - b);
  const sum = values.reduce((a, b) => a + b, 0);
  const sum2 = values.length ? values.reduce((acc, v) => acc + v, 0) : 0;
  const summary = s.summary();
  assert.equal(summary.count, values.length, `${label} count`);
  if (values.length === 0) {
    assert.deepEqual(summary, { count: 0, mean: null, min: null, max: null, p50: null, p90: null, p95: null, p99: null });
    return;
  }
  assert.equal(summary.min, sorted[0], `${label} min exact`);
  assert.equal(summary.max, sorted[sorted.length - 1], `${label} max exact`);
  assert.equal(summary.mean, sum / values.length, `${label} mean exact`);
  assert.equal(sum, sum2);
  for (const p of SUMMARY_PERCENTILES) {
    const key = `p${p}` as 'p50' | 'p90' | 'p95' | 'p99';
    assertClose(summary[key], nearestRankPercentile(sorted, p), `${label} p${p}`);
    // Percentiles are never outside the observed range.
    assert.ok(summary[key]! >= summary.min! && summary[key]! <= summary.max!, `${label} p${p} within [min, max]`);
  }
  for (const p of [0.1, 1, 10, 25, 33.3, 75, 99.9, 100]) assertClose(s.percentile(p), nearestRankPercentile(sorted, p), `${label} p${p}`);
}

test('nearestRankPercentile: the textbook definition', () => {
  assert.equal(nearestRankPercentile([], 50), null);
  assert.equal(nearestRankPercentile([7], 0), 7);
  assert.equal(nearestRankPercentile([7], 99), 7);
  const v = [15, 20, 35, 40, 50];
  assert.equal(nearestRankPercentile(v, 5), 15);
  assert.equal(nearestRankPercentile(v, 30), 20);
  assert.equal(nearestRankPercentile(v, 40), 20);
  assert.equal(nearestRankPercentile(v, 50), 35);
  assert.equal(nearestRankPercentile(v, 100), 50);
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(nearestRankPercentile(hundred, 90), 90);
  assert.equal(nearestRankPercentile(hundred, 99), 99);
  assert.equal(nearestRankPercentile(hundred, 99.5), 100);
});

test('HDR percentiles agree with exact nearest-rank ones: uniform, lognormal, sub-ms, wide', () => {
  const rnd = prng(42);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  check(Array.from({ length: 20_000 }, () => 0.05 + rnd() * 999.95), 'uniform 0.05..1000 ms');
  check(Array.from({ length: 20_000 }, () => Math.exp(Math.log(50) + gauss())), 'lognormal median 50 ms');
  check(Array.from({ length: 5_000 }, () => Math.exp(Math.log(2000) + 1.5 * gauss())), 'lognormal heavy tail (up to minutes)');
  check(Array.from({ length: 5_000 }, () => 0.002 + rnd() * 0.9), 'sub-millisecond');
  check(Array.from({ length: 7 }, () => rnd() * 100), 'seven values');
});

test('constant, single value and empty', () => {
  check(Array.from({ length: 1000 }, () => 12.345), 'constant');
  check([3.21], 'single');
  check([], 'empty');
  const one = new LatencyStats();
  one.record(123.456);
  const s = one.summary();
  // A single sample reads back exactly, not as the top of its HDR bucket.
  assert.deepEqual([s.p50, s.p99, s.min, s.max, s.mean], [123.456, 123.456, 123.456, 123.456, 123.456]);
});

test('out-of-range values are clamped and counted; non-finite ones dropped; reset clears everything', () => {
  const s = new LatencyStats();
  s.record(0);
  s.record(-1);
  s.record(5);
  s.record((HISTOGRAM_MAX_US / 1000) * 2);
  s.record(Number.NaN);
  s.record(Number.POSITIVE_INFINITY);
  assert.equal(s.count, 4);
  assert.equal(s.clamped, 3);
  assert.equal(s.invalid, 2);
  const sum = s.summary();
  assert.equal(sum.min, -1);
  assert.equal(sum.max, 7_200_000);
  assert.equal(sum.mean, (0 - 1 + 5 + 7_200_000) / 4);
  assert.ok(sum.p99! <= 7_200_000 && sum.p99! >= 3_600_000 * 0.999);
  s.reset();
  assert.equal(s.count, 0);
  assert.equal(s.clamped, 0);
  assert.equal(s.summary().p50, null);
  s.record(1);
  assert.equal(s.summary().p50, 1);
});
