// The tiny model's parameters: names, shapes (PyTorch layout) and deterministic random values. This is the
// single source of the weights: the ONNX graphs take their initializers from here (transposing where ONNX
// wants [in, out]), and model.safetensors writes exactly these tensors under the same names, so the
// numpy reference and transformers load bit-identical values.
//
// Names follow current transformers (>= 4.52) for Gemma3ForConditionalGeneration:
//   model.vision_tower.vision_model.*, model.multi_modal_projector.*, model.language_model.*, lm_head.weight.
// Older transformers (4.50-4.51) and the original Hub checkpoints use vision_tower.vision_model.*,
// multi_modal_projector.*, language_model.model.* and language_model.lm_head.weight; current transformers
// maps those onto the new names itself (`_checkpoint_conversion_mapping`), not the other way round.
import { Rng } from './rng.js';
import { patchesPerSide, type TinyGemma3Config } from './tiny-config.js';

export const VISION_PREFIX = 'model.vision_tower.vision_model.';
export const PROJECTOR_PREFIX = 'model.multi_modal_projector.';
export const TEXT_PREFIX = 'model.language_model.';
export const LM_HEAD = 'lm_head.weight';

export interface WeightTensor {
  readonly name: string;
  /** PyTorch layout: Linear weights are [out, in]. */
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type Weights = ReadonlyMap<string, WeightTensor>;

/**
 * How values are drawn. HF initialises linear and embedding weights with normal(0, 0.02), biases with 0,
 * Gemma RMSNorm weights with 0 (the norm multiplies by 1 + w) and LayerNorm with (1, 0). Biases and norm
 * weights are perturbed here instead of left at their neutral values: a zero bias or a unit gain hides a
 * missing or misplaced parameter from the numpy and transformers comparisons. The SigLIP position
 * embedding uses SigLIP's own std 1/sqrt(width) so positions are distinguishable at width 32.
 */
export const INIT_SCHEME = Object.freeze({
  linearWeightStd: 0.02,
  embeddingStd: 0.02,
  biasStd: 0.02,
  rmsNormWeightStd: 0.1,
  layerNormWeightStd: 0.1,
  layerNormBiasStd: 0.02,
});

export function describeInit(): Record<string, string> {
  return {
    linear_and_conv_weights: `normal(0, ${INIT_SCHEME.linearWeightStd})`,
    embed_tokens: `normal(0, ${INIT_SCHEME.embeddingStd}) (tied to lm_head)`,
    mm_input_projection_weight: `normal(0, ${INIT_SCHEME.linearWeightStd})`,
    biases: `normal(0, ${INIT_SCHEME.biasStd})`,
    gemma_rms_norm_weights: `normal(0, ${INIT_SCHEME.rmsNormWeightStd}) (the norm scales by 1 + w)`,
    layer_norm: `weight 1 + normal(0, ${INIT_SCHEME.layerNormWeightStd}), bias normal(0, ${INIT_SCHEME.layerNormBiasStd})`,
    vision_position_embedding: 'normal(0, 1/sqrt(vision hidden_size)) (SigLIP init)',
  };
}

type Kind = 'linear' | 'embedding' | 'bias' | 'rmsNorm' | 'layerNormWeight' | 'layerNormBias' | 'positionEmbedding';

interface Spec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly kind: Kind;
}

