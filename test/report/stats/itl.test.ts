// The pooled ITL bootstrap: whole requests move together; small runs give exactly the request bootstrap, large
// ones (thresholds from a subsample, counts per block) stay within a small fraction of the interval of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestBlocks } from '../../../src/report/stats/blocks.js';
import { bootstrapRun, REQUEST_BLOCKS_MAX } from '../../../src/report/stats/bootstrap.js';
import { bootstrapItl, ITL_SUBSAMPLE_GAPS } from '../../../src/report/stats/itl.js';
import { nearestRank } from '../../../src/report/stats/order.js';
import { subStream } from '../../../src/report/stats/random.js';
import { LATENCY_STATISTICS, SUMMARY_PERCENTILE_OF, type PercentileStatistic } from '../../../src/report/stats/types.js';
import { prng } from '../../../src/util/prng.js';
import { okRecord, tokenTimes } from './helpers.js';

const PCTS = ['p50', 'p90', 'p95', 'p99'] as const satisfies readonly PercentileStatistic[];

/** Requests whose decode speed differs (per-request rate) with jitter, times rounded to microseconds (as recorded). */
function requests(count: number, tokens: number, seed: number, quantumMs = 0.001): number[][] {
  const rnd = prng(seed);
  return Array.from({ length: count }, () => {
    const rate = 8 + 10 * rnd();
    const gaps = Array.from({ length: tokens - 1 }, () => rate * (0.8 + 0.4 * rnd()) + (rnd() < 0.02 ? 30 * rnd() : 0));
    return tokenTimes(50 * rnd(), gaps).map((t) => Math.round(t / quantumMs) * quantumMs);
  });
}

/** The request bootstrap done literally for the same draws: pool every drawn request's gaps, read the rank. */
function literal(times: number[][], blocks: RequestBlocks): Record<string, Float64Array> {
  const gaps: { v: number; block: number }[] = [];
  times.forEach((t, i) => {
    for (let j = 1; j < t.length; j++) gaps.push({ v: t[j] - t[j - 1], block: blocks.blockOf[i] });
  });
  gaps.sort((a, b) => a.v - b.v);
  const out: Record<string, Float64Array> = Object.fromEntries(LATENCY_STATISTICS.map((s) => [s, new Float64Array(blocks.resamples)]));
  for (let b = 0; b < blocks.resamples; b++) {
    const w = (g: number): number => blocks.counts[b * blocks.blocks + g];
    let total = 0;
    let sum = 0;
    for (const g of gaps) {
      total += w(g.block);
      sum += w(g.block) * g.v;
    }
    out.mean[b] = sum / total;
    for (const s of PCTS) {
      const rank = nearestRank(SUMMARY_PERCENTILE_OF[s], total);
      let cum = 0;
      let k = 0;
      while ((cum += w(gaps[k].block)) < rank) k++;
      out[s][b] = gaps[k].v;
    }
  }
  return out;
}

function exactPercentile(times: number[][], p: number): number {
  const all = times.flatMap((t) => t.slice(1).map((v, j) => v - t[j])).sort((a, b) => a - b);
  return all[nearestRank(p, all.length) - 1];
}

test('a small run gives exactly the request bootstrap (every distinct gap is a threshold)', () => {
  const times = requests(30, 9, 1);
  const blocks = new RequestBlocks(times.length, REQUEST_BLOCKS_MAX, 300, prng(2));
  const r = bootstrapItl(times, blocks, subStream(1, 'itl'), 0.95);
  const want = literal(times, blocks);
  for (const s of LATENCY_STATISTICS) {
    for (let b = 0; b < 300; b++) assert.ok(Math.abs(r.stats[s].resamples[b] - want[s][b]) <= 1e-9 * want[s][b], `${s} resample ${b}: ${r.stats[s].resamples[b]} vs ${want[s][b]}`);
  }
  for (const s of PCTS) assert.equal(r.stats[s].value, exactPercentile(times, SUMMARY_PERCENTILE_OF[s]));
  assert.equal(r.windowMisses, 0);
});

test('a large run (subsample thresholds, interpolated cells) stays within a few percent of an interval of the request bootstrap', () => {
  for (const [count, tokens, blocksMax, quantum] of [[300, 130, REQUEST_BLOCKS_MAX, 0.001], [1200, 40, 64, 0.001], [400, 100, REQUEST_BLOCKS_MAX, 1]] as const) {
    const times = requests(count, tokens, count, quantum);
    const gapsTotal = count * (tokens - 1);
    assert.ok(gapsTotal > ITL_SUBSAMPLE_GAPS);
    const blocks = new RequestBlocks(times.length, blocksMax, 200, prng(3));
    const r = bootstrapItl(times, blocks, subStream(2, 'itl'), 0.95);
    const want = literal(times, blocks);
    assert.equal(r.windowMisses, 0);
    for (const s of PCTS) {
      assert.equal(r.stats[s].value, exactPercentile(times, SUMMARY_PERCENTILE_OF[s]), `${s} point estimate`);
      const sorted = Float64Array.from(want[s]).sort();
      const width = sorted[194] - sorted[4];
      let worst = 0;
      for (let b = 0; b < 200; b++) worst = Math.max(worst, Math.abs(r.stats[s].resamples[b] - want[s][b]));
      let meanError = 0;
      for (let b = 0; b < 200; b++) meanError += Math.abs(r.stats[s].resamples[b] - want[s][b]) / 200;
      const ours = Float64Array.from(r.stats[s].resamples).sort();
      const where = `${count}x${tokens} q=${quantum} ${s}`;
      // Interpolation between thresholds: within a few percent of the interval for any resample, and well under
      // one percent on average; the interval's ends (here the 2.5% and 97.5% of 200) move less.
      assert.ok(worst <= 0.1 * width + 1e-9, `${where}: worst error ${worst} vs interval width ${width}`);
      assert.ok(meanError <= 0.02 * width + 1e-9, `${where}: mean error ${meanError} vs interval width ${width}`);
      assert.ok(Math.abs(ours[4] - sorted[4]) <= 0.05 * width + 1e-9 && Math.abs(ours[194] - sorted[194]) <= 0.05 * width + 1e-9, `${where}: ends`);
      if (quantum === 1) assert.ok(r.stats[s].resamples.every((v) => Number.isInteger(Math.round(v * 1e6) / 1e6)), `${s}: ties stay on the tied values`);
    }
    for (let b = 0; b < 200; b++) assert.ok(Math.abs(r.stats.mean.resamples[b] - want.mean[b]) < 1e-9 * want.mean[b]);
  }
});

