// The roofline arithmetic (issue 11) against hand-worked numbers: panscan-spec.md §4.5 (per-token FLOPs of 4B/12B/27B,
// 5.46 TFLOP per image entry, the 4B receipt example) and the Gemma 3 27B example (a 1074-token prompt with 3
// crops is about 80.6 TFLOP, about 102 ms at a measured 790 TFLOP/s); the peak table by nvidia-smi name; and a run's
// floors and % of floor, or why there is none.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  computeRoofline,
  decodeStepBytes,
  decodeWeightBytes,
  embeddingParams,
  GEMMA3_TEXT,
  gemma3ArchFromConfig,
  gemma3SizeFromName,
  gpuPeakFor,
  kvCacheBytes,
  nonEmbeddingParams,
  prefillFlops,
  projectorFlopsPerEntry,
  visionFlopsPerEntry,
  type RooflineInput,
} from '../../src/engine/roofline.js';

const near = (got: number, want: number, relTol: number, what: string) => assert.ok(Math.abs(got - want) <= Math.abs(want) * relTol, `${what}: ${got} is not within ${relTol * 100}% of ${want}`);
const T = 1e12;
const G = 1e9;

describe('model cost (panscan-spec.md §4.5)', () => {
  it('per-token linear FLOPs = 2 x non-embedding parameters: 6.42 / 21.52 / 51.20 GF', () => {
    near(2 * nonEmbeddingParams(GEMMA3_TEXT['4b']), 6.42 * G, 0.002, '4B');
    near(2 * nonEmbeddingParams(GEMMA3_TEXT['12b']), 21.52 * G, 0.002, '12B');
    near(2 * nonEmbeddingParams(GEMMA3_TEXT['27b']), 51.2 * G, 0.002, '27B');
    // Text parameters with the (tied) embedding, §4.4: 3.880 B, 11.766 B, 27.009 B.
    near(nonEmbeddingParams(GEMMA3_TEXT['4b']) + embeddingParams(GEMMA3_TEXT['4b']), 3.88e9, 0.003, '4B text');
    near(nonEmbeddingParams(GEMMA3_TEXT['27b']) + embeddingParams(GEMMA3_TEXT['27b']), 27.009e9, 0.001, '27B text');
  });

  it('one 896x896 entry: 5.46 TFLOP in the vision tower; the projector 1.51 / 2.26 / 3.17 GF', () => {
    near(visionFlopsPerEntry(), 5.46 * T, 0.001, 'vision');
    near(projectorFlopsPerEntry(GEMMA3_TEXT['4b']), 1.51 * G, 0.002, '4B projector');
    near(projectorFlopsPerEntry(GEMMA3_TEXT['12b']), 2.265 * G, 0.001, '12B projector'); // the spec rounds 2.265 to 2.26
    near(projectorFlopsPerEntry(GEMMA3_TEXT['27b']), 3.17 * G, 0.002, '27B projector');
  });

  it('the 4B receipt (1100 prompt tokens, 3 crops): vision 21.8, LM 7.1, attention ~0.16, total ~29 TFLOP; 7.9 GB per decode step', () => {
    const f = prefillFlops(GEMMA3_TEXT['4b'], 1100, 4);
    near(f.vision, 21.8 * T, 0.003, 'vision');
    near(f.linear, 7.06 * T, 0.002, 'LM linear');
    near(f.attention, 0.168 * T, 0.01, 'attention'); // the spec rounds it to "≈0.16"
    near(f.total, 29 * T, 0.01, 'total');
    assert.ok(f.vision / f.total > 0.74 && f.vision / f.total < 0.76, 'about 75% of it is vision');
    near(kvCacheBytes(GEMMA3_TEXT['4b'], 1100, 2), 144e6, 0.005, 'KV cache at 1100 tokens');
    near(decodeStepBytes(GEMMA3_TEXT['4b'], 1100, 1, 2), 7.9e9, 0.005, 'decode step');
    near(decodeWeightBytes(GEMMA3_TEXT['27b'], 2), (51.2 + 2.82) * G, 0.002, '27B weights read per step');
  });

  it("the issue's 27B example: 1074 prompt tokens with 3 crops ≈ 80.6 TFLOP ≈ 102 ms at 790 TFLOP/s", () => {
    // The figure counts the lm_head on every prompt token (2 x all 27.0 B text parameters per token):
    const all = prefillFlops(GEMMA3_TEXT['27b'], 1074, 4, { logitsTokens: 1074 });
    near(all.total, 80.6 * T, 0.005, 'prefill, logits of every prompt token');
    near((all.total / (790 * T)) * 1000, 102, 0.005, 'ms at 790 TFLOP/s');
    // What transformers' generate (logits_to_keep=1) and vLLM compute, and what the floor uses: the last token's logits.
    const last = prefillFlops(GEMMA3_TEXT['27b'], 1074, 4);
    near(all.total - last.total, 1073 * 2 * 5376 * 262_208, 1e-9, 'the difference is the lm_head of 1073 tokens');
    near(last.total, 77.43 * T, 0.002, 'prefill as generate runs it');
    near(last.linear, 1074 * 51.2 * G, 0.002, 'linear');
    near(last.vision, 4 * 5.46 * T + 4 * 3.17 * G, 0.002, 'vision + projector');
    near(last.attention, 0.585 * T, 0.002, 'attention: 10 global + 52 local layers, causal');
  });
});

