// The real TransformersBackend process management driven by fake-worker.mjs replaying the synthesized transcript
// (test/fixtures/transformers/transcript-27b-2x2-h100.json: written from the protocol, not recorded on a GPU):
// ready parsing and GPU groups, results on the engine's clock despite a skewed worker clock, a CUDA OOM batch
// failing alone, a worker dying mid-batch, and every start-up refusal before anything loads.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Replica } from '../../../../src/engine/backend.js';
import { Scheduler, type PlannedRequest } from '../../../../src/engine/scheduler.js';
import type { RequestRecord } from '../../../../src/engine/types.js';
import { summarizeRecords } from '../../../../src/engine/accumulator.js';
import { TransformersBackend, TransformersBackendError, type TransformersBackendOptions } from '../../../../src/engine/backends/transformers/index.js';
import { nowMs } from '../../../../src/util/clock.js';
import { promptInputIds } from '../../../../src/panscan/tokenizer.js';
import { collectLog, fakeNvidiaSmi, fakePython, request, smiInfo, solidPng, tempDir, TRANSCRIPT } from './helpers.js';

const TIME_SCALE = 0.05;
const transcript = JSON.parse(readFileSync(TRANSCRIPT, 'utf8')) as { replicas: { batches: { tokenMs?: number[]; tokenIds?: number[][]; visionMs?: number }[] }[] };

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CUDA_VISIBLE_DEVICES; // a GPU test machine's own setting must not change what the fake sees
  delete env.GEMMA_BENCH_PYTHON;
  return { ...env, FAKE_TF_TIME_SCALE: String(TIME_SCALE), ...extra };
}

async function backend(extra: Partial<TransformersBackendOptions> & { env?: NodeJS.ProcessEnv } = {}): Promise<TransformersBackend> {
  return TransformersBackend.create({
    model: 'google/gemma-3-27b-it',
    python: fakePython(),
    nvidiaSmiPath: fakeNvidiaSmi(),
    pixelDir: tempDir('px'),
    log: collectLog().log,
    ...extra,
  });
}

const raceDied = (r: Replica, ms: number) => Promise.race([r.died.then((x) => `died: ${x}`), new Promise<string>((res) => setTimeout(() => res('alive'), ms))]);

