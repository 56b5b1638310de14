// The scheduler against in-process fake replicas (a test double, as allowed for scheduler unit tests): no model,
// just delays, so the tests check ordering, counts, batching and fault handling, never timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InferRequest, InferResult, Replica } from '../../src/engine/backend.js';
import { nowMs } from '../../src/util/clock.js';
import { Scheduler, type PlannedRequest, type ScheduleOptions } from '../../src/engine/scheduler.js';
import type { RequestRecord } from '../../src/engine/types.js';

interface FakeReplica extends Replica {
  batches: number[][];
  kill(reason: string): void;
  maxInFlight: number;
}

function fakeReplica(id: number, o: { delayMs?: number; tokens?: number; failIds?: Set<number> } = {}): FakeReplica {
  let resolveDied!: (r: string) => void;
  const died = new Promise<string>((r) => (resolveDied = r));
  const pending: Array<(e: Error) => void> = [];
  let inFlight = 0;
  const self: FakeReplica = {
    id,
    devices: [`fake:${id}`],
    gpuIndices: [],
    loadMs: 0,
    capacity: 1,
    died,
    batches: [],
    maxInFlight: 0,
    kill(reason) {
      resolveDied(reason);
      for (const rej of pending.splice(0)) rej(new Error(reason));
    },
    infer(batch: readonly InferRequest[]) {
      self.batches.push(batch.map((r) => r.id));
      inFlight++;
      self.maxInFlight = Math.max(self.maxInFlight, inFlight);
      return new Promise<InferResult[]>((resolve, reject) => {
        pending.push(reject);
        const start = nowMs();
        setTimeout(() => {
          inFlight--;
          const idx = pending.indexOf(reject);
          if (idx < 0) return;
          pending.splice(idx, 1);
          const n = o.tokens ?? 3;
          // Tokens stamped evenly between the start of the batch and now, as a real replica would.
          const end = nowMs();
          resolve(batch.map((r) => o.failIds?.has(r.id)
            ? { id: r.id, ok: false, error: 'bad image', crops: 0, imageTokens: 0, promptTokens: 0, outputTokens: 0, preprocessMs: null, visionMs: null, startedAt: start, tokenTimes: [], tokenIds: [] }
            : { id: r.id, ok: true, error: null, crops: 0, imageTokens: 256, promptTokens: 10, outputTokens: n, preprocessMs: 1, visionMs: 1, startedAt: start, tokenTimes: Array.from({ length: n }, (_, i) => start + ((end - start) * (i + 1)) / n), tokenIds: Array.from({ length: n }, () => 7) }));
        }, o.delayMs ?? 2);
      });
    },
    async close() {},
  };
  return self;
}

const crops = [0, 3, 0, 6];
const planned = (seq: number, warmup: boolean): PlannedRequest => ({
  id: seq, imagePath: `/img/${seq % 4}.png`, prompt: 'q', maxNewTokens: 3,
  preprocess: { panScan: null, exifOrientation: 'ignore', pixelLimit: 1e9 },
  imageIndex: seq % 4, promptIndex: 0, crops: crops[seq % 4], imageTokens: 256, promptTokens: 10, warmup,
});

async function runSched(replicas: Replica[], o: Partial<ScheduleOptions>, onRecord?: (r: RequestRecord) => void) {
  const records: RequestRecord[] = [];
  const died: Array<[number, string]> = [];
  const phases: string[] = [];
  const s = new Scheduler(replicas, planned, { load: { kind: 'closed', concurrency: 2 }, stop: { kind: 'requests', count: 10 }, warmup: 0, batchSize: 1, policy: 'fifo', seed: 1, t0: nowMs(), ...o }, {
    onRecord: (r) => { records.push(r); onRecord?.(r); },
    onReplicaDied: (id, reason) => died.push([id, reason]),
    onPhase: (p) => phases.push(p),
  });
  const outcome = await s.run();
  return { records, died, phases, outcome };
}

test('closed loop: exactly N measured requests after the warmup ones, never more than N in flight', async () => {
  const reps = [fakeReplica(0), fakeReplica(1)];
  const { records, phases, outcome } = await runSched(reps, { warmup: 3, stop: { kind: 'requests', count: 10 } });
  assert.equal(records.filter((r) => r.warmup).length, 3);
  assert.equal(records.filter((r) => !r.warmup).length, 10);
  assert.deepEqual(phases, ['warmup', 'measuring']);
  assert.equal(outcome.cancelled, false);
  // All warmup requests finish before any measured one is enqueued.
  const lastWarm = Math.max(...records.filter((r) => r.warmup).map((r) => r.finishedAtMs!));
  const firstMeasured = Math.min(...records.filter((r) => !r.warmup).map((r) => r.enqueuedAtMs));
  assert.ok(firstMeasured >= lastWarm);
  for (const r of reps) assert.ok(r.maxInFlight <= 1, 'a replica runs one batch at a time');
  for (const r of records) {
    assert.equal(r.status, 'ok');
    assert.equal(r.outputTokens, 3);
    assert.ok(r.ttftMs! >= 0 && r.e2eMs! >= r.ttftMs!);
    assert.ok(r.queueMs! >= 0);
    const t = r.tokenTimesMs;
    assert.ok(Math.abs(r.tpotMs! - (t[2] - t[0]) / 2) < 1e-9);
    assert.ok(t[0] < t[1] && t[1] < t[2], 'token times increase');
  }
  assert.deepEqual(new Set(records.map((r) => r.id)).size, 13, 'every request recorded once');
});

