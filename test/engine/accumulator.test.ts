import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunAccumulator, summarizeRecords, RECENT_ERRORS_MAX } from '../../src/engine/accumulator.js';
import { nearestRankPercentile } from '../../src/engine/stats.js';
import { LATENCY_METRICS, type RequestRecord } from '../../src/engine/types.js';
import { fakeRecords } from '../helpers/fake-run.js';

let nextId = 0;
/** A completed measured request; override what the test is about. */
function rec(o: Partial<RequestRecord> = {}): RequestRecord {
  const tokenTimesMs = o.tokenTimesMs ?? [10, 12, 14];
  return {
    id: nextId++,
    imageIndex: 0,
    promptIndex: 0,
    warmup: false,
    status: 'ok',
    error: null,
    replica: 0,
    batchSize: 1,
    crops: 0,
    imageTokens: 256,
    promptTokens: 300,
    outputTokens: tokenTimesMs.length,
    enqueuedAtMs: 0,
    dispatchedAtMs: 1,
    finishedAtMs: 100,
    queueMs: 1,
    preprocessMs: 2,
    visionMs: 3,
    ttftMs: 10,
    e2eMs: 100,
    tpotMs: 2,
    tokenIds: [],
    ...o,
    tokenTimesMs,
  };
}

const TOKENS = (n: number, gap: number) => Array.from({ length: n }, (_, i) => 5 + i * gap);

test('warmup records are counted apart and never enter the statistics', () => {
  const acc = new RunAccumulator();
  acc.add(rec({ warmup: true, e2eMs: 99_999, ttftMs: 99_999, enqueuedAtMs: 0, finishedAtMs: 99_999, crops: 5 }));
  acc.add(rec({ warmup: true, status: 'failed', error: 'warmup boom', e2eMs: null }));
  acc.add(rec({ e2eMs: 50, enqueuedAtMs: 100_000, finishedAtMs: 100_050 }));
  const s = acc.summary();
  assert.equal(s.warmup, 2);
  assert.equal(s.completed, 1);
  assert.equal(s.failed, 0);
  assert.equal(s.metrics.e2eMs.count, 1);
  assert.equal(s.metrics.e2eMs.max, 50);
  assert.equal(s.metrics.ttftMs.max, 10);
  assert.deepEqual(s.cropsHistogram, { '0': 1 });
  // The window starts at the first measured enqueue, not at the warmup.
  assert.equal(s.measuredWallS, 0.05);
  const snap = acc.snapshot();
  assert.equal(snap.warmupDone, 2);
  assert.deepEqual(snap.recentErrors, [{ id: snap.recentErrors[0].id, warmup: true, error: 'warmup boom' }]);
});

test('failed and cancelled requests are counted but excluded from latency stats', () => {
  const acc = new RunAccumulator();
  acc.add(rec({ e2eMs: 40, tokenTimesMs: [0, 1] }));
  acc.add(rec({ status: 'failed', error: 'HTTP 500', e2eMs: 5000, ttftMs: 5000, queueMs: 5000, preprocessMs: 5000, tokenTimesMs: [0, 100, 200], outputTokens: 3, crops: 4 }));
  acc.add(rec({ status: 'cancelled', error: 'cancelled (Ctrl-C)', e2eMs: 6000, finishedAtMs: null, tokenTimesMs: [0, 300] }));
  const s = acc.summary();
  assert.equal(s.completed, 1);
  assert.equal(s.failed, 1);
  assert.equal(s.cancelled, 1);
  for (const m of LATENCY_METRICS) assert.ok(s.metrics[m].count <= 1, m);
  assert.equal(s.metrics.e2eMs.max, 40);
  assert.equal(s.metrics.queueMs.max, 1);
  assert.equal(s.metrics.itlMs.count, 1);
  assert.equal(s.metrics.itlMs.max, 1);
  assert.deepEqual(s.cropsHistogram, { '0': 1 });
  assert.equal(s.perReplica[0].failed, 1);
  assert.equal(s.perReplica[0].completed, 1);
  assert.deepEqual(
    acc.snapshot().recentErrors.map((e) => e.error),
    ['HTTP 500', 'cancelled (Ctrl-C)'],
  );
});

test('itlMs pools every gap between consecutive tokens over completed requests', () => {
  const acc = new RunAccumulator();
  acc.add(rec({ tokenTimesMs: [10, 11, 13] })); // gaps 1, 2
  acc.add(rec({ tokenTimesMs: [20, 24] })); // gap 4
  acc.add(rec({ tokenTimesMs: [5] })); // none
  acc.add(rec({ tokenTimesMs: [] })); // none
  const itl = acc.summary().metrics.itlMs;
  assert.equal(itl.count, 3);
  assert.equal(itl.min, 1);
  assert.equal(itl.max, 4);
  assert.equal(itl.mean, 7 / 3);
  assert.equal(itl.p50, 2);
  // tpot is taken from the record as is; null ones are skipped.
  const acc2 = new RunAccumulator();
  acc2.add(rec({ tpotMs: 3 }));
  acc2.add(rec({ tpotMs: null, tokenTimesMs: [1] }));
  assert.equal(acc2.summary().metrics.tpotMs.count, 1);
  assert.equal(acc2.summary().metrics.tpotMs.mean, 3);
});

