// --worker-timeout (issue 11, bug 3): a worker that never becomes ready, or never answers a micro-batch, is killed
// after its limit; the batch fails with the reason and the run goes on with the other replicas. Driven by
// fake-worker.mjs (FAKE_TF_HANG) under the real TransformersBackend and the real scheduler.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Scheduler, type PlannedRequest } from '../../../../src/engine/scheduler.js';
import type { RequestRecord } from '../../../../src/engine/types.js';
import { TransformersBackend, type TransformersBackendOptions } from '../../../../src/engine/backends/transformers/index.js';
import { batchLimit } from '../../../../src/engine/backends/transformers/batches.js';
import { batchLimitMs, DEFAULT_WORKER_TIMEOUT_S, loadLimitMs } from '../../../../src/engine/backends/transformers/timeouts.js';
import { nowMs } from '../../../../src/util/clock.js';
import { collectLog, fakePython, request, sleep, tempDir } from './helpers.js';

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env };
  delete e.CUDA_VISIBLE_DEVICES;
  delete e.GEMMA_BENCH_PYTHON;
  return { ...e, FAKE_TF_TIME_SCALE: '0.05', ...extra };
}

async function backend(opts: Partial<TransformersBackendOptions>): Promise<TransformersBackend> {
  return TransformersBackend.create({ model: 'google/gemma-3-27b-it', python: fakePython(), preprocess: 'hf', visibleGpus: [0, 1], pixelDir: tempDir('px'), log: collectLog().log, closeGraceMs: 500, ...opts });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function gone(pid: number, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await sleep(20);
  }
  return !alive(pid);
}

describe('--worker-timeout limits', () => {
  it('loading takes S; a micro-batch S per 256 new tokens, never less than S; 0 is off', () => {
    assert.equal(DEFAULT_WORKER_TIMEOUT_S, 1800);
    assert.equal(loadLimitMs(30), 30_000);
    assert.equal(loadLimitMs(0), null);
    assert.equal(batchLimitMs(30, 8), 30_000);
    assert.equal(batchLimitMs(30, 256), 30_000);
    assert.equal(batchLimitMs(30, 1024), 120_000);
    assert.equal(batchLimitMs(0, 1024), null);
    const b = batchLimit(10, [
      { id: 1, maxNewTokens: 64, inputIds: [], pixels: { path: '/x', shape: [1, 3, 896, 896], dtype: 'float32' } },
      { id: 2, maxNewTokens: 512, inputIds: [], pixels: { path: '/y', shape: [1, 3, 896, 896], dtype: 'float32' } },
    ]);
    assert.equal(b!.ms, 20_000);
    assert.match(b!.reason, /^a micro-batch of 2 requests \(512 new tokens\) got no result within 20 s \(--worker-timeout 10: 10 s per 256 new tokens\); the worker was killed as hung$/);
  });
});

