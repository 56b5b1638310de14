// The onnx replica's optional streaming hooks (src/engine/backend.ts InferHooks), which gemma-bench serve relies on:
// tokens reach the main thread one decode step at a time, before the batch's result; aborting the signal stops the
// batch early with the tokens made so far; without hooks the result is what it always was.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { OnnxBackend } from '../../src/engine/backends/onnx/index.js';
import type { InferRequest, Replica } from '../../src/engine/backend.js';
import { DEFAULT_PREPROCESS } from '../../src/panscan/preprocess.js';

const home = mkdtempSync(join(tmpdir(), 'gb-serve-hooks-'));
const image = join(home, 'photo_320x240.png');
let replica: Replica;

const request = (id: number, maxNewTokens: number): InferRequest => ({ id, imagePath: image, prompt: 'Describe this.', maxNewTokens, preprocess: DEFAULT_PREPROCESS });

before(async () => {
  await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 40, g: 120, b: 200 } } }).png().toFile(image);
  const backend = await OnnxBackend.create({ model: 'tiny', threads: 1, log: () => {}, env: { ...process.env, GEMMA_BENCH_HOME: home } });
  [replica] = await backend.start({ replicas: 1, gpusPerReplica: 1, log: () => {} });
});

after(async () => {
  await replica?.close();
  rmSync(home, { recursive: true, force: true });
});

test('onToken sees every token, in order, before the result arrives, and the result is unchanged', async () => {
  const seen: { id: number; index: number; token: number; at: number }[] = [];
  const [plain] = await replica.infer([request(1, 6)]);
  const pending = replica.infer([request(2, 6)], { onToken: (id, index, token) => seen.push({ id, index, token, at: performance.now() }) });
  const [res] = await pending;
  const resolvedAt = performance.now();
  assert.equal(res.ok, true, res.error ?? '');
  assert.deepEqual(seen.map((s) => s.index), [0, 1, 2, 3, 4, 5]);
  assert.ok(seen.every((s) => s.id === 2));
  assert.deepEqual(seen.map((s) => s.token), res.tokenIds);
  assert.deepEqual(res.tokenIds, plain.tokenIds, 'greedy: the same tokens with and without hooks');
  assert.equal(res.outputTokens, 6);
  assert.ok(seen[0].at < seen[5].at && seen[5].at <= resolvedAt, 'the first token is seen before the last, and both before the result');
});

test('aborting the signal stops the batch after the current step, keeping the tokens made so far', async () => {
  const ac = new AbortController();
  let tokens = 0;
  const [res] = await replica.infer([request(3, 500)], {
    onToken: () => {
      if (++tokens === 2) ac.abort();
    },
    signal: ac.signal,
  });
  assert.equal(res.ok, true, res.error ?? '');
  assert.ok(res.outputTokens >= 2 && res.outputTokens < 500, `stopped early at ${res.outputTokens} tokens`);
  assert.equal(res.tokenIds.length, res.outputTokens);
  assert.equal(res.tokenTimes.length, res.outputTokens);
  // The replica goes on serving afterwards; a stale cancel does not touch the next batch.
  const [next] = await replica.infer([request(4, 3)], { signal: ac.signal });
  assert.equal(next.outputTokens, 1, 'an already-aborted signal stops a batch after its first token');
  const [after3] = await replica.infer([request(5, 3)]);
  assert.equal(after3.outputTokens, 3);
});
