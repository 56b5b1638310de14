// Significance of differences: paired resamples within runs, and the between-repeat spread for groups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapRun } from '../../../src/report/stats/bootstrap.js';
import { seedFromString } from '../../../src/report/stats/random.js';
import {
  combinedVerdict,
  compareEstimates,
  compareRepeats,
  compareRuns,
  repeatSpread,
  type Difference,
} from '../../../src/report/stats/significance.js';
import type { Estimate } from '../../../src/report/stats/types.js';
import type { RunFile } from '../../../src/engine/types.js';
import { fakeRun } from '../../helpers/fake-run.js';
import { logNormal, okRecord } from './helpers.js';

const boot = (run: RunFile) => bootstrapRun(run.requests, { seed: seedFromString(run.id) });

test('two runs of one configuration (16 requests, 8 tokens) are not different on E2E p50; one with 48 tokens is', () => {
  const a = fakeRun({ requests: 16, outputTokens: 8, seed: 1 });
  const b = fakeRun({ requests: 16, outputTokens: 8, seed: 2 });
  const c = fakeRun({ requests: 16, outputTokens: 48, seed: 3 });
  assert.notEqual(a.id, b.id);
  const [ba, bb, bc] = [a, b, c].map(boot);
  const same = compareRuns(ba, bb).latency.e2eMs!.p50;
  assert.equal(same.significant, false, `a vs b: [${same.ci95}]`);
  assert.ok(same.ci95[0] < 0 && same.ci95[1] > 0);
  for (const base of [ba, bb]) {
    const d = compareRuns(base, bc).latency.e2eMs!.p50;
    assert.equal(d.significant, true, `vs 48 tokens: [${d.ci95}]`);
    assert.ok(d.delta > 0 && d.ci95[0] > 0);
    assert.ok(d.ci95[0] <= d.delta && d.delta <= d.ci95[1]);
  }
});

test('samples of one log-normal are not significantly different on p50, p90 or the mean; 15% slower ones are on p50', () => {
  const draw = logNormal(31, Math.log(200), 0.4);
  const run = (scale: number) => Array.from({ length: 400 }, (_, i) => okRecord(i, { e2eMs: draw() * scale }));
  const a = bootstrapRun(run(1), { seed: 1 });
  const b = bootstrapRun(run(1), { seed: 2 });
  const slow = bootstrapRun(run(1.15), { seed: 3 });
  const same = compareRuns(a, b).latency.e2eMs!;
  for (const s of ['p50', 'p90', 'mean'] as const) assert.equal(same[s].significant, false, `${s}: [${same[s].ci95}]`);
  const d = compareRuns(a, slow).latency.e2eMs!;
  assert.equal(d.p50.significant, true, `[${d.p50.ci95}]`);
  assert.equal(d.mean.significant, true, `[${d.mean.ci95}]`);
  // ... and the comparison is symmetric.
  const back = compareRuns(slow, a).latency.e2eMs!.p50;
  assert.ok(Math.abs(back.delta + d.p50.delta) < 1e-9 && back.significant);
});

const est = (value: number, resamples: number[]): Estimate => ({ value, ci95: [Math.min(...resamples), Math.max(...resamples)], resamples: Float64Array.from(resamples) });

test('compareEstimates: paired by resample index; zero-width intervals prove nothing; counts must match', () => {
  const base = est(10, Array.from({ length: 40 }, (_, i) => 10 + (i % 5)));
  const up = est(20, Array.from({ length: 40 }, (_, i) => 20 + (i % 5)));
  const d = compareEstimates(base, up);
  assert.equal(d.delta, 10);
  assert.deepEqual(d.ci95, [10, 10]);
  assert.equal(d.significant, false, 'paired resamples that differ by a constant give no spread');
  const noisy = est(20, Array.from({ length: 40 }, (_, i) => 20 + ((i * 7) % 5)));
  const n = compareEstimates(base, noisy);
  assert.equal(n.significant, true);
  assert.ok(n.ci95[0] > 0);
  assert.equal(compareEstimates(base, base).significant, false);
  assert.throws(() => compareEstimates(base, est(1, [1, 2])), /paired resamples need equal/);
});

test('compareRuns: every statistic, null where a run lacks the metric', () => {
  const a = bootstrapRun([okRecord(0, { visionMs: null }), okRecord(1, { visionMs: null })], { seed: 1 });
  const b = bootstrapRun([okRecord(0), okRecord(1, { e2eMs: 120 })], { seed: 2 });
  const d = compareRuns(a, b);
  assert.equal(d.latency.visionMs, null);
  assert.equal(Object.keys(d.latency.e2eMs!).length, 5);
  assert.ok(d.throughputReqS && d.outputTokensPerS && d.tokensPerSMean);
});

test('repeats: min / median / max, and a difference counts only beyond the spread of the repeats', () => {
  assert.deepEqual(repeatSpread([12, 10, 11]), { count: 3, min: 10, median: 11, max: 12 });
  assert.deepEqual(repeatSpread([4, 1, 3, 2]), { count: 4, min: 1, median: 2.5, max: 4 });
  assert.equal(repeatSpread([]), null);
  assert.deepEqual(repeatSpread([NaN, 5]), { count: 1, min: 5, median: 5, max: 5 });

  const apart = compareRepeats([100, 102, 101], [110, 112, 111])!;
  assert.equal(apart.exceedsSpread, true);
  assert.equal(apart.separation, 8);
  assert.equal(apart.delta, 10);
  const faster = compareRepeats([100, 102, 101], [90, 95, 93])!;
  assert.equal(faster.exceedsSpread, true);
  assert.equal(faster.separation, 5);
  const overlap = compareRepeats([100, 108, 101], [104, 112, 111])!;
  assert.equal(overlap.exceedsSpread, false);
  assert.equal(overlap.separation, -4);
  assert.equal(compareRepeats([100, 102], [102, 104])!.exceedsSpread, false, 'touching ranges overlap');
  assert.equal(compareRepeats([100], [110, 111])!.exceedsSpread, null, 'a single repeat has no spread');
  assert.equal(compareRepeats([], [1]), null);

  const sig: Difference = { delta: 10, ci95: [5, 15], significant: true };
  const not: Difference = { delta: 1, ci95: [-1, 3], significant: false };
  assert.equal(combinedVerdict(sig, null), true);
  assert.equal(combinedVerdict(sig, apart), true);
  assert.equal(combinedVerdict(sig, overlap), false, 'machine noise between repeats outweighs the difference');
  assert.equal(combinedVerdict(sig, compareRepeats([1], [2])), true);
  assert.equal(combinedVerdict(not, apart), false, 'repeats never add a verdict');
});
