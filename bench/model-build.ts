// Benchmark of the tiny Gemma 3 model: build time and file sizes, then onnxruntime-node CPU cost per graph
// at one intra-op thread (vision n=1 and n=4, a 1073-token prefill, one decode step at that context), the
// shapes of one pan-and-scan request with 3 crops. Not a test: prints medians and a JSON line.
//   npm run build && node dist/bench/model-build.js [--out DIR] [--reps N]
import * as ort from 'onnxruntime-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyModel } from '../src/model/build-tiny.js';
import { TINY_CONFIG } from '../src/model/tiny-config.js';
import { measure } from './timing.js';

const PROMPT_TOKENS = 1073; // ~13 template + 4 x 258 image-block tokens + ~30 question tokens
const args = process.argv.slice(2);
const argValue = (flag: string) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const reps = Number(argValue('--reps') ?? 5);
const keepDir = argValue('--out');

async function median(label: string, fn: () => Promise<unknown>): Promise<number> {
  // One warm-up run: the first pays arena growth and page faults.
  const t = await measure(reps, 1, fn);
  console.log(`${label.padEnd(34)} median ${t.medianMs.toFixed(1).padStart(7)} ms   (min ${t.minMs.toFixed(1)}, max ${t.maxMs.toFixed(1)})`);
  return t.medianMs;
}

async function main(): Promise<void> {
  const root = keepDir ?? (await mkdtemp(join(tmpdir(), 'gemma-bench-model-bench-')));
  const dir = keepDir ?? join(root, 'tiny');
  try {
    const manifest = await buildTinyModel(dir, { seed: 0, hfWeights: true });
    console.log(`build: ${manifest.buildMs.toFixed(0)} ms`);
    for (const [f, b] of Object.entries(manifest.bytesByFile)) console.log(`  ${f.padEnd(28)} ${(b / 1e6).toFixed(2).padStart(8)} MB`);

    const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
    const t0 = performance.now();
    const vision = await ort.InferenceSession.create(join(dir, 'vision_encoder.onnx'), opts);
    const embed = await ort.InferenceSession.create(join(dir, 'embed_tokens.onnx'), opts);
    const decoder = await ort.InferenceSession.create(join(dir, 'decoder_model_merged.onnx'), opts);
    const loadMs = performance.now() - t0;
    console.log(`session load (3 graphs): ${loadMs.toFixed(0)} ms`);

    const t = TINY_CONFIG.text;
    const size = TINY_CONFIG.vision.imageSizePx;
    const results: Record<string, number> = { buildMs: manifest.buildMs, loadMs };
    for (const n of [1, 4]) {
      const px = new Float32Array(n * 3 * size * size).map((_, i) => Math.sin(i * 0.001));
      results[`vision_n${n}_ms`] = await median(`vision_encoder n=${n}`, () => vision.run({ pixel_values: new ort.Tensor('float32', px, [n, 3, size, size]) }));
    }
    const ids = BigInt64Array.from({ length: PROMPT_TOKENS }, (_, i) => BigInt(3 + ((i * 7919) % 255_990)));
    results.embed_ms = await median(`embed_tokens s=${PROMPT_TOKENS}`, () => embed.run({ input_ids: new ort.Tensor('int64', ids, [1, PROMPT_TOKENS]) }));
    const embeds = (await embed.run({ input_ids: new ort.Tensor('int64', ids, [1, PROMPT_TOKENS]) })).inputs_embeds as ort.Tensor;

    const feeds = (e: ort.Tensor, s: number, pastLen: number, past?: ort.InferenceSession.OnnxValueMapType) => {
      const f: Record<string, ort.Tensor> = {
        inputs_embeds: e,
        attention_mask: new ort.Tensor('int64', new BigInt64Array(pastLen + s).fill(1n), [1, pastLen + s]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: s }, (_, i) => BigInt(pastLen + i)), [1, s]),
        num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([1n]), []),
      };
      for (let i = 0; i < t.numLayers; i++) {
        for (const kv of ['key', 'value']) {
          f[`past_key_values.${i}.${kv}`] = (past?.[`present.${i}.${kv}`] as ort.Tensor | undefined) ?? new ort.Tensor('float32', new Float32Array(0), [1, t.numKvHeads, 0, t.headDim]);
        }
      }
      return f;
    };
    let prefill: ort.InferenceSession.OnnxValueMapType | undefined;
    results.prefill_ms = await median(`prefill s=${PROMPT_TOKENS} (keep 1)`, async () => {
      prefill = await decoder.run(feeds(embeds, PROMPT_TOKENS, 0));
    });
    const one = (await embed.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from([5n]), [1, 1]) })).inputs_embeds as ort.Tensor;
    results.decode_step_ms = await median(`decode step at past=${PROMPT_TOKENS}`, () => decoder.run(feeds(one, 1, PROMPT_TOKENS, prefill)));
    results.rss_mb = process.memoryUsage().rss / 1e6;
    console.log(JSON.stringify({ model: manifest.label, threads: 1, ...results }));
    await Promise.all([vision.release(), embed.release(), decoder.release()]);
  } finally {
    if (!keepDir) await rm(root, { recursive: true, force: true });
  }
}

await main();