test('both replicas get work (least-loaded dispatch)', async () => {
  const reps = [fakeReplica(0, { delayMs: 5 }), fakeReplica(1, { delayMs: 5 })];
  await runSched(reps, { load: { kind: 'closed', concurrency: 4 }, stop: { kind: 'requests', count: 12 } });
  assert.ok(reps[0].batches.length >= 3 && reps[1].batches.length >= 3, `${reps[0].batches.length} / ${reps[1].batches.length}`);
});

test('crop batching groups same-crop requests; fifo mixes them', async () => {
  const grouped = fakeReplica(0, { delayMs: 10 });
  await runSched([grouped], { load: { kind: 'closed', concurrency: 8 }, stop: { kind: 'requests', count: 16 }, batchSize: 4, policy: 'crop' });
  for (const b of grouped.batches) assert.equal(new Set(b.map((id) => crops[id % 4])).size, 1, `batch ${b} mixes crop counts`);
  const fifo = fakeReplica(0, { delayMs: 10 });
  await runSched([fifo], { load: { kind: 'closed', concurrency: 8 }, stop: { kind: 'requests', count: 16 }, batchSize: 4, policy: 'fifo' });
  assert.ok(fifo.batches.some((b) => new Set(b.map((id) => crops[id % 4])).size > 1), 'fifo batches mix crop counts');
});

test('open loop issues the requested count and records arrival times in order', async () => {
  const { records } = await runSched([fakeReplica(0, { delayMs: 1 })], { load: { kind: 'open', rateRps: 500 }, stop: { kind: 'requests', count: 20 } });
  assert.equal(records.length, 20);
  const enq = [...records].sort((a, b) => a.id - b.id).map((r) => r.enqueuedAtMs);
  for (let i = 1; i < enq.length; i++) assert.ok(enq[i] >= enq[i - 1]);
});

test('a duration stop ends issuing after the deadline and drains what is in flight', async () => {
  const { records, outcome } = await runSched([fakeReplica(0, { delayMs: 5 })], { stop: { kind: 'duration', seconds: 0.15 } });
  assert.ok(records.length >= 2, `${records.length} requests in 150 ms`);
  assert.equal(outcome.cancelled, false);
  assert.ok(records.every((r) => r.status === 'ok'));
});

test('failed requests are recorded with their error and the run goes on', async () => {
  const { records } = await runSched([fakeReplica(0, { failIds: new Set([2, 5]) })], {});
  assert.equal(records.length, 10);
  const failed = records.filter((r) => r.status === 'failed');
  assert.deepEqual(failed.map((r) => r.id).sort(), [2, 5]);
  assert.ok(failed.every((r) => r.error === 'bad image' && r.e2eMs === null && r.crops === crops[r.id % 4]));
});

test('a replica that dies fails its in-flight requests with the reason; the others finish the run', async () => {
  const a = fakeReplica(0, { delayMs: 20 });
  const b = fakeReplica(1, { delayMs: 5 });
  let killed = false;
  const { records, died, outcome } = await runSched([a, b], { load: { kind: 'closed', concurrency: 2 }, stop: { kind: 'requests', count: 12 } }, () => {
    if (!killed) {
      killed = true;
      a.kill('worker thread exited with code 3');
    }
  });
  assert.deepEqual(died, [[0, 'worker thread exited with code 3']]);
  assert.equal(records.length, 12);
  const failed = records.filter((r) => r.status === 'failed');
  assert.ok(failed.length >= 1);
  assert.ok(failed.every((r) => /replica 0 died: worker thread exited with code 3/.test(r.error!)));
  assert.ok(records.filter((r) => r.status === 'ok').every((r) => r.replica === 1 || r.replica === 0));
  assert.equal(outcome.noReplicaLeft, false);
});

test('when every replica dies, queued requests fail and the schedule ends', async () => {
  const a = fakeReplica(0, { delayMs: 30 });
  setTimeout(() => a.kill('boom'), 10);
  const { records, outcome } = await runSched([a], { load: { kind: 'closed', concurrency: 3 }, stop: { kind: 'requests', count: 50 } });
  assert.equal(outcome.noReplicaLeft, true);
  assert.ok(records.length >= 1 && records.every((r) => r.status === 'failed'));
});

test('cancellation cancels what is queued and lets in-flight work finish within the grace period', async () => {
  const controller = new AbortController();
  const rep = fakeReplica(0, { delayMs: 20 });
  let n = 0;
  const { records, outcome } = await runSched([rep], { load: { kind: 'closed', concurrency: 4 }, stop: { kind: 'requests', count: 100 }, signal: controller.signal, cancelGraceMs: 2000 }, () => {
    if (++n === 2) controller.abort();
  });
  assert.equal(outcome.cancelled, true);
  const cancelled = records.filter((r) => r.status === 'cancelled');
  assert.ok(cancelled.length >= 1);
  assert.ok(records.length < 100);
  assert.equal(new Set(records.map((r) => r.id)).size, records.length);
});

test('in-flight work that outlasts the grace period is recorded as cancelled', async () => {
  const controller = new AbortController();
  const slow = fakeReplica(0, { delayMs: 5000 });
  setTimeout(() => controller.abort(), 20);
  const t = Date.now();
  const { records, outcome } = await runSched([slow], { load: { kind: 'closed', concurrency: 1 }, stop: { kind: 'requests', count: 5 }, signal: controller.signal, cancelGraceMs: 50 });
  assert.ok(Date.now() - t < 3000);
  assert.equal(outcome.cancelled, true);
  assert.deepEqual(records.map((r) => [r.status, r.error]), [['cancelled', 'interrupted before it finished']]);
});
