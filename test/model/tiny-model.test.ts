// End-to-end tests of the tiny Gemma 3 builder: the graphs load in onnxruntime with the layout's names,
// shapes are right, builds are deterministic, the KV cache (incl. sliding window and left padding) agrees
// with cache-less recomputation, and onnxruntime agrees with an independent numpy reference.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { buildTinyModel, type ModelManifest } from '../../src/model/build-tiny.js';
import { checkModelLayout, expectedIo, locateGraphFiles, readModelDirConfig, type GraphName } from '../../src/model/layout.js';
import { readSafetensorsHeader } from '../../src/model/safetensors.js';
import { TINY_CONFIG } from '../../src/model/tiny-config.js';
import {
  embedIds,
  emptyPast,
  greedyWithCache,
  greedyWithoutCache,
  leftPad,
  loadSessions,
  maxAbsDiff,
  releaseSessions,
  runDecoder,
  testPixels,
  testTokens,
  type Sessions,
  type TextDims,
} from './helpers.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const REFERENCE_SCRIPT = join(REPO_ROOT, 'python/reference_tiny_model.py');
const T = TINY_CONFIG.text;
const DIMS: TextDims = { numLayers: T.numLayers, numKvHeads: T.numKvHeads, headDim: T.headDim, vocabSize: T.vocabSize };
const H = T.hiddenSize;
const IMAGE_TOKEN = TINY_CONFIG.imageTokenId;
const LOGITS_TOLERANCE = 1e-4;

let root: string;
let modelDir: string;
let manifest: ModelManifest;
let sessions: Sessions;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gemma-bench-model-'));
  modelDir = join(root, 'tiny');
  manifest = await buildTinyModel(modelDir, { seed: 0, hfWeights: true });
  sessions = await loadSessions(modelDir);
});

after(async () => {
  await releaseSessions(sessions);
  if (root) await rm(root, { recursive: true, force: true });
});

async function hashFiles(dir: string, files: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of files) out[f] = createHash('sha256').update(await readFile(join(dir, f))).digest('hex');
  return out;
}