test('whole requests are resampled: one request with many slow gaps moves together', () => {
  // 19 requests of 100 gaps near 10 ms and one of 100 gaps near 50 ms: the pooled p99 is a slow gap, unless a
  // resample leaves the slow request out, which happens with probability (19/20)^20 = 35.8%.
  const rnd = prng(21);
  const records = Array.from({ length: 20 }, (_, i) => {
    const base = i === 7 ? 50 : 10;
    const t = tokenTimes(30, Array.from({ length: 100 }, () => base + rnd() - 0.5));
    return okRecord(i, { tokenTimesMs: t, e2eMs: t[t.length - 1] + 1 });
  });
  const itl = bootstrapRun(records, { seed: 5 }).latency.itlMs!;
  const p99 = itl.p99;
  assert.ok(p99.value > 45, `p99 ${p99.value}`);
  const fast = p99.resamples.filter((v) => v < 30).length / p99.resamples.length;
  assert.ok(fast > 0.3 && fast < 0.42, `resamples without the slow request: ${fast}`);
  assert.ok(p99.ci95[0] < 15 && p99.ci95[1] > 45, `p99 interval [${p99.ci95}]`);
  // Resampling gaps one by one would give the mean a standard error near 0.2 ms (an interval under 1 ms wide);
  // whole requests give one of 2 ms (the slow request is drawn 0, 1, 2 ... times).
  const width = itl.mean.ci95[1] - itl.mean.ci95[0];
  assert.ok(width > 4, `mean interval width ${width}`);
  assert.ok(itl.mean.ci95[0] <= itl.mean.value && itl.mean.value <= itl.mean.ci95[1]);
});

test('requests with one token (no gaps) are left out of the ITL; no gaps at all gives null', () => {
  const records = [okRecord(0, { tokenTimesMs: [5] }), okRecord(1, { tokenTimesMs: [5, 15, 25] }), okRecord(2, { tokenTimesMs: [5, 25] })];
  const itl = bootstrapRun(records).latency.itlMs!;
  assert.equal(itl.p50.value, 10);
  assert.equal(itl.p99.value, 20);
  assert.ok(Math.abs(itl.mean.value - 40 / 3) < 1e-12);
  assert.equal(bootstrapRun([okRecord(0, { tokenTimesMs: [5] })]).latency.itlMs, null);
});

test('odd gaps: zeros (tokens in one chunk), negatives, huge outliers, heavy ties', () => {
  const run = (gap: (r: () => number) => number, count: number, tokens: number) => {
    const r = prng(3);
    return Array.from({ length: count }, (_, i) => {
      const t = tokenTimes(10, Array.from({ length: tokens - 1 }, () => gap(r)));
      return okRecord(i, { tokenTimesMs: t, e2eMs: t[t.length - 1] + 1 });
    });
  };
  const cases = {
    zeros: run(() => 0, 50, 20),
    'mostly zeros': run((r) => (r() < 0.7 ? 0 : 5), 400, 120),
    negatives: run((r) => r() - 0.3, 300, 150),
    outliers: run((r) => (r() < 0.001 ? 1e6 : r() < 0.5 ? 1e-6 : 10 + r()), 400, 120),
    ties: run((r) => Math.floor(r() * 4), 500, 100),
  };
  for (const [name, records] of Object.entries(cases)) {
    const b = bootstrapRun(records, { seed: 1 });
    assert.equal(b.method.itlWindowMisses, 0, name);
    const gaps = records.flatMap((rec) => rec.tokenTimesMs.slice(1).map((v, j) => v - rec.tokenTimesMs[j])).sort((x, y) => x - y);
    for (const s of LATENCY_STATISTICS) {
      const e = b.latency.itlMs![s];
      assert.ok(e.resamples.every((v) => Number.isFinite(v)), `${name} ${s}`);
      assert.ok(e.ci95[0] <= e.value && e.value <= e.ci95[1], `${name} ${s}: ${e.value} outside [${e.ci95}]`);
      if (s !== 'mean') assert.equal(e.value, gaps[nearestRank(SUMMARY_PERCENTILE_OF[s], gaps.length) - 1], `${name} ${s}`);
    }
  }
  assert.deepEqual(bootstrapRun(cases.zeros).latency.itlMs!.p99.ci95, [0, 0]);
  assert.deepEqual(bootstrapRun(cases.ties).latency.itlMs!.p99.ci95, [3, 3]);
});
