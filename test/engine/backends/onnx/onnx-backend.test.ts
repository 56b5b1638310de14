// The onnx backend on the real built-in tiny model: one real request end to end in a worker thread, vision cost
// scaling with crops, KV-cache decoding equal to full recomputation, and refusal of a model whose graphs do not
// match the layout.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import sharp from 'sharp';
import { OnnxBackend, FAULT_ENV } from '../../../../src/engine/backends/onnx/index.js';
import { floatIoTypes, generateBatch, type OnnxSessions } from '../../../../src/engine/backends/onnx/generate.js';
import { resolveOnnxModel, ModelDirError } from '../../../../src/engine/backends/onnx/model-dir.js';
import type { InferRequest, Replica } from '../../../../src/engine/backend.js';
import { encode, promptInputIds } from '../../../../src/panscan/tokenizer.js';
import { HF_PANSCAN_DEFAULTS } from '../../../../src/panscan/types.js';
import { withFloat16Io } from '../../../helpers/float16-io.js';

const { onnx } = onnxProto;
const home = mkdtempSync(join(tmpdir(), 'gb-onnx-'));
const env = { ...process.env, GEMMA_BENCH_HOME: home };
const quiet = () => {};
const tall = join(home, 'tall_896x3000.png');
const square = join(home, 'square_1024x1024.png');
let modelDir = '';
let backend: OnnxBackend;
let replica: Replica;

async function noisyPng(file: string, w: number, h: number): Promise<void> {
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 2654435761) >>> 24;
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png({ compressionLevel: 1 }).toFile(file);
}

/** The built-in tiny model's decoder shape (src/model/tiny-config.ts). */
const shape = { numLayers: 6, numKeyValueHeads: 2, headDim: 16, hiddenSize: 64, imageTokenId: 262144, padTokenId: 0 };
/** Text prompts, padded against each other in one batch: the random model's tokens vary on these. */
const textPrompts = () => [encode('<bos><start_of_turn>user\nWrite a long story about a receipt.<end_of_turn>\n<start_of_turn>model\n'), encode('<bos>Hi')];

const GRAPHS = ['vision_encoder', 'embed_tokens', 'decoder_model_merged'] as const;

/** The three graphs of `dir` (file suffix e.g. "_fp16") as the generate loop takes them, on one thread. */
async function openSessions(dir: string, suffix = ''): Promise<OnnxSessions> {
  const [vision, embed, decoder] = await Promise.all(GRAPHS.map((g) => ort.InferenceSession.create(join(dir, `${g}${suffix}.onnx`), { intraOpNumThreads: 1 })));
  return { vision, embed, decoder, hasLogitsToKeep: decoder.inputNames.includes('num_logits_to_keep'), io: floatIoTypes(vision, embed, decoder) };
}
const releaseSessions = (s: OnnxSessions) => Promise.all([s.vision.release(), s.embed.release(), s.decoder.release()]);

const request = (id: number, imagePath: string, maxNewTokens: number): InferRequest => ({
  id,
  imagePath,
  prompt: 'What is the total?',
  maxNewTokens,
  preprocess: { panScan: HF_PANSCAN_DEFAULTS, exifOrientation: 'ignore', pixelLimit: 1e9 },
});

before(async () => {
  await Promise.all([noisyPng(tall, 896, 3000), noisyPng(square, 1024, 1024)]);
  backend = await OnnxBackend.create({ model: 'tiny', threads: 1, log: quiet, env });
  modelDir = backend.model().path!;
  [replica] = await backend.start({ replicas: 1, gpusPerReplica: 1, log: quiet });
});

after(async () => {
  await replica?.close();
  rmSync(home, { recursive: true, force: true });
});

test('the built-in model is labelled as random weights', () => {
  const m = backend.model();
  assert.equal(m.randomWeights, true);
  assert.match(m.label, /gemma3-tiny, random weights: speed only/);
});