describe('transformers backend against the synthesized transcript (ts preprocessing, 2 replicas x 2 GPUs)', () => {
  const logs = collectLog();
  const recordDir = tempDir('rec');
  const pixelDir = tempDir('px');
  const imgDir = tempDir('img');
  let b: TransformersBackend;
  let replicas: Replica[];
  let receipt: string;
  let photo: string;

  before(async () => {
    receipt = await solidPng(imgDir, 'receipt.png', 600, 2000, [200, 10, 30]); // 3 crops under HF's defaults
    photo = await solidPng(imgDir, 'photo.png', 1024, 1024, [0, 128, 255]); // none
    b = await backend({
      log: logs.log,
      pixelDir,
      env: baseEnv({ FAKE_TF_CLOCK_SKEW_MS: '7000', FAKE_TF_RECORD_DIR: recordDir, FAKE_SMI_INFO: smiInfo('h100-8x.info.csv') }),
    });
    replicas = await b.start({ replicas: 2, gpusPerReplica: 2, log: logs.log });
  });
  after(async () => {
    await Promise.all(replicas?.map((r) => r.close()) ?? []);
  });

  it('launches one worker per GPU group with CUDA_VISIBLE_DEVICES in nvidia-smi order', () => {
    assert.deepEqual(
      replicas.map((r) => r.gpuIndices),
      [
        [0, 1],
        [2, 3],
      ],
    );
    assert.deepEqual(replicas[1].devices, ['gpu:2', 'gpu:3']);
    assert.deepEqual(
      replicas.map((r) => r.capacity),
      [2, 2],
    ); // ts preprocessing pipelines the next micro-batch
    for (const id of [0, 1]) {
      const rec = JSON.parse(readFileSync(`${recordDir}/replica-${id}.json`, 'utf8')) as { argv: string[]; CUDA_VISIBLE_DEVICES: string; CUDA_DEVICE_ORDER: string };
      assert.equal(rec.CUDA_VISIBLE_DEVICES, id === 0 ? '0,1' : '2,3');
      assert.equal(rec.CUDA_DEVICE_ORDER, 'PCI_BUS_ID');
      const argv = rec.argv.join(' ');
      assert.match(argv, new RegExp(`--replica ${id} `));
      assert.match(argv, /--model google\/gemma-3-27b-it/);
      assert.match(argv, /--dtype bf16 --attention sdpa --kv-cache dynamic --preprocess ts/);
    }
    assert.ok(replicas.every((r) => r.loadMs > 0));
  });

  it('reads the ready message into the model description and the log', () => {
    const d = b.model().details;
    assert.equal(d.parameters, 27432406640);
    assert.equal(d.deviceMap, 'cuda:0 (GPU 0): vision tower, projector, embed_tokens, rotary_emb, lm_head, layers 0-28; cuda:1 (GPU 1): layers 29-61, norm');
    assert.equal(d.torch, '2.9.1+cu128');
    assert.equal(d.transformers, '5.17.0');
    assert.equal(d.loadS, 61.8);
    assert.equal(d.compile, 'off');
    assert.equal(d.offloaded, false);
    const text = logs.text();
    assert.match(text, /replica 0 ready in [\d.]+ s \(load 61\.8 s, warm-up 4\.9 s\): cuda:0 \(GPU 0\): vision tower/);
    assert.match(text, /replica 1: Loading checkpoint shards: 100%/); // worker stderr reaches the log
    assert.match(text, /replica 0: the worker's clock is (69\d\d|70\d\d)\.\d ms ahead of gemma-bench's/);
  });

  it('maps results onto the engine clock: every token time inside the call, the transcript gaps kept', async () => {
    const t0 = nowMs();
    const res = await replicas[0].infer([request(10, receipt), request(11, photo)]);
    const t1 = nowMs();
    assert.equal(res.length, 2);
    const [a, p] = res;
    assert.ok(a.ok && p.ok, a.error ?? p.error ?? '');
    assert.deepEqual([a.crops, a.imageTokens, a.promptTokens], [3, 1024, promptInputIds('What does this receipt say?', 3).length]);
    assert.deepEqual([p.crops, p.imageTokens, p.promptTokens], [0, 256, promptInputIds('What does this receipt say?', 0).length]);
    const entry = transcript.replicas[0].batches[0];
    assert.deepEqual(a.tokenIds, entry.tokenIds![0]);
    assert.deepEqual(p.tokenIds, entry.tokenIds![1]);
    assert.equal(a.outputTokens, 8);
    for (const r of res) {
      // The worker's clock is 7 s ahead: unmapped, these would lie 7 s in the future.
      for (const t of r.tokenTimes) assert.ok(t >= t0 - 2 && t <= t1 + 2, `token time ${t - t0} ms after the call began (call took ${t1 - t0} ms)`);
      assert.ok(r.startedAt! >= t0 - 1 && r.startedAt! <= r.tokenTimes[0]);
      for (let i = 1; i < r.tokenTimes.length; i++) {
        const want = (entry.tokenMs![i] - entry.tokenMs![i - 1]) * TIME_SCALE;
        assert.ok(Math.abs(r.tokenTimes[i] - r.tokenTimes[i - 1] - want) < 1e-3); // epoch ms carry ~0.2 µs of precision
      }
      assert.ok(r.preprocessMs! > 0); // measured on the TS side in ts mode
      assert.ok(Math.abs(r.visionMs! - entry.visionMs! * TIME_SCALE) < 1e-9);
    }
    assert.deepEqual(readdirSync(pixelDir), [], 'the worker deletes every pixel file');
    // Each GPU's peak memory over the batch, as the worker measured it, on every request of the batch.
    for (const r of res) {
      assert.deepEqual(r.peakMemory, [
        { gpu: '0', allocatedMiB: 29871.4, reservedMiB: 31744 },
        { gpu: '1', allocatedMiB: 26014.2, reservedMiB: 27648 },
      ]);
    }
  });

  it('fails only the batch that ran out of CUDA memory; the replica carries on, two batches in flight', async () => {
    const oom = await replicas[0].infer([request(20, photo), request(21, photo)]);
    assert.ok(oom.every((r) => !r.ok));
    assert.match(oom[0].error!, /^CUDA out of memory: CUDA out of memory\. Tried to allocate 3\.94 GiB\. GPU 1 has a total capacity/);
    assert.match(logs.text(), /replica 0: a micro-batch of 2 requests failed: CUDA out of memory.*the replica carries on/);
    const [x, y] = await Promise.all([replicas[0].infer([request(30, photo)]), replicas[0].infer([request(31, receipt)])]);
    assert.ok(x[0].ok && y[0].ok);
    assert.equal(y[0].crops, 3);
    assert.equal(await raceDied(replicas[0], 50), 'alive');
    assert.deepEqual(readdirSync(pixelDir), []);
  });

  it('a bad image fails its own request only, before it reaches the worker', async () => {
    const res = await replicas[0].infer([request(40, `${imgDir}/missing.png`), request(41, photo)]);
    assert.equal(res[0].ok, false);
    assert.match(res[0].error!, /missing\.png/);
    assert.equal(res[1].ok, true);
  });

  it('a worker exiting mid-batch kills its replica with the reason and the last stderr lines; the other goes on', async () => {
    const first = await replicas[1].infer([request(50, photo)]);
    assert.ok(first[0].ok);
    await assert.rejects(replicas[1].infer([request(51, photo)]), (e: Error) => /the worker process exited with status 1/.test(e.message) && /illegal memory access/.test(e.message));
    const reason = await replicas[1].died;
    assert.match(reason, /exited with status 1; last stderr lines:[\s\S]*torch\.AcceleratorError: CUDA error: an illegal memory access was encountered/);
    await assert.rejects(replicas[1].infer([request(52, photo)]), /exited with status 1/);
    assert.match(logs.text(), /error: replica 1 died: the worker process exited with status 1/);
    const still = await replicas[0].infer([request(53, photo)]);
    assert.ok(still[0].ok);
    assert.deepEqual(readdirSync(pixelDir), []);
  });
});