/** Every parameter of Gemma3ForConditionalGeneration at this config, in a fixed order, except lm_head (tied). */
export function parameterSpecs(c: TinyGemma3Config): Spec[] {
  const v = c.vision;
  const t = c.text;
  const specs: Spec[] = [];
  const add = (name: string, shape: number[], kind: Kind) => specs.push({ name, shape, kind });
  const numPatches = patchesPerSide(c) ** 2;

  const vp = VISION_PREFIX;
  add(`${vp}embeddings.patch_embedding.weight`, [v.hiddenSize, 3, v.patchSizePx, v.patchSizePx], 'linear');
  add(`${vp}embeddings.patch_embedding.bias`, [v.hiddenSize], 'bias');
  add(`${vp}embeddings.position_embedding.weight`, [numPatches, v.hiddenSize], 'positionEmbedding');
  for (let i = 0; i < v.numLayers; i++) {
    const l = `${vp}encoder.layers.${i}.`;
    add(`${l}layer_norm1.weight`, [v.hiddenSize], 'layerNormWeight');
    add(`${l}layer_norm1.bias`, [v.hiddenSize], 'layerNormBias');
    for (const p of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) {
      add(`${l}self_attn.${p}.weight`, [v.hiddenSize, v.hiddenSize], 'linear');
      add(`${l}self_attn.${p}.bias`, [v.hiddenSize], 'bias');
    }
    add(`${l}layer_norm2.weight`, [v.hiddenSize], 'layerNormWeight');
    add(`${l}layer_norm2.bias`, [v.hiddenSize], 'layerNormBias');
    add(`${l}mlp.fc1.weight`, [v.intermediateSize, v.hiddenSize], 'linear');
    add(`${l}mlp.fc1.bias`, [v.intermediateSize], 'bias');
    add(`${l}mlp.fc2.weight`, [v.hiddenSize, v.intermediateSize], 'linear');
    add(`${l}mlp.fc2.bias`, [v.hiddenSize], 'bias');
  }
  add(`${vp}post_layernorm.weight`, [v.hiddenSize], 'layerNormWeight');
  add(`${vp}post_layernorm.bias`, [v.hiddenSize], 'layerNormBias');

  add(`${PROJECTOR_PREFIX}mm_input_projection_weight`, [v.hiddenSize, t.hiddenSize], 'linear');
  add(`${PROJECTOR_PREFIX}mm_soft_emb_norm.weight`, [v.hiddenSize], 'rmsNorm');

  const tp = TEXT_PREFIX;
  add(`${tp}embed_tokens.weight`, [t.vocabSize, t.hiddenSize], 'embedding');
  const qWidth = t.numHeads * t.headDim;
  const kvWidth = t.numKvHeads * t.headDim;
  for (let i = 0; i < t.numLayers; i++) {
    const l = `${tp}layers.${i}.`;
    add(`${l}input_layernorm.weight`, [t.hiddenSize], 'rmsNorm');
    add(`${l}self_attn.q_proj.weight`, [qWidth, t.hiddenSize], 'linear');
    add(`${l}self_attn.k_proj.weight`, [kvWidth, t.hiddenSize], 'linear');
    add(`${l}self_attn.v_proj.weight`, [kvWidth, t.hiddenSize], 'linear');
    add(`${l}self_attn.o_proj.weight`, [t.hiddenSize, qWidth], 'linear');
    add(`${l}self_attn.q_norm.weight`, [t.headDim], 'rmsNorm');
    add(`${l}self_attn.k_norm.weight`, [t.headDim], 'rmsNorm');
    add(`${l}post_attention_layernorm.weight`, [t.hiddenSize], 'rmsNorm');
    add(`${l}pre_feedforward_layernorm.weight`, [t.hiddenSize], 'rmsNorm');
    add(`${l}post_feedforward_layernorm.weight`, [t.hiddenSize], 'rmsNorm');
    add(`${l}mlp.gate_proj.weight`, [t.intermediateSize, t.hiddenSize], 'linear');
    add(`${l}mlp.up_proj.weight`, [t.intermediateSize, t.hiddenSize], 'linear');
    add(`${l}mlp.down_proj.weight`, [t.hiddenSize, t.intermediateSize], 'linear');
  }
  add(`${tp}norm.weight`, [t.hiddenSize], 'rmsNorm');
  return specs;
}

function generate(spec: Spec, seed: number, c: TinyGemma3Config): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const rng = new Rng(seed, spec.name);
  switch (spec.kind) {
    case 'linear':
      return rng.fillNormal(out, INIT_SCHEME.linearWeightStd);
    case 'embedding':
      return rng.fillNormal(out, INIT_SCHEME.embeddingStd);
    case 'bias':
      return rng.fillNormal(out, INIT_SCHEME.biasStd);
    case 'rmsNorm':
      return rng.fillNormal(out, INIT_SCHEME.rmsNormWeightStd);
    case 'layerNormWeight':
      return rng.fillNormal(out, INIT_SCHEME.layerNormWeightStd, 1);
    case 'layerNormBias':
      return rng.fillNormal(out, INIT_SCHEME.layerNormBiasStd);
    case 'positionEmbedding':
      return rng.fillNormal(out, 1 / Math.sqrt(c.vision.hiddenSize));
  }
}

/** All parameters for `seed`; deterministic per (seed, name). */
export function generateWeights(c: TinyGemma3Config, seed: number): Map<string, WeightTensor> {
  const m = new Map<string, WeightTensor>();
  for (const spec of parameterSpecs(c)) {
    m.set(spec.name, { name: spec.name, shape: spec.shape, data: generate(spec, seed, c) });
  }
  return m;
}

export function getWeight(w: Weights, name: string): WeightTensor {
  const t = w.get(name);
  if (!t) throw new Error(`internal: no weight named ${name}`);
  return t;
}

/** [rows, cols] -> [cols, rows]: PyTorch Linear [out, in] to the [in, out] that MatMul(x, W) wants. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  // Blocked so the 262208 x 64 LM-head transpose stays cache friendly.
  const block = 64;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    for (let c0 = 0; c0 < cols; c0 += block) {
      const c1 = Math.min(cols, c0 + block);
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let col = c0; col < c1; col++) out[col * rows + r] = data[base + col];
      }
    }
  }
  return out;
}

/** 1 + w, the effective gain of a Gemma RMSNorm, folded once at build time (fp32, as HF computes it). */
export function onePlus(data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = 1 + data[i];
  return out;
}