describe('layout and shapes', () => {
  test('manifest and config.json describe a random-weight gemma3 model', async () => {
    assert.equal(manifest.randomWeights, true);
    assert.equal(manifest.label, 'gemma3-tiny, random weights: speed only');
    assert.deepEqual(manifest.files, ['config.json', 'decoder_model_merged.onnx', 'embed_tokens.onnx', 'model.safetensors', 'vision_encoder.onnx']);
    const cfg = JSON.parse(await readFile(join(modelDir, 'config.json'), 'utf8'));
    assert.equal(cfg.model_type, 'gemma3');
    assert.equal(cfg.text_config.model_type, 'gemma3_text');
    assert.equal(cfg.text_config.vocab_size, 262_208);
    assert.deepEqual(cfg.text_config.layer_types, ['sliding_attention', 'sliding_attention', 'sliding_attention', 'sliding_attention', 'sliding_attention', 'full_attention']);
    assert.deepEqual(cfg.text_config.rope_scaling, { rope_type: 'linear', factor: 8 });
    assert.equal(cfg.text_config.final_logit_softcapping, null);
    assert.equal(cfg.vision_config.model_type, 'siglip_vision_model');
    assert.equal(cfg.image_token_index, IMAGE_TOKEN);
    assert.deepEqual(
      { name: cfg.gemma_bench.name, randomWeights: cfg.gemma_bench.randomWeights, seed: cfg.gemma_bench.seed, builderVersion: cfg.gemma_bench.builderVersion },
      { name: 'gemma3-tiny', randomWeights: true, seed: 0, builderVersion: 1 },
    );
    const dirCfg = readModelDirConfig(modelDir);
    assert.deepEqual(dirCfg.problems, []);
    assert.equal(dirCfg.config?.numLayers, 6);
    assert.equal(dirCfg.config?.randomWeights, true);
  });

  test('sessions have exactly the layout input and output names', () => {
    const { files, problems } = locateGraphFiles(modelDir);
    assert.deepEqual(problems, []);
    const byGraph: Record<GraphName, ort.InferenceSession> = {
      vision_encoder: sessions.vision,
      embed_tokens: sessions.embed,
      decoder_model_merged: sessions.decoder,
    };
    const infos = (Object.keys(byGraph) as GraphName[]).map((g) => ({
      graph: g,
      file: files[g] ?? '?',
      inputNames: byGraph[g].inputNames,
      outputNames: byGraph[g].outputNames,
      inputMetadata: byGraph[g].inputMetadata.map((m) => ({ name: m.name, isTensor: m.isTensor, type: m.isTensor ? m.type : undefined })),
      outputMetadata: byGraph[g].outputMetadata.map((m) => ({ name: m.name, isTensor: m.isTensor, type: m.isTensor ? m.type : undefined })),
    }));
    assert.deepEqual(checkModelLayout(infos, { numLayers: T.numLayers }), []);
    const dec = expectedIo('decoder_model_merged', T.numLayers);
    assert.deepEqual([...sessions.decoder.inputNames].sort(), [...dec.inputs, ...dec.optionalInputs].sort());
    assert.deepEqual([...sessions.decoder.outputNames], dec.outputs);
    assert.deepEqual(sessions.vision.inputNames, ['pixel_values']);
    assert.deepEqual(sessions.embed.outputNames, ['inputs_embeds']);
  });

  test('vision encoder: n=1 and n=2 give [n, 256, hidden], per image independent', async () => {
    const px = testPixels(2);
    const one = (await sessions.vision.run({ pixel_values: new ort.Tensor('float32', px.subarray(0, 3 * 896 * 896), [1, 3, 896, 896]) })).image_features as ort.Tensor;
    const two = (await sessions.vision.run({ pixel_values: new ort.Tensor('float32', px, [2, 3, 896, 896]) })).image_features as ort.Tensor;
    assert.deepEqual(one.dims, [1, 256, H]);
    assert.deepEqual(two.dims, [2, 256, H]);
    const a = one.data as Float32Array;
    const b = (two.data as Float32Array).subarray(0, 256 * H);
    assert.ok(maxAbsDiff(a, b) < 1e-5, 'image 0 alone and in a batch of 2 agree');
    assert.ok(maxAbsDiff(b, (two.data as Float32Array).subarray(256 * H)) > 1e-3, 'different images give different features');
  });

  test('embed_tokens: the safetensors embedding row times sqrt(hidden), over the full vocabulary', async () => {
    const ids = [[0, 2, IMAGE_TOKEN, 262_207]];
    const e = await embedIds(sessions, ids);
    assert.deepEqual(e.dims, [1, 4, H]);
    const header = await readSafetensorsHeader(join(modelDir, 'model.safetensors'));
    const entry = header['model.language_model.embed_tokens.weight'];
    assert.deepEqual(entry.shape, [262_208, H]);
    const buf = await readFile(join(modelDir, 'model.safetensors'));
    const dataStart = 8 + Number(buf.readBigUInt64LE(0));
    for (const [j, id] of ids[0].entries()) {
      const off = dataStart + entry.data_offsets[0] + id * H * 4;
      const row = new Float32Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + H * 4));
      const got = (e.data as Float32Array).subarray(j * H, (j + 1) * H);
      assert.ok(maxAbsDiff(got, row.map((x) => x * Math.sqrt(H))) < 1e-6, `row ${id} scaled by sqrt(${H})`);
    }
    assert.ok(header['lm_head.weight'], 'tied lm_head written for loaders that do not tie');
  });

  test('decoder: past 0 then past > 0, num_logits_to_keep 0 / 1 / 3', async () => {
    const prompt = [testTokens(7)];
    const { ids, mask, positions } = leftPad(prompt);
    const embeds = await embedIds(sessions, ids);
    const full = await runDecoder(sessions, DIMS, { embeds, mask, positions, past: emptyPast(DIMS, 1), keep: 0 });
    const logitsAll = full.logits as ort.Tensor;
    assert.deepEqual(logitsAll.dims, [1, 7, T.vocabSize]);
    assert.deepEqual((full['present.0.key'] as ort.Tensor).dims, [1, T.numKvHeads, 7, T.headDim]);
    const last3 = (await runDecoder(sessions, DIMS, { embeds, mask, positions, past: emptyPast(DIMS, 1), keep: 3 })).logits as ort.Tensor;
    assert.deepEqual(last3.dims, [1, 3, T.vocabSize]);
    assert.ok(maxAbsDiff(last3.data as Float32Array, (logitsAll.data as Float32Array).subarray(4 * T.vocabSize)) < 1e-5);
    const step = await runDecoder(sessions, DIMS, {
      embeds: await embedIds(sessions, [[5]]),
      mask: [[1, 1, 1, 1, 1, 1, 1, 1]],
      positions: [[7]],
      past: full as Record<string, ort.Tensor>,
      keep: 1,
    });
    assert.deepEqual((step.logits as ort.Tensor).dims, [1, 1, T.vocabSize]);
    for (let i = 0; i < T.numLayers; i++) {
      assert.deepEqual((step[`present.${i}.value`] as ort.Tensor).dims, [1, T.numKvHeads, 8, T.headDim]);
    }
  });

  test('decoder: batch 2 with left padding matches each prompt run alone', async () => {
    const prompts = [testTokens(4, 3), testTokens(9, 4)];
    const { ids, mask, positions } = leftPad(prompts);
    const batched = (await runDecoder(sessions, DIMS, { embeds: await embedIds(sessions, ids), mask, positions, past: emptyPast(DIMS, 2), keep: 0 })).logits as ort.Tensor;
    assert.deepEqual(batched.dims, [2, 9, T.vocabSize]);
    const V = T.vocabSize;
    for (const [row, p] of prompts.entries()) {
      const alone = (await runDecoder(sessions, DIMS, { embeds: await embedIds(sessions, [p]), mask: [p.map(() => 1)], positions: [p.map((_, i) => i)], past: emptyPast(DIMS, 1), keep: 0 })).logits as ort.Tensor;
      const pad = 9 - p.length;
      const fromBatch = (batched.data as Float32Array).subarray((row * 9 + pad) * V, (row + 1) * 9 * V);
      const d = maxAbsDiff(fromBatch, alone.data as Float32Array);
      assert.ok(d < LOGITS_TOLERANCE, `row ${row}: left-padded logits differ from the unpadded run by ${d}`);
      for (const x of batched.data as Float32Array) if (!Number.isFinite(x)) assert.fail('non-finite logits (padding rows must not produce NaN)');
    }
  });
});