describe('transformers backend, hf preprocessing in the worker', () => {
  it('reports the worker-side preprocessing time and stamps the start at the worker receipt (clock behind)', async () => {
    const logs = collectLog();
    const b = await backend({ log: logs.log, preprocess: 'hf', visibleGpus: [4, 5], env: baseEnv({ FAKE_TF_CLOCK_SKEW_MS: '-3000' }) });
    const [r] = await b.start({ replicas: 1, gpusPerReplica: 2, log: logs.log });
    try {
      assert.equal(r.capacity, 1);
      assert.deepEqual(r.gpuIndices, [4, 5]);
      const t0 = nowMs();
      const [res] = await r.infer([request(1, '/data/receipt.jpg')]);
      const t1 = nowMs();
      assert.ok(res.ok);
      assert.equal(res.preprocessMs, 412.8);
      assert.deepEqual([res.crops, res.promptTokens, res.imageTokens], [3, 1103, 1024]);
      assert.ok(res.startedAt! >= t0 - 2 && res.startedAt! <= res.tokenTimes[0]);
      assert.ok(res.tokenTimes.every((t) => t >= t0 - 2 && t <= t1 + 2));
      assert.match(logs.text(), / (29\d\d|30\d\d)\.\d ms behind gemma-bench's/);
    } finally {
      await r.close();
    }
  });
});

describe('transformers replicas under the real scheduler', () => {
  it('a replica dying mid-run fails only its batch; the run finishes on the other, every request accounted for', async () => {
    const logs = collectLog();
    const b = await backend({ log: logs.log, preprocess: 'hf', visibleGpus: [0, 1], env: baseEnv({ FAKE_TF_CLOCK_SKEW_MS: '2500' }) });
    const replicas = await b.start({ replicas: 2, gpusPerReplica: 1, log: logs.log });
    try {
      const planned = (seq: number, warmup: boolean): PlannedRequest => ({
        ...request(seq, `/data/${seq}.png`, 8),
        imageIndex: seq,
        promptIndex: 0,
        crops: 3,
        imageTokens: 1024,
        promptTokens: 1103,
        warmup,
      });
      const records: RequestRecord[] = [];
      const died: [number, string][] = [];
      const s = new Scheduler(replicas, planned, { load: { kind: 'closed', concurrency: 2 }, stop: { kind: 'requests', count: 10 }, warmup: 0, batchSize: 1, policy: 'fifo', seed: 1, t0: nowMs() }, {
        onRecord: (r) => records.push(r),
        onReplicaDied: (id, reason) => died.push([id, reason]),
        onPhase: () => undefined,
      });
      const outcome = await s.run();
      assert.equal(outcome.noReplicaLeft, false);
      assert.equal(records.length, 10);
      assert.equal(died.length, 1);
      assert.equal(died[0][0], 1);
      assert.match(died[0][1], /illegal memory access/);
      const failed = records.filter((r) => r.status === 'failed');
      // Replica 0's second batch runs out of CUDA memory; replica 1's second batch dies with it.
      assert.equal(failed.length, 2);
      assert.ok(failed.some((r) => r.replica === 0 && /CUDA out of memory/.test(r.error!)));
      assert.ok(failed.some((r) => r.replica === 1 && /replica 1 died: .*exited with status 1/.test(r.error!)));
      // Peak memory per replica and GPU: the highest of its batches (allocated and reserved each on its own).
      const peaks = new Map(summarizeRecords(records).perReplica.map((r) => [r.replica, r.peakMemory]));
      assert.deepEqual(peaks.get(0), [
        { gpu: '0', allocatedMiB: 29871.4, reservedMiB: 32768 },
        { gpu: '1', allocatedMiB: 26014.2, reservedMiB: 27648 },
      ]);
      assert.deepEqual(peaks.get(1), [
        { gpu: '2', allocatedMiB: 28544, reservedMiB: 30720 },
        { gpu: '3', allocatedMiB: 25902.7, reservedMiB: 27136 },
      ]);
      assert.ok(records.filter((r) => r.status === 'failed').every((r) => r.peakMemory === undefined));
      for (const r of records.filter((x) => x.status === 'ok')) {
        // With the worker's clock 2.5 s ahead, only a correct mapping keeps TTFT positive and under a second.
        assert.ok(r.ttftMs! > 0 && r.ttftMs! < 1000, `ttft ${r.ttftMs}`);
        assert.ok(r.tpotMs! > 0);
        assert.equal(r.outputTokens, 8);
      }
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });
});

describe('transformers backend start-up refusals (before anything loads)', () => {
  const startWith = async (opts: Partial<TransformersBackendOptions>, env: Record<string, string>, replicas = 2, gpusPerReplica = 2) => {
    const logs = collectLog();
    const b = await backend({ log: logs.log, env: baseEnv(env), ...opts });
    const started = await b.start({ replicas, gpusPerReplica, log: logs.log });
    // Not expected: close what started so no worker outlives the test, then let the assertion fail.
    await Promise.all(started.map((r) => r.close()));
    return started;
  };

  it('names a missing interpreter and how to choose another', async () => {
    await assert.rejects(startWith({ python: '/nonexistent/bin/python3' }, {}), (e: Error) =>
      /the Python interpreter "\/nonexistent\/bin\/python3" was not found.*pip install torch transformers accelerate.*--python or GEMMA_BENCH_PYTHON/.test(e.message),
    );
  });

  it('names the missing packages once, with the pip command, and starts no replica', async () => {
    const rec = tempDir('rec');
    await assert.rejects(startWith({}, { FAKE_TF_PROBE: 'missing-deps', FAKE_TF_RECORD_DIR: rec }), (e: Error) => {
      assert.match(e.message, /missing from \/usr\/bin\/python3: torch, accelerate\. Install them with: pip install torch transformers accelerate/);
      assert.equal(e.message.split('pip install torch').length, 2, 'said once');
      return true;
    });
    assert.deepEqual(readdirSync(rec), []);
  });

  it('explains an interpreter that cannot even run the probe, with its stderr', async () => {
    await assert.rejects(startWith({}, { FAKE_TF_PROBE: 'crash' }), /--probe failed \(exit 1\); last stderr lines:\n {2}.*\n[\s\S]*SyntaxError: future feature annotations is not defined[\s\S]*Python 3\.9 or newer/);
  });

  it('refuses a topology larger than the visible GPUs, naming the numbers, and starts no replica', async () => {
    const rec = tempDir('rec');
    await assert.rejects(
      startWith({}, { FAKE_SMI_INFO: smiInfo('h100-8x.info.csv'), FAKE_TF_RECORD_DIR: rec }, 5, 2),
      (e: Error) => e instanceof TransformersBackendError && e.stage === 'configuration',
    );
    await assert.rejects(
      startWith({}, { FAKE_SMI_INFO: smiInfo('h100-8x.info.csv'), FAKE_TF_RECORD_DIR: rec }, 5, 2),
      /the topology needs 2 GPUs per replica x 5 replicas = 10 GPUs, but only 8 are visible \(nvidia-smi lists GPUs 0-7\)\. Lower --replicas or --gpus-per-replica, or use --replicas auto \(4 replicas of 2 GPUs here\)\./,
    );
    assert.deepEqual(readdirSync(rec), []);
  });

  it('counts only the GPUs this process may use under CUDA_VISIBLE_DEVICES', async () => {
    await assert.rejects(startWith({}, { FAKE_SMI_INFO: smiInfo('h100-8x.info.csv'), CUDA_VISIBLE_DEVICES: '6,7,5' }, 2, 2), /= 4 GPUs, but only 3 are visible \(CUDA_VISIBLE_DEVICES=6,7,5 leaves GPUs 5-7 of the 8 nvidia-smi lists\)/);
  });

  it('catches a CPU-only torch while nvidia-smi sees GPUs', async () => {
    await assert.rejects(startWith({}, { FAKE_SMI_INFO: smiInfo('a100-10x.info.csv'), FAKE_TF_PROBE: 'torch-no-cuda' }), /nvidia-smi lists 10 GPUs but torch 2\.9\.1\+cu128 in \/opt\/venv\/bin\/python sees none \(torch\.version\.cuda is None: a CPU-only build\)/);
  });

  it('uses torch\'s count when nvidia-smi is missing', async () => {
    await assert.rejects(startWith({ nvidiaSmiPath: '/nonexistent/nvidia-smi' }, {}, 3, 2), /only 4 are visible \(torch sees 4 CUDA devices; nvidia-smi not found/);
  });

  it('a replica that fails to load stops the others and says why, with its traceback', async () => {
    const logs = collectLog();
    const b = await backend({ log: logs.log, env: baseEnv({ FAKE_SMI_INFO: smiInfo('h100-8x.info.csv'), FAKE_TF_FAIL_REPLICA: '1' }) });
    await assert.rejects(b.start({ replicas: 2, gpusPerReplica: 2, log: logs.log }), (e: Error) => {
      assert.match(e.message, /^replica 1 \(GPU 2,3\) failed to start: could not load google\/gemma-3-27b-it: CUDA out of memory\. Tried to allocate 1\.31 GiB/);
      assert.match(e.message, /\(worker exited with status 4\); last stderr lines:[\s\S]*torch\.OutOfMemoryError/);
      assert.ok(!/gemma-bench worker: could not load/.test(e.message), 'the fatal message is not repeated from stderr');
      assert.equal((e as TransformersBackendError).stage, 'loading');
      return true;
    });
  });

  it('resolves replicas auto from the visible GPUs', async () => {
    const b = await backend({ env: baseEnv({ FAKE_SMI_INFO: smiInfo('a100-10x.info.csv') }) });
    assert.equal(await b.resolveReplicas(2, 'auto'), 5);
    assert.equal(await b.resolveReplicas(3, 'auto'), 3);
    assert.equal(await b.resolveReplicas(2, 7), 7);
  });

  it('shrugs off a library printing on stdout: a warning, not a failure', async () => {
    const logs = collectLog();
    const b = await backend({ log: logs.log, preprocess: 'hf', visibleGpus: [0], env: baseEnv({ FAKE_TF_STDOUT_JUNK: '1' }) });
    const [r] = await b.start({ replicas: 1, gpusPerReplica: 1, log: logs.log });
    await r.close();
    assert.match(logs.text(), /warn: replica 0: not JSON: Some library printed this on stdout/);
  });

  it('gives up loading when cancelled, killing the workers', async () => {
    const ac = new AbortController();
    const logs = collectLog();
    const b = await backend({ log: logs.log, visibleGpus: [0, 1], env: baseEnv({}) });
    const p = b.start({ replicas: 2, gpusPerReplica: 1, log: logs.log, signal: ac.signal });
    ac.abort();
    await assert.rejects(p, /cancelled/);
  });
});
