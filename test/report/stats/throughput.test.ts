// Intervals for req/s and output tokens/s: a circular block bootstrap over time bins of the measured window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapRun } from '../../../src/report/stats/bootstrap.js';
import { bootstrapRates, THROUGHPUT_BINS_MAX, type Completion } from '../../../src/report/stats/throughput.js';
import { prng } from '../../../src/util/prng.js';
import { fakeRun } from '../../helpers/fake-run.js';
import { okRecord } from './helpers.js';

const B = 1000;
const relWidth = (e: { value: number; ci95: readonly [number, number] }): number => (e.ci95[1] - e.ci95[0]) / e.value;

test('evenly spaced completions have a rate with no spread; Poisson ones the spread of a Poisson count', () => {
  const even: Completion[] = Array.from({ length: 400 }, (_, i) => ({ finishedAtMs: 5 + i * 10, outputTokens: 16 }));
  const r = bootstrapRates(even, 0, 4000, 20, B, prng(1), 0.95)!;
  assert.equal(r.throughputReqS.value, 100);
  assert.deepEqual(r.throughputReqS.ci95, [100, 100]);
  assert.equal(r.bins, THROUGHPUT_BINS_MAX);

  // A Poisson process of 400 completions: the count's relative 95% interval is about 2 * 1.96 / sqrt(400) = 0.196.
  const rnd = prng(2);
  let t = 0;
  const poisson: Completion[] = [];
  for (let i = 0; i < 400; i++) {
    t += -Math.log(1 - rnd()) * 10;
    poisson.push({ finishedAtMs: t, outputTokens: 16 });
  }
  const p = bootstrapRates(poisson, 0, t, 20, B, prng(3), 0.95)!;
  const w = relWidth(p.throughputReqS);
  assert.ok(w > 0.12 && w < 0.3, `relative width ${w}`);
  assert.ok(p.throughputReqS.ci95[0] <= p.throughputReqS.value && p.throughputReqS.value <= p.throughputReqS.ci95[1]);
  // Circular blocks make every bin equally likely: the resamples centre on the run's own rate.
  const mean = p.throughputReqS.resamples.reduce((a, v) => a + v, 0) / B;
  assert.ok(Math.abs(mean / p.throughputReqS.value - 1) < 0.01, `resample mean ${mean} vs ${p.throughputReqS.value}`);
  // Tokens/s comes from the same draws: with 16 tokens each it is exactly 16 times req/s in every resample.
  p.outputTokensPerS.resamples.forEach((v, b) => assert.ok(Math.abs(v - 16 * p.throughputReqS.resamples[b]) < 1e-9));
});

test('blocks of time, not single bins: a run whose rate changes halfway gets a wider interval than shuffled bins would give', () => {
  // 200 completions in the first 10 s, 50 in the next 10 s: neighbouring bins are alike, so blocks of them keep
  // the slow and fast stretches together.
  const rnd = prng(5);
  const c: Completion[] = [];
  for (let i = 0; i < 200; i++) c.push({ finishedAtMs: rnd() * 10_000, outputTokens: 8 });
  for (let i = 0; i < 50; i++) c.push({ finishedAtMs: 10_000 + rnd() * 10_000, outputTokens: 8 });
  const blocky = bootstrapRates(c, 0, 20_000, 2000, B, prng(6), 0.95)!;
  const single = bootstrapRates(c, 0, 20_000, null, B, prng(6), 0.95)!;
  assert.ok(blocky.blockBins > single.blockBins, `${blocky.blockBins} vs ${single.blockBins}`);
  assert.ok(relWidth(blocky.throughputReqS) > 1.3 * relWidth(single.throughputReqS), `${relWidth(blocky.throughputReqS)} vs ${relWidth(single.throughputReqS)}`);
});

test('the block is at least one median E2E long, and at most half the bins', () => {
  const c: Completion[] = Array.from({ length: 200 }, (_, i) => ({ finishedAtMs: i * 10, outputTokens: 1 }));
  // 100 bins of 20 ms: a 300 ms median E2E spans 15 bins; cube root of 100 rounds to 5.
  assert.equal(bootstrapRates(c, 0, 2000, 300, B, prng(1), 0.95)!.blockBins, 15);
  assert.equal(bootstrapRates(c, 0, 2000, 1, B, prng(1), 0.95)!.blockBins, 5);
  assert.equal(bootstrapRates(c, 0, 2000, 1e6, B, prng(1), 0.95)!.blockBins, 50);
  assert.equal(bootstrapRates([], 0, 2000, 1, B, prng(1), 0.95), null);
  assert.equal(bootstrapRates(c, 5, 5, 1, B, prng(1), 0.95), null);
});

test('in a run: the window spans every measured request (failures too), the values are the summary\'s, each inside its interval', () => {
  const run = fakeRun({ requests: 60, failed: 3, warmup: 2, outputTokens: 12, seed: 8 });
  const b = bootstrapRun(run.requests, { seed: 1 });
  for (const [e, want] of [[b.throughputReqS!, run.summary.throughputReqS!], [b.outputTokensPerS!, run.summary.outputTokensPerS!]] as const) {
    assert.ok(Math.abs(e.value - want) < 1e-9 * want);
    assert.ok(e.ci95[0] <= e.value && e.value <= e.ci95[1]);
    assert.ok(e.ci95[1] > e.ci95[0]);
  }
  // A warmup request far outside the window changes nothing.
  const late = okRecord(999, { warmup: true, enqueuedAtMs: 1e6, e2eMs: 5 });
  assert.deepEqual(bootstrapRun([...run.requests, late], { seed: 1 }).throughputReqS, b.throughputReqS);
});