describe('KV cache', () => {
  test('greedy 5 tokens with cache == re-running the full sequence, batch 2 left-padded', async () => {
    const prompts = [testTokens(6, 7), testTokens(11, 8)];
    const cached = await greedyWithCache(sessions, DIMS, prompts, 5);
    const recomputed = await greedyWithoutCache(sessions, DIMS, prompts, 5);
    assert.deepEqual(cached.tokens, recomputed.tokens);
    let worst = 0;
    cached.logits.forEach((rows, s) => rows.forEach((r, b) => (worst = Math.max(worst, maxAbsDiff(r, recomputed.logits[s][b])))));
    assert.ok(worst < LOGITS_TOLERANCE, `cached vs recomputed logits differ by ${worst}`);
    assert.ok(new Set(cached.tokens.flat()).size > 3, `greedy tokens should vary, got ${JSON.stringify(cached.tokens)}`);
  });

  test('prompt longer than the sliding window (600 > 512): cache agrees with recomputation', async () => {
    const prompt = [testTokens(600, 11)];
    const cached = await greedyWithCache(sessions, DIMS, prompt, 5);
    const recomputed = await greedyWithoutCache(sessions, DIMS, prompt, 5);
    assert.deepEqual(cached.tokens, recomputed.tokens);
    let worst = 0;
    cached.logits.forEach((rows, s) => (worst = Math.max(worst, maxAbsDiff(rows[0], recomputed.logits[s][0]))));
    assert.ok(worst < LOGITS_TOLERANCE, `cached vs recomputed logits differ by ${worst}`);
  });

  test('the sliding window changes results: 600 tokens differ from the same model without a window', async () => {
    // The global layer sees all 600 keys, local layers only the last 512; if the window were ignored the
    // logits would equal a model whose window covers everything. Build one (window 4096) to compare.
    const wide = join(root, 'wide-window');
    await buildTinyModel(wide, { seed: 0, config: { text: { slidingWindow: 4096 } } });
    const wideSessions = await loadSessions(wide);
    try {
      const prompt = [testTokens(600, 11)];
      const { ids, mask, positions } = leftPad(prompt);
      const run = async (s: Sessions) =>
        (await runDecoder(s, DIMS, { embeds: await embedIds(s, ids), mask, positions, past: emptyPast(DIMS, 1), keep: 1 })).logits as ort.Tensor;
      const narrow = await run(sessions);
      const broad = await run(wideSessions);
      assert.ok(maxAbsDiff(narrow.data as Float32Array, broad.data as Float32Array) > 1e-3, 'window 512 must mask keys older than 512 positions');
      const shortPrompt = [testTokens(100, 12)];
      const sp = leftPad(shortPrompt);
      const runShort = async (s: Sessions) =>
        (await runDecoder(s, DIMS, { embeds: await embedIds(s, sp.ids), mask: sp.mask, positions: sp.positions, past: emptyPast(DIMS, 1), keep: 1 })).logits as ort.Tensor;
      assert.ok(maxAbsDiff((await runShort(sessions)).data as Float32Array, (await runShort(wideSessions)).data as Float32Array) < 1e-6, 'inside the window both agree');
    } finally {
      await releaseSessions(wideSessions);
    }
  });
});