test('throughput uses the measured window: first measured enqueue -> last measured finish', () => {
  const acc = new RunAccumulator();
  acc.add(rec({ warmup: true, enqueuedAtMs: 0, finishedAtMs: 50 }));
  acc.add(rec({ enqueuedAtMs: 100, finishedAtMs: 1100, e2eMs: 1000, tokenTimesMs: TOKENS(10, 1), promptTokens: 500 }));
  acc.add(rec({ enqueuedAtMs: 200, finishedAtMs: 2100, e2eMs: 1900, tokenTimesMs: TOKENS(30, 1), promptTokens: 700 }));
  // A failure that ends last still took wall time.
  acc.add(rec({ status: 'failed', error: 'x', enqueuedAtMs: 300, finishedAtMs: 2600, e2eMs: null }));
  const s = acc.summary();
  assert.equal(s.measuredWallS, 2.5);
  assert.equal(s.throughputReqS, 2 / 2.5);
  assert.equal(s.outputTokensPerS, 40 / 2.5);
  assert.equal(s.promptTokensPerS, 1200 / 2.5);
  assert.equal(s.tokensPerSMean, (10 / 1 + 30 / 1.9) / 2);
});

test('an empty run, and one whose window has no length, report null rates', () => {
  const empty = summarizeRecords([]);
  assert.equal(empty.completed, 0);
  assert.equal(empty.measuredWallS, 0);
  assert.equal(empty.throughputReqS, null);
  assert.equal(empty.tokensPerSMean, null);
  assert.equal(empty.metrics.e2eMs.p50, null);
  assert.deepEqual(empty.perReplica, []);
  const zero = summarizeRecords([rec({ enqueuedAtMs: 5, finishedAtMs: 5, e2eMs: 0 })]);
  assert.equal(zero.throughputReqS, null);
  assert.equal(zero.tokensPerSMean, null);
});

test('per-replica split: registered devices, deaths, unregistered replicas, rates adding up', () => {
  const acc = new RunAccumulator();
  acc.addReplica(1, ['cuda:2', 'cuda:3']);
  acc.addReplica(0, ['cuda:0', 'cuda:1']);
  acc.addReplica(4, ['cuda:8', 'cuda:9']);
  acc.markReplicaDied(1, 'worker exited with code 137');
  acc.add(rec({ replica: 0, e2eMs: 10, ttftMs: 1, enqueuedAtMs: 0, finishedAtMs: 1000 }));
  acc.add(rec({ replica: 0, e2eMs: 20, ttftMs: 2, enqueuedAtMs: 0, finishedAtMs: 1000 }));
  acc.add(rec({ replica: 1, e2eMs: 30, ttftMs: 3, enqueuedAtMs: 0, finishedAtMs: 1000 }));
  acc.add(rec({ replica: 1, status: 'failed', error: 'died', e2eMs: null }));
  acc.add(rec({ replica: 2, e2eMs: 40, ttftMs: 4, enqueuedAtMs: 0, finishedAtMs: 1000 }));
  acc.add(rec({ replica: null, status: 'failed', error: 'never dispatched', e2eMs: null }));
  const s = acc.summary();
  assert.deepEqual(s.perReplica.map((r) => r.replica), [0, 1, 2, 4]);
  const [r0, r1, r2, r4] = s.perReplica;
  assert.deepEqual(r0.devices, ['cuda:0', 'cuda:1']);
  assert.deepEqual([r0.completed, r0.failed, r0.e2eMs.count, r0.e2eMs.max, r0.ttftMs.mean], [2, 0, 2, 20, 1.5]);
  assert.deepEqual([r1.completed, r1.failed, r1.died], [1, 1, 'worker exited with code 137']);
  assert.deepEqual(r2.devices, []);
  assert.equal(r4.completed, 0);
  assert.equal(r4.e2eMs.p50, null);
  assert.equal(r0.died, null);
  assert.equal(s.failed, 2);
  const sumRate = s.perReplica.reduce((a, r) => a + (r.throughputReqS ?? 0), 0);
  assert.ok(Math.abs(sumRate - s.throughputReqS!) < 1e-12);
});