// The limits are seconds, not tenths: the fake worker is a Node process, and on a loaded 2-core machine its start
// alone (the other replica's included) can take longer than half a second.
describe('a worker that hangs', () => {
  it('while loading: start fails with the reason after the limit, the hung worker is killed, the other replica stopped', async () => {
    const rec = tempDir('rec');
    const b = await backend({ workerTimeoutS: 4, env: env({ FAKE_TF_HANG: 'load', FAKE_TF_HANG_REPLICA: '1', FAKE_TF_RECORD_DIR: rec }) });
    const t0 = Date.now();
    await assert.rejects(b.start({ replicas: 2, gpusPerReplica: 1, log: collectLog().log }), (e: Error) => {
      assert.match(e.message, /^replica 1 \(GPU 1\) failed to start: the worker was not ready within 4 s \(loading, warm-up and compilation; --worker-timeout 4\); it was killed\. Raise --worker-timeout/);
      return true;
    });
    assert.ok(Date.now() - t0 < 30_000, `gave up after ${Date.now() - t0} ms`);
    for (const id of [0, 1]) {
      const { pid } = JSON.parse(readFileSync(`${rec}/replica-${id}.json`, 'utf8')) as { pid: number };
      assert.ok(await gone(pid), `worker of replica ${id} (pid ${pid}) is gone`);
    }
  });

  it('in a micro-batch: the batch fails with the reason, the worker is killed, the run goes on with the other replica', async () => {
    const rec = tempDir('rec');
    const logs = collectLog();
    const b = await backend({ workerTimeoutS: 5, log: logs.log, env: env({ FAKE_TF_HANG: 'batch:2', FAKE_TF_HANG_REPLICA: '1', FAKE_TF_RECORD_DIR: rec }) });
    const replicas = await b.start({ replicas: 2, gpusPerReplica: 1, log: logs.log });
    try {
      const planned = (seq: number, warmup: boolean): PlannedRequest => ({ ...request(seq, `/data/${seq}.png`, 8), imageIndex: seq, promptIndex: 0, crops: 3, imageTokens: 1024, promptTokens: 1103, warmup });
      const records: RequestRecord[] = [];
      const died: [number, string][] = [];
      const s = new Scheduler(replicas, planned, { load: { kind: 'closed', concurrency: 2 }, stop: { kind: 'requests', count: 8 }, warmup: 0, batchSize: 1, policy: 'fifo', seed: 1, t0: nowMs() }, {
        onRecord: (r) => records.push(r),
        onReplicaDied: (id, reason) => died.push([id, reason]),
        onPhase: () => undefined,
      });
      const t0 = Date.now();
      const outcome = await s.run();
      assert.ok(Date.now() - t0 < 60_000);
      assert.equal(outcome.noReplicaLeft, false);
      assert.equal(records.length, 8, 'every request accounted for');
      assert.deepEqual(died.map(([id]) => id), [1]);
      assert.match(died[0][1], /got no result within 5 s \(--worker-timeout 5: 5 s per 256 new tokens\); the worker was killed as hung/);
      const hung = records.filter((r) => r.status === 'failed' && r.replica === 1);
      assert.equal(hung.length, 1);
      assert.match(hung[0].error!, /^replica 1 died: a micro-batch of 1 request \(8 new tokens\) got no result within 5 s/);
      // Replica 0 did the rest (its second batch is the transcript's CUDA OOM).
      assert.equal(records.filter((r) => r.replica === 0).length, 6);
      assert.equal(records.filter((r) => r.status === 'ok').length, 6);
      const { pid } = JSON.parse(readFileSync(`${rec}/replica-1.json`, 'utf8')) as { pid: number };
      assert.ok(await gone(pid), 'the hung worker was killed');
      assert.match(logs.text(), /error: replica 1 died: a micro-batch of 1 request/);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });

  it('a slow batch within its limit is not a hang; the limit runs from when the worker starts on the batch', async () => {
    // Three batches sent at once (hf sends as they come): the worker answers them in order, ~3 s, ~0.7 s and
    // ~3 s, so the last one is answered ~6.6 s after it was sent but only ~3 s after the worker started on it.
    const b = await backend({ workerTimeoutS: 4.5, env: env({ FAKE_TF_TIME_SCALE: '5' }) });
    const [r] = await b.start({ replicas: 1, gpusPerReplica: 1, log: collectLog().log });
    try {
      const t0 = Date.now();
      const [x, y, z] = await Promise.all([r.infer([request(1, '/a.png', 8)]), r.infer([request(2, '/b.png', 8)]), r.infer([request(3, '/c.png', 8)])]);
      assert.ok(Date.now() - t0 > 4500, 'the three together took longer than one limit');
      assert.ok(x[0].ok, x[0].error ?? '');
      assert.match(y[0].error!, /CUDA out of memory/); // the transcript's second batch: answered, not a timeout
      assert.ok(z[0].ok, z[0].error ?? '');
    } finally {
      await r.close();
    }
  });
});