describe('peak table by nvidia-smi name', () => {
  const cases: [string, string | null, number, number][] = [
    ['NVIDIA H100 80GB HBM3', 'H100 SXM', 989, 3.35],
    ['NVIDIA H100 PCIe', 'H100 PCIe', 756, 2.0],
    ['NVIDIA H100 NVL', 'H100 NVL', 835, 3.9],
    ['NVIDIA H200', 'H200', 989, 4.8],
    ['NVIDIA H200 NVL', 'H200 NVL', 835, 4.8],
    ['NVIDIA A100-SXM4-40GB', 'A100 SXM 40GB', 312, 1.555],
    ['NVIDIA A100-SXM4-80GB', 'A100 SXM 80GB', 312, 2.039],
    ['NVIDIA A100-SXM-80GB', 'A100 SXM 80GB', 312, 2.039],
    ['NVIDIA A100-PCIE-40GB', 'A100 PCIe 40GB', 312, 1.555],
    ['NVIDIA A100 80GB PCIe', 'A100 PCIe 80GB', 312, 1.935],
    ['NVIDIA L40S', 'L40S', 362, 0.864],
    ['NVIDIA L4', 'L4', 121, 0.3],
    ['NVIDIA A10G', 'A10G', 70, 0.6],
    ['NVIDIA B200', 'B200', 2250, 7.7],
  ];
  for (const [name, entry, tflops, tbs] of cases) {
    it(`${name} -> ${entry}`, () => {
      const p = gpuPeakFor(name)!;
      assert.deepEqual([p.entry, p.bf16Tflops, p.memTBs], [entry, tflops, tbs]);
      assert.ok(p.source.length > 20, 'cites its source');
    });
  }
  it('a GPU not in the table has no peak (no guessing)', () => {
    for (const n of ['NVIDIA L40', 'NVIDIA GeForce RTX 4090', 'NVIDIA GH200 480GB', 'Tesla V100-SXM2-16GB', 'NVIDIA A10']) assert.equal(gpuPeakFor(n), null, n);
  });
});

describe('architecture from a config or a name', () => {
  it("a Hub config that lists only some fields gets Gemma3TextConfig's defaults (the 4B one)", () => {
    const hub4b = { architectures: ['Gemma3ForConditionalGeneration'], model_type: 'gemma3', text_config: { hidden_size: 2560, intermediate_size: 10240, model_type: 'gemma3_text', num_hidden_layers: 34, rope_scaling: { factor: 8.0, rope_type: 'linear' }, sliding_window: 1024 }, vision_config: {} };
    assert.deepEqual(gemma3ArchFromConfig(hub4b), GEMMA3_TEXT['4b']);
    const layerTypes = { model_type: 'gemma3_text', hidden_size: 64, num_hidden_layers: 6, layer_types: ['sliding_attention', 'sliding_attention', 'sliding_attention', 'sliding_attention', 'sliding_attention', 'full_attention'] };
    assert.equal(gemma3ArchFromConfig(layerTypes)!.globalLayers, 1);
    assert.equal(gemma3ArchFromConfig({ model_type: 'llama', hidden_size: 4096 }), null);
    assert.equal(gemma3ArchFromConfig({ model_type: 'llava', text_config: { hidden_size: 4096 } }), null);
  });
  it('names', () => {
    assert.equal(gemma3SizeFromName('google/gemma-3-27b-it'), '27b');
    assert.equal(gemma3SizeFromName('/models/gemma-3-4b-pt'), '4b');
    assert.equal(gemma3SizeFromName('RedHatAI/gemma-3-12b-it-FP8-dynamic'), '12b');
    assert.equal(gemma3SizeFromName('meta-llama/Llama-3.1-8B'), null);
  });
});