test('one request on a tall image runs to the requested number of tokens with increasing token times', async () => {
  const [res] = await replica.infer([request(1, tall, 6)]);
  assert.equal(res.ok, true, res.error ?? '');
  assert.equal(res.crops, 3);
  assert.equal(res.imageTokens, 1024);
  assert.equal(res.outputTokens, 6);
  assert.equal(res.tokenIds.length, 6);
  assert.equal(res.promptTokens, promptInputIds('What is the total?', 3).length);
  assert.equal(res.promptTokens, 1073, 'the HF fixture count for one image with 3 crops and this question');
  for (let i = 1; i < res.tokenTimes.length; i++) assert.ok(res.tokenTimes[i] > res.tokenTimes[i - 1], 'token times increase');
  assert.ok(res.preprocessMs! > 0 && res.visionMs! > 0);
  assert.ok(res.tokenTimes[0] >= res.startedAt!);
});

test('a request with 3 crops spends clearly more time in the vision encoder than one with none (ratio)', async () => {
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const crops3: number[] = [];
  const crops0: number[] = [];
  for (let i = 0; i < 3; i++) {
    const [a] = await replica.infer([request(10 + i, tall, 1)]);
    const [b] = await replica.infer([request(20 + i, square, 1)]);
    assert.equal(a.crops, 3);
    assert.equal(b.crops, 0);
    crops3.push(a.visionMs!);
    crops0.push(b.visionMs!);
  }
  // 4 entries against 1: the cost is linear in entries, so expect about 4x; 2x leaves room for a noisy machine.
  assert.ok(med(crops3) / med(crops0) > 2, `vision ${med(crops3).toFixed(1)} ms vs ${med(crops0).toFixed(1)} ms`);
});

test('a bad image fails its own request and not its batch-mate', async () => {
  const bad = join(home, 'bad.png');
  writeFileSync(bad, 'not a png');
  const results = await replica.infer([request(30, bad, 2), request(31, square, 2)]);
  assert.equal(results[0].ok, false);
  assert.match(results[0].error!, /bad\.png/);
  assert.equal(results[1].ok, true);
  assert.equal(results[1].outputTokens, 2);
});

test('greedy decoding with the KV cache equals re-running the full sequence, for a padded batch', async () => {
  const s = await openSessions(modelDir);
  const { embed, decoder } = s;
  const prompts = textPrompts();
  const steps = 5;
  const cached = await generateBatch(s, shape, prompts.map((ids) => ({ pixelValues: new Float32Array(0), entries: 0, inputIds: ids })), steps);
  for (let r = 0; r < prompts.length; r++) {
    const seq = [...prompts[r]];
    const full: number[] = [];
    for (let step = 0; step < steps; step++) {
      const ids = new ort.Tensor('int64', BigInt64Array.from(seq.map(BigInt)), [1, seq.length]);
      const emb = (await embed.run({ input_ids: ids })).inputs_embeds;
      const feeds: Record<string, ort.Tensor> = {
        inputs_embeds: emb,
        attention_mask: new ort.Tensor('int64', new BigInt64Array(seq.length).fill(1n), [1, seq.length]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from(seq.map((_, i) => BigInt(i))), [1, seq.length]),
        num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(1n), []),
      };
      for (let l = 0; l < shape.numLayers; l++) {
        feeds[`past_key_values.${l}.key`] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 16]);
        feeds[`past_key_values.${l}.value`] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 16]);
      }
      const logits = (await decoder.run(feeds)).logits.data as Float32Array;
      let best = 0;
      for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
      full.push(best);
      seq.push(best);
    }
    assert.deepEqual(cached.tokenIds[r], full, `row ${r}`);
  }
  assert.ok(new Set(cached.tokenIds[0]).size > 1, 'the text prompt yields varied tokens, so the comparison means something');
  await releaseSessions(s);
});