test('snapshot equals the final summary on the same records, live and at the end', () => {
  const records = fakeRecords({ requests: 300, warmup: 5, failed: 7, replicas: 3, outputTokens: 64, seed: 9 });
  const acc = new RunAccumulator();
  for (const r of [0, 1, 2]) acc.addReplica(r, [`cuda:${r}`]);
  const half = Math.floor(records.length / 2);
  records.slice(0, half).forEach((r) => acc.add(r));
  const live = acc.snapshot({ inFlight: 4, nowMs: 1234 });
  const prefix = summarizeRecords(records.slice(0, half), [0, 1, 2].map((r) => ({ replica: r, devices: [`cuda:${r}`] })));
  const { warmup: prefixWarmup, ...prefixShared } = prefix;
  const { warmupDone, inFlight, elapsedS, recentErrors, ...liveShared } = live;
  assert.deepEqual(liveShared, prefixShared);
  assert.equal(warmupDone, prefixWarmup);
  assert.equal(inFlight, 4);
  assert.equal(elapsedS, 1.234);
  assert.deepEqual(recentErrors, []);

  records.slice(half).forEach((r) => acc.add(r));
  const snap = acc.snapshot({ inFlight: 0 });
  const final = acc.summary();
  const { warmup, ...finalShared } = final;
  const { warmupDone: wd, inFlight: _i, elapsedS: _e, recentErrors: errs, ...snapShared } = snap;
  assert.deepEqual(snapShared, finalShared);
  assert.equal(wd, warmup);
  assert.equal(final.failed, 7);
  assert.equal(errs.length, RECENT_ERRORS_MAX);
  assert.deepEqual(errs.map((e) => e.id), records.filter((r) => r.error).slice(-RECENT_ERRORS_MAX).map((r) => r.id));

  // And the percentiles are the exact ones to HDR precision.
  const e2e = records.filter((r) => !r.warmup && r.status === 'ok').map((r) => r.e2eMs!).sort((a, b) => a - b);
  for (const p of [50, 90, 95, 99] as const) {
    const exact = nearestRankPercentile(e2e, p)!;
    assert.ok(Math.abs(final.metrics.e2eMs[`p${p}`]! - exact) <= exact * 1e-3 + 5e-4, `p${p}`);
  }
  assert.equal(final.metrics.itlMs.count, e2e.length * 63);
  assert.equal(final.completed + final.failed, 300);
});

test('snapshots are cheap: cached between records, a few ms at most with many replicas', () => {
  const acc = new RunAccumulator();
  for (let r = 0; r < 10; r++) acc.addReplica(r, [`cuda:${r}`]);
  for (const r of fakeRecords({ requests: 2000, replicas: 10, outputTokens: 32, seed: 3 })) acc.add(r);
  const a = acc.snapshot();
  const b = acc.snapshot();
  assert.equal(a.metrics, b.metrics, 'unchanged data reuses the cached summaries');
  const t0 = performance.now();
  const N = 50;
  for (let i = 0; i < N; i++) {
    acc.add(rec({ replica: i % 10 }));
    acc.snapshot({ inFlight: 3 });
  }
  const msPerSnapshot = (performance.now() - t0) / N;
  assert.ok(msPerSnapshot < 25, `snapshot took ${msPerSnapshot.toFixed(2)} ms`);
});

test('peak GPU memory: per replica and GPU, the highest batch of the completed measured requests', () => {
  const p = (gpu: string, allocatedMiB: number, reservedMiB: number | null) => ({ gpu, allocatedMiB, reservedMiB });
  const s = summarizeRecords(
    [
      rec({ replica: 0, peakMemory: [p('0', 20_000, 21_000), p('1', 18_000, null)] }),
      rec({ replica: 0, peakMemory: [p('0', 22_500, 22_600), p('1', 17_000, 19_000)] }),
      rec({ replica: 0, warmup: true, peakMemory: [p('0', 70_000, 70_000)] }), // warm-up: not measured
      rec({ replica: 0, status: 'failed', error: 'CUDA out of memory', peakMemory: [p('0', 79_000, 79_000)] }), // failed: not counted
      rec({ replica: 1, peakMemory: [p('GPU-aaaa', 9_000, 9_500)] }),
      rec({ replica: 2 }), // a backend that measures nothing
    ],
    [{ replica: 2, devices: ['cpu:1 thread'] }],
  );
  const by = new Map(s.perReplica.map((r) => [r.replica, r.peakMemory]));
  assert.deepEqual(by.get(0), [p('0', 22_500, 22_600), p('1', 18_000, 19_000)]);
  assert.deepEqual(by.get(1), [p('GPU-aaaa', 9_000, 9_500)]);
  assert.equal(by.get(2), undefined);
  assert.ok(!('peakMemory' in s.perReplica.find((r) => r.replica === 2)!), 'absent, not empty, where nothing was measured');
});