describe('a run', () => {
  const rec = (promptTokens: number, crops: number, batchSize = 1, outputTokens = 256) => ({ promptTokens, imageTokens: 256 * (crops + 1), crops, outputTokens, batchSize });
  const base: RooflineInput = {
    cost: { name: 'gemma-3-27b', arch: GEMMA3_TEXT['27b'], bytesPerParam: 2, pipelineSharded: true },
    gpuNames: ['NVIDIA H100 80GB HBM3'],
    cpu: false,
    gpusPerReplica: 2,
    pipelineSharded: true,
    records: [rec(1074, 3), rec(1074, 3), rec(1074, 3)],
    ttftP50Ms: 300,
    tpotP50Ms: 70,
  };

  it('floors over the replica GPUs, % of floor for the medians, the table entry and the pipeline caveat', () => {
    const r = computeRoofline(base);
    assert.equal(r.unknown, null);
    assert.equal(r.peak!.entry, 'H100 SXM');
    assert.equal(r.gpu, 'NVIDIA H100 80GB HBM3');
    near(r.prefillTflop!, 77.43, 0.002, 'median prefill TFLOP');
    near(r.ttftFloorMs!, (77.43e12 / (989e12 * 2)) * 1000, 0.002, 'TTFT floor');
    const bytes = decodeStepBytes(GEMMA3_TEXT['27b'], 1074 + 128, 1, 2);
    near(r.decodeStepGB!, bytes / 1e9, 1e-9, 'decode step at the mean context');
    near(r.tpotFloorMs!, (bytes / (3.35e12 * 2)) * 1000, 1e-9, 'TPOT floor');
    near(r.ttftPctOfFloor!, (r.ttftFloorMs! / 300) * 100, 1e-9, 'TTFT % of floor');
    near(r.tpotPctOfFloor!, (r.tpotFloorMs! / 70) * 100, 1e-9, 'TPOT % of floor');
    assert.match(r.notes[0], /device_map="auto" runs a replica's 2 GPUs one after another .* 50% of this floor is the most it can reach/);
  });

  it('a micro-batch of b: b prefills before the first token, b KV caches per step', () => {
    const one = computeRoofline({ ...base, records: [rec(1074, 3, 1)] });
    const two = computeRoofline({ ...base, records: [rec(1074, 3, 2)] });
    near(two.ttftFloorMs!, 2 * one.ttftFloorMs!, 1e-9, 'TTFT floor doubles');
    near(two.tpotFloorMs! - one.tpotFloorMs!, (kvCacheBytes(GEMMA3_TEXT['27b'], 1074 + 128, 2) / (3.35e12 * 2)) * 1000, 1e-9, 'one more KV cache per step');
  });

  it('says why there is no floor instead of guessing', () => {
    assert.match(computeRoofline({ ...base, cpu: true }).unknown!, /^CPU run/);
    assert.match(computeRoofline({ ...base, gpuNames: [] }).unknown!, /GPUs are not known/);
    assert.match(computeRoofline({ ...base, gpuNames: ['NVIDIA GeForce RTX 4090'] }).unknown!, /no peak table entry for "NVIDIA GeForce RTX 4090"/);
    assert.match(computeRoofline({ ...base, gpuNames: ['NVIDIA H100 80GB HBM3', 'NVIDIA A100-SXM4-40GB'] }).unknown!, /mixed GPUs/);
    const noModel = computeRoofline({ ...base, cost: null });
    assert.match(noModel.unknown!, /not a known Gemma 3 architecture/);
    assert.equal(noModel.peak!.entry, 'H100 SXM', 'the peak is still said');
    assert.match(computeRoofline({ ...base, records: [] }).unknown!, /no completed measured request/);
    for (const r of [computeRoofline({ ...base, cpu: true }), noModel]) assert.deepEqual([r.ttftFloorMs, r.tpotFloorMs, r.ttftPctOfFloor, r.tpotPctOfFloor], [null, null, null, null]);
  });
});