test('an fp16 export (float16 pixel values, embeddings, KV cache and logits) runs through the same loop', async () => {
  // The tiny model's graphs with float16 I/O, under the export's file names, chosen with variant "fp16".
  const dir = join(home, 'fp16-model');
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  copyFileSync(join(modelDir, 'config.json'), join(dir, 'config.json'));
  for (const g of GRAPHS) {
    writeFileSync(join(dir, 'onnx', `${g}_fp16.onnx`), withFloat16Io(readFileSync(join(modelDir, `${g}.onnx`))));
  }
  const s16 = await openSessions(join(dir, 'onnx'), '_fp16');
  const s32 = await openSessions(modelDir);
  assert.deepEqual(Object.values(s16.io), Array(6).fill('float16'));
  assert.deepEqual(Object.values(s32.io), Array(6).fill('float32'));

  // Same greedy tokens as float32 on a text prompt: rounding the interface to fp16 must not change the argmax
  // of this model over a few steps (it would if a float16 buffer were read as float32 or the cache mis-typed).
  const text = textPrompts().map((ids) => ({ pixelValues: new Float32Array(0), entries: 0, inputIds: ids }));
  const t16 = await generateBatch(s16, shape, text, 6);
  const t32 = await generateBatch(s32, shape, text, 6);
  assert.deepEqual(t16.tokenIds, t32.tokenIds);
  assert.ok(new Set(t32.tokenIds[0]).size > 1, 'varied tokens, so the comparison means something');
  await Promise.all([releaseSessions(s16), releaseSessions(s32)]);

  // And a real request with crops through the backend, chosen the way a user would (--variant fp16).
  const b = await OnnxBackend.create({ model: dir, variant: 'fp16', threads: 1, log: quiet, env });
  assert.equal(b.model().details?.variant, '_fp16');
  const [r16] = await b.start({ replicas: 1, gpusPerReplica: 1, log: quiet });
  try {
    const [res] = await r16.infer([request(40, tall, 4)]);
    assert.equal(res.ok, true, res.error ?? '');
    assert.equal(res.crops, 3);
    assert.equal(res.outputTokens, 4);
    assert.ok(res.visionMs! > 0);
    const [ref] = await replica.infer([request(41, tall, 4)]);
    assert.deepEqual(res.tokenIds, ref.tokenIds);
  } finally {
    await r16.close();
  }
});

test('a model directory with a wrong input name is refused with a message naming it', async () => {
  const bad = join(home, 'renamed-model');
  mkdirSync(bad);
  for (const f of readdirSync(modelDir)) copyFileSync(join(modelDir, f), join(bad, f));
  const file = join(bad, 'decoder_model_merged.onnx');
  const model = onnx.ModelProto.decode(readFileSync(file));
  const graph = model.graph!;
  for (const i of graph.input ?? []) if (i.name === 'attention_mask') i.name = 'attn_mask';
  for (const n of graph.node ?? []) n.input = (n.input ?? []).map((x) => (x === 'attention_mask' ? 'attn_mask' : x));
  writeFileSync(file, onnx.ModelProto.encode(model).finish());
  const b = await OnnxBackend.create({ model: bad, threads: 1, log: quiet, env });
  await assert.rejects(b.start({ replicas: 1, gpusPerReplica: 1, log: quiet }), (e: Error) => /missing input "attention_mask"/.test(e.message) && /unexpected input "attn_mask"/.test(e.message) && e.message.includes(bad));
});

test('a directory without the graphs is refused, naming what is missing', async () => {
  const empty = join(home, 'not-a-model');
  mkdirSync(empty);
  await assert.rejects(resolveOnnxModel(empty, { log: quiet, env }), (e: Error) => e instanceof ModelDirError && /vision_encoder/.test(e.message) && /config\.json/.test(e.message));
  await assert.rejects(resolveOnnxModel(join(home, 'nope'), { log: quiet, env }), /model directory not found/);
});

test('onnxruntime cannot shard: more than one GPU per replica on the CUDA EP is refused naming the transformers backend', async () => {
  // As on a machine where the CUDA execution provider is installed (the refusal must not depend on this one's).
  const providers = () => ({ version: '1.30.0', providers: ['cpu', 'cuda'], notInstalled: [], error: null });
  const b = await OnnxBackend.create({ model: 'tiny', ep: 'cuda', log: quiet, env, providers });
  await assert.rejects(b.start({ replicas: 1, gpusPerReplica: 2, log: quiet }), (e: Error & { stage?: string }) => /cannot shard.*--backend transformers/.test(e.message) && e.stage === 'configuration');
});

test('a replica whose thread exits mid-run reports it died, and its in-flight batch fails with the reason', async () => {
  const b = await OnnxBackend.create({ model: 'tiny', threads: 1, log: quiet, env: { ...env, [FAULT_ENV]: '0:1' } });
  const [r] = await b.start({ replicas: 1, gpusPerReplica: 1, log: quiet });
  const [ok] = await r.infer([request(40, square, 1)]);
  assert.equal(ok.ok, true);
  await assert.rejects(r.infer([request(41, square, 1)]), /exited with code 3/);
  assert.match(await r.died, /exited with code 3/);
  await r.close();
});
