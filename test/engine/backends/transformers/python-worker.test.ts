// The real python/gemma_bench_worker.py under this machine's own python3 (no torch here): it compiles, refuses bad
// arguments, names the missing packages with the pip command before importing anything heavy, passes its own
// unit tests, and — with its model-free test engine — speaks the protocol to the real TransformersBackend:
// pixel files from the ts-preprocessing thread read (values checked) and deleted, a CUDA OOM failing its batch
// alone, a crash mid-batch killing only its replica.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Replica } from '../../../../src/engine/backend.js';
import { TransformersBackend } from '../../../../src/engine/backends/transformers/index.js';
import { preprocessFile } from '../../../../src/panscan/preprocess.js';
import { collectLog, pythonInfo, REPO_ROOT, request, solidPng, tempDir, WORKER_PY } from './helpers.js';

const py = pythonInfo();
const noPython = py.python === null ? 'python3 is not installed' : false;
const PY_ENV = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };

function runWorker(args: string[]) {
  return spawnSync('python3', [WORKER_PY, ...args], { encoding: 'utf8', env: PY_ENV, timeout: 60_000 });
}

describe('python worker under the machine python3', { skip: noPython }, () => {
  it('compiles (python3 -m py_compile)', () => {
    const r = spawnSync('python3', ['-m', 'py_compile', WORKER_PY], { encoding: 'utf8', env: { ...PY_ENV, PYTHONPYCACHEPREFIX: tempDir('pyc') } });
    assert.equal(r.status, 0, r.stderr);
  });

  it('names torch, transformers and accelerate and the pip command in one message, exit status 3', { skip: py.torch ? 'torch is installed here' : false }, () => {
    const r = runWorker(['--weights', 'random', '--model-size', '27b']);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /needs the Python packages torch, transformers and accelerate; missing from .*: torch, transformers, accelerate\. Install them with: pip install torch transformers accelerate/);
    assert.match(r.stderr, /flash-attn/);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, 'stdout carries exactly one protocol line');
    const fatal = JSON.parse(lines[0]) as { type: string; code: string; message: string };
    assert.deepEqual([fatal.type, fatal.code], ['fatal', 'missing-deps']);
    assert.match(fatal.message, /pip install torch transformers accelerate/);
  });

  it('checks its arguments first: exit status 2 with the reason', () => {
    const a = runWorker(['--weights', 'random']);
    assert.equal(a.status, 2);
    assert.match(a.stderr, /--weights random needs --model-size 4b, 12b or 27b/);
    const b = runWorker(['--weights', 'random', '--model-size', '27b', '--preprocess', 'hf']);
    assert.equal(b.status, 2);
    assert.match(b.stderr, /needs a local processor directory \(--processor PATH.*Use --preprocess ts instead/);
    const c = runWorker(['--model-size', '70b']);
    assert.equal(c.status, 2);
    assert.match(c.stderr, /invalid choice: '70b'/);
  });

  it('passes its own unit tests (test/python)', () => {
    const r = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', join(REPO_ROOT, 'test', 'python')], { encoding: 'utf8', env: PY_ENV, timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /\nOK/);
  });

  it('start() reports the missing packages once, before any replica starts', { skip: py.torch ? 'torch is installed here' : false }, async () => {
    const logs = collectLog();
    const b = await TransformersBackend.create({ weights: 'random', modelSize: '27b', python: 'python3', visibleGpus: [0, 1], log: logs.log, env: PY_ENV });
    await assert.rejects(b.start({ replicas: 1, gpusPerReplica: 2, log: logs.log }), /missing from .*: torch, transformers, accelerate\. Install them with: pip install torch transformers accelerate/);
  });
});