describe('determinism and atomic writes', () => {
  test('same seed gives identical bytes; a different seed differs; rebuilding replaces in place', async () => {
    const graphFiles = ['config.json', 'decoder_model_merged.onnx', 'embed_tokens.onnx', 'vision_encoder.onnx'];
    const base = await hashFiles(modelDir, graphFiles);
    const again = join(root, 'again');
    await buildTinyModel(again, { seed: 0 });
    assert.deepEqual(await hashFiles(again, graphFiles), base, 'seed 0 twice (with and without safetensors) gives identical graphs');
    await buildTinyModel(again, { seed: 0 });
    assert.deepEqual(await hashFiles(again, graphFiles), base, 'rebuilding over an existing build');
    const other = join(root, 'seed1');
    await buildTinyModel(other, { seed: 1 });
    const h1 = await hashFiles(other, graphFiles);
    for (const f of graphFiles) assert.notEqual(h1[f], base[f], `${f} must depend on the seed`);
    const leftovers = (await readdir(root)).filter((n) => n.includes('.partial-'));
    assert.deepEqual(leftovers, [], 'no temp directories left behind');
  });

  test('refuses to replace a non-empty directory that is not a gemma-bench build', async () => {
    const foreign = join(root, 'foreign');
    await mkdir(foreign);
    await writeFile(join(foreign, 'notes.txt'), 'mine');
    await assert.rejects(buildTinyModel(foreign, { seed: 0 }), /not a gemma-bench model build/);
    assert.deepEqual(await readdir(foreign), ['notes.txt']);
  });
});