describe('python worker with its model-free engine, driven by the TransformersBackend', { skip: noPython || (!py.numpy ? 'numpy is not installed' : false) }, () => {
  const logs = collectLog();
  const pixelDir = tempDir('px');
  let dir: string;
  let replicas: Replica[] = [];
  let crashy: Replica[] = [];

  const start = async (extra: string[], gpus: number[], pipelineDir = pixelDir) => {
    const b = await TransformersBackend.create({
      weights: 'random',
      modelSize: '4b',
      python: 'python3',
      visibleGpus: gpus,
      pixelDir: pipelineDir,
      extraWorkerArgs: ['--engine', 'fake', '--fake-token-ms', '1', ...extra],
      log: logs.log,
      env: PY_ENV,
    });
    return b.start({ replicas: 1, gpusPerReplica: gpus.length, log: logs.log });
  };

  before(async () => {
    dir = tempDir('img');
    replicas = await start(['--fake-oom-batches', '2', '--fake-peak-mib', '1000'], [0, 1]);
  });
  after(async () => {
    await Promise.all([...replicas, ...crashy].map((r) => r.close()));
  });

  it('reads the float32 pixels written by the TS preprocessing thread, exactly', async () => {
    const receipt = await solidPng(dir, 'receipt.png', 600, 2000, [200, 10, 30]);
    const photo = await solidPng(dir, 'photo.png', 800, 600, [17, 250, 3]);
    const t0 = Date.now();
    const res = await replicas[0].infer([request(1, receipt, 6), request(2, photo, 6)]);
    assert.ok(Date.now() - t0 < 30_000);
    for (const [r, path, first] of [
      [res[0], receipt, 200],
      [res[1], photo, 17],
    ] as const) {
      assert.ok(r.ok, r.error ?? '');
      const ts = await preprocessFile(path, request(0, path).preprocess, { prompt: 'What does this receipt say?' });
      // The fake engine's "tokens" are diagnostics: entries, prompt tokens, image tokens, the first pixel's 8-bit value.
      assert.deepEqual(r.tokenIds.slice(0, 4), [1 + ts.numCrops, ts.inputIds!.length, ts.imageTokens, first]);
      assert.equal(r.crops, ts.numCrops);
      assert.equal(r.promptTokens, ts.inputIds!.length);
      assert.equal(r.outputTokens, 6);
      assert.equal(r.tokenTimes.length, 6);
      assert.ok(r.startedAt! <= r.tokenTimes[0] && r.tokenTimes[0] <= Date.now() + 1);
    }
    assert.equal(res[0].crops, 3);
    assert.equal(res[1].crops, 2);
    // The worker's per-GPU peak memory of the batch (the fake engine's: 1000 MiB + 1 per image entry, 4 + 3 here),
    // named by the replica's CUDA_VISIBLE_DEVICES entries.
    for (const r of res) {
      assert.deepEqual(r.peakMemory, [
        { gpu: '0', allocatedMiB: 1007, reservedMiB: 1250 },
        { gpu: '1', allocatedMiB: 1007, reservedMiB: 1250 },
      ]);
    }
    assert.deepEqual(readdirSync(pixelDir), [], 'the worker deleted the pixel files');
  });

  it('a CUDA out-of-memory fails that batch only; the worker carries on', async () => {
    const img = await solidPng(dir, 'sq.png', 300, 300, [1, 2, 3]);
    const oom = await replicas[0].infer([request(3, img, 2)]);
    assert.equal(oom[0].ok, false);
    assert.match(oom[0].error!, /^CUDA out of memory: CUDA out of memory\. Tried to allocate 2\.00 GiB/);
    const ok = await replicas[0].infer([request(4, img, 2)]);
    assert.ok(ok[0].ok);
    assert.deepEqual(readdirSync(pixelDir), []);
  });

  it('a worker that crashes mid-batch fails its batch with the stderr tail and marks its replica dead', async () => {
    const px = tempDir('px');
    crashy = await start(['--fake-exit-batch', '1'], [2], px);
    const img = await solidPng(dir, 'sq2.png', 300, 300, [1, 2, 3]);
    await assert.rejects(crashy[0].infer([request(5, img, 2)]), /exited with status 1; last stderr lines:[\s\S]*simulated crash/);
    assert.match(await crashy[0].died, /simulated crash/);
    assert.deepEqual(readdirSync(px), []);
  });
});