describe('numpy reference', () => {
  const python = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  const skip = python.status === 0 ? false : `python3 with numpy not available (${python.error?.message ?? python.stderr.trim()})`;

  test('onnxruntime matches python/reference_tiny_model.py (vision, padded text, image merge past the window)', { skip }, async (t) => {
    const work = join(root, 'reference');
    await mkdir(work, { recursive: true });
    const numImages = 2;
    const px = testPixels(numImages);
    await writeFile(join(work, 'px.f32'), Buffer.from(px.buffer, px.byteOffset, px.byteLength));

    // Text A: batch 2, left padding, all positions. Text B: two image blocks merged into a 548-token
    // prompt (past the 512 window), last 4 positions.
    const padded = leftPad([testTokens(5, 21), testTokens(12, 22)]);
    const block = [TINY_CONFIG.boiTokenId, ...Array<number>(256).fill(IMAGE_TOKEN), TINY_CONFIG.eoiTokenId];
    const mm = [2, ...testTokens(10, 23), ...block, 108, ...block, ...testTokens(20, 24)];
    const request = {
      vision: { pixels_file: join(work, 'px.f32'), num_images: numImages },
      texts: [
        { input_ids: padded.ids, attention_mask: padded.mask, position_ids: padded.positions, logits_to_keep: 0 },
        { input_ids: [mm], logits_to_keep: 4 },
      ],
    };
    await writeFile(join(work, 'request.json'), JSON.stringify(request));
    const ref = spawnSync('python3', [REFERENCE_SCRIPT, '--model-dir', modelDir, '--request', join(work, 'request.json'), '--out-dir', join(work, 'out')], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    assert.equal(ref.status, 0, `reference failed: ${ref.stderr}`);
    const summary = JSON.parse(ref.stdout) as { image_features: { file: string; shape: number[] }; logits: Array<{ file: string; shape: number[] }> };
    const readF32 = async (f: string) => {
      const b = await readFile(f);
      return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    };

    // Vision
    const feats = (await sessions.vision.run({ pixel_values: new ort.Tensor('float32', px, [numImages, 3, 896, 896]) })).image_features as ort.Tensor;
    assert.deepEqual(summary.image_features.shape, feats.dims);
    const visionDiff = maxAbsDiff(feats.data as Float32Array, await readF32(summary.image_features.file));

    // Text A (compare real positions only; padded query rows are meaningless in both)
    const V = T.vocabSize;
    const a = (await runDecoder(sessions, DIMS, { embeds: await embedIds(sessions, padded.ids), mask: padded.mask, positions: padded.positions, past: emptyPast(DIMS, 2), keep: 0 })).logits as ort.Tensor;
    const refA = await readF32(summary.logits[0].file);
    let textDiff = 0;
    padded.mask.forEach((row, b) =>
      row.forEach((m, s) => {
        if (!m) return;
        const off = (b * row.length + s) * V;
        textDiff = Math.max(textDiff, maxAbsDiff((a.data as Float32Array).subarray(off, off + V), refA.subarray(off, off + V)));
      }),
    );

    // Text B: embed, scatter image features over the image tokens in order (what the engine does), decode.
    const embeds = await embedIds(sessions, [mm]);
    const e = embeds.data as Float32Array;
    const f = feats.data as Float32Array;
    let next = 0;
    mm.forEach((id, pos) => {
      if (id === IMAGE_TOKEN) e.set(f.subarray(next * H, (next + 1) * H), pos * H), next++;
    });
    assert.equal(next, numImages * 256);
    const b = (await runDecoder(sessions, DIMS, { embeds, mask: [mm.map(() => 1)], positions: [mm.map((_, i) => i)], past: emptyPast(DIMS, 1), keep: 4 })).logits as ort.Tensor;
    assert.deepEqual(b.dims, summary.logits[1].shape);
    const mmDiff = maxAbsDiff(b.data as Float32Array, await readF32(summary.logits[1].file));

    t.diagnostic(`numpy vs onnxruntime max abs diff: image_features ${visionDiff.toExponential(2)}, padded text logits ${textDiff.toExponential(2)}, multimodal 548-token logits ${mmDiff.toExponential(2)}`);
    assert.ok(visionDiff < 1e-4, `image_features differ by ${visionDiff}`);
    assert.ok(textDiff < LOGITS_TOLERANCE, `text logits differ by ${textDiff}`);
    assert.ok(mmDiff < LOGITS_TOLERANCE, `multimodal logits differ by ${mmDiff}`);
  });

  test('python/verify_tiny_model.py compiles', { skip: python.status === 0 ? false : 'python3 not available' }, () => {
    // compile() rather than py_compile, which would leave __pycache__ in the working tree.
    const script = join(REPO_ROOT, 'python/verify_tiny_model.py');
    const r = spawnSync('python3', ['-c', 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});
