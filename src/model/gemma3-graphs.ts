// The three Gemma 3 ONNX graphs in the onnx-community / transformers.js layout (panscan-spec.md §5.2):
// vision_encoder (SigLIP tower + Gemma3MultiModalProjector), embed_tokens (scaled embedding) and
// decoder_model_merged (Gemma 3 text decoder with KV cache and a tied LM head). Each function mirrors the
// transformers module it is named after (modeling_siglip.py, modeling_gemma3.py); the weights come from
// weights.ts under transformers' parameter names.
//
// Deliberate difference from HF's PyTorch model, kept because the real exports have it too: the decoder
// receives only embeddings and a 2-D padding mask, so image tokens attend causally, whereas HF's
// Gemma3Model makes each contiguous run of image tokens (one 256-token entry) bidirectional via
// token_type_ids. Text-only inputs are identical in both.
import { floatAttr, GraphBuilder, type Value } from './graph-builder.js';
import { isGlobalLayer, patchesPerSide, type TinyGemma3Config } from './tiny-config.js';
import { getWeight, LM_HEAD, onePlus, PROJECTOR_PREFIX, TEXT_PREFIX, transpose2d, VISION_PREFIX, type Weights } from './weights.js';

/** HF's additive mask value: torch.finfo(float32).min. A fully masked row then softmaxes to uniform, not NaN. */
const MASK_MIN_FLOAT32 = -3.4028234663852886e38;

/** Registers weights as initializers once, in the form each op wants. */
class Params {
  private readonly cache = new Map<string, Value>();
  constructor(
    private readonly g: GraphBuilder,
    private readonly w: Weights,
  ) {}

  private once(key: string, make: () => Value): Value {
    let v = this.cache.get(key);
    if (!v) {
      v = make();
      this.cache.set(key, v);
    }
    return v;
  }

  /** As stored (PyTorch layout). */
  raw(name: string): Value {
    return this.once(name, () => {
      const t = getWeight(this.w, name);
      return this.g.initializer(name, 'float32', t.shape, t.data);
    });
  }

  /** A Linear weight [out, in] transposed to [in, out] for MatMul(x, W). */
  linearT(name: string): Value {
    return this.once(`${name}.T`, () => {
      const t = getWeight(this.w, name);
      const [out, inp] = t.shape;
      return this.g.initializer(`${name}.T`, 'float32', [inp, out], transpose2d(t.data, out, inp));
    });
  }

  /** A Gemma RMSNorm weight w as its gain 1 + w. */
  rmsGain(name: string): Value {
    return this.once(`${name}.plus1`, () => {
      const t = getWeight(this.w, name);
      return this.g.initializer(`${name}.plus1`, 'float32', t.shape, onePlus(t.data));
    });
  }
}

// ---- shared building blocks ---------------------------------------------------------------------------

/** nn.Linear: x @ W^T (+ b). */
function linear(g: GraphBuilder, p: Params, x: Value, prefix: string, bias: boolean): Value {
  const y = g.matMul(x, p.linearT(`${prefix}.weight`));
  return bias ? g.add(y, p.raw(`${prefix}.bias`)) : y;
}

/** nn.LayerNorm over the last axis. */
function layerNorm(g: GraphBuilder, p: Params, x: Value, prefix: string, eps: number): Value {
  return g.op('LayerNormalization', [x, p.raw(`${prefix}.weight`), p.raw(`${prefix}.bias`)], {
    axis: -1,
    epsilon: floatAttr(eps),
  });
}

/** Gemma3RMSNorm: x * rsqrt(mean(x^2) + eps) * (1 + w), over the last axis, in fp32. */
function gemmaRmsNorm(g: GraphBuilder, p: Params, x: Value, weightName: string, eps: number): Value {
  const meanSq = g.reduceMean(g.pow(x, 2), [-1]);
  const normed = g.div(x, g.sqrt(g.add(meanSq, g.scalarF(eps))));
  return g.mul(normed, p.rmsGain(weightName));
}

// ---- vision_encoder -----------------------------------------------------------------------------------

/** SiglipAttention: bidirectional MHA with biased q/k/v/out projections, scale head_dim^-0.5. */
function siglipAttention(g: GraphBuilder, p: Params, c: TinyGemma3Config, x: Value, prefix: string): Value {
  const { hiddenSize, numHeads } = c.vision;
  const headDim = hiddenSize / numHeads;
  // [n, P, D] -> [n, heads, P, hd]
  const heads = (v: Value) => g.transpose(g.reshape(v, [0, 0, numHeads, headDim]), [0, 2, 1, 3]);
  const q = heads(linear(g, p, x, `${prefix}.q_proj`, true));
  const k = g.transpose(g.reshape(linear(g, p, x, `${prefix}.k_proj`, true), [0, 0, numHeads, headDim]), [0, 2, 3, 1]);
  const v = heads(linear(g, p, x, `${prefix}.v_proj`, true));
  // Scaling q before the product is the same as scaling the scores, and 4096x cheaper at 4096 patches.
  const scores = g.matMul(g.mul(q, g.scalarF(headDim ** -0.5)), k);
  const ctx = g.matMul(g.softmax(scores, -1), v);
  const merged = g.reshape(g.transpose(ctx, [0, 2, 1, 3]), [0, 0, hiddenSize]);
  return linear(g, p, merged, `${prefix}.out_proj`, true);
}

function siglipEncoderLayer(g: GraphBuilder, p: Params, c: TinyGemma3Config, x: Value, i: number): Value {
  const l = `${VISION_PREFIX}encoder.layers.${i}`;
  const eps = c.vision.layerNormEps;
  return g.scope(`vision/layers.${i}`, () => {
    let h = g.add(x, siglipAttention(g, p, c, layerNorm(g, p, x, `${l}.layer_norm1`, eps), `${l}.self_attn`));
    const mlpIn = layerNorm(g, p, h, `${l}.layer_norm2`, eps);
    const mlp = linear(g, p, g.geluTanh(linear(g, p, mlpIn, `${l}.mlp.fc1`, true)), `${l}.mlp.fc2`, true);
    h = g.add(h, mlp);
    return h;
  });
}

/** Gemma3MultiModalProjector: 4x4 average pool of the 64x64 patch grid, RMSNorm, projection to text width. */
function multiModalProjector(g: GraphBuilder, p: Params, c: TinyGemma3Config, x: Value): Value {
  const side = patchesPerSide(c);
  const tokensPerSide = Math.round(Math.sqrt(c.mmTokensPerImage));
  const kernel = side / tokensPerSide;
  const d = c.vision.hiddenSize;
  return g.scope('projector', () => {
    const grid = g.reshape(g.transpose(x, [0, 2, 1]), [0, d, side, side]);
    const pooled = g.op('AveragePool', [grid], { kernel_shape: [kernel, kernel], strides: [kernel, kernel] });
    const tokens = g.transpose(g.reshape(pooled, [0, d, c.mmTokensPerImage]), [0, 2, 1]);
    const normed = gemmaRmsNorm(g, p, tokens, `${PROJECTOR_PREFIX}mm_soft_emb_norm.weight`, c.vision.layerNormEps);
    return g.matMul(normed, p.raw(`${PROJECTOR_PREFIX}mm_input_projection_weight`));
  });
}

export function buildVisionEncoder(c: TinyGemma3Config, w: Weights): GraphBuilder {
  const g = new GraphBuilder('vision_encoder');
  const p = new Params(g, w);
  const v = c.vision;
  const side = patchesPerSide(c);
  const pixels = g.input('pixel_values', 'float32', ['num_images', 3, v.imageSizePx, v.imageSizePx]);
  let x = g.scope('vision/embeddings', () => {
    const patches = g.op('Conv', [pixels, p.raw(`${VISION_PREFIX}embeddings.patch_embedding.weight`), p.raw(`${VISION_PREFIX}embeddings.patch_embedding.bias`)], {
      kernel_shape: [v.patchSizePx, v.patchSizePx],
      strides: [v.patchSizePx, v.patchSizePx],
    });
    // [n, D, 64, 64] -> [n, 4096, D], patches in row-major order, as flatten(2).transpose(1, 2).
    const seq = g.transpose(g.reshape(patches, [0, v.hiddenSize, side * side]), [0, 2, 1]);
    return g.add(seq, p.raw(`${VISION_PREFIX}embeddings.position_embedding.weight`));
  });
  for (let i = 0; i < v.numLayers; i++) x = siglipEncoderLayer(g, p, c, x, i);
  x = g.scope('vision', () => layerNorm(g, p, x, `${VISION_PREFIX}post_layernorm`, v.layerNormEps));
  const features = multiModalProjector(g, p, c, x);
  g.output(features, 'image_features', 'float32', ['num_images', c.mmTokensPerImage, c.text.hiddenSize]);
  return g;
}

// ---- embed_tokens -------------------------------------------------------------------------------------

/** Gemma3TextScaledWordEmbedding: embedding row * sqrt(hidden_size) (cast to fp32, as the weights). */
export function buildEmbedTokens(c: TinyGemma3Config, w: Weights): GraphBuilder {
  const g = new GraphBuilder('embed_tokens');
  const p = new Params(g, w);
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const rows = g.gather(p.raw(`${TEXT_PREFIX}embed_tokens.weight`), ids, 0);
  const scaled = g.mul(rows, g.scalarF(Math.fround(Math.sqrt(c.text.hiddenSize))));
  g.output(scaled, 'inputs_embeds', 'float32', ['batch', 'sequence', c.text.hiddenSize]);
  return g;
}

// ---- decoder_model_merged -----------------------------------------------------------------------------

/** inv_freq of Gemma3RotaryEmbedding: 1 / base^(2i/dim), divided by the linear factor (fp32, as HF). */
export function ropeInvFreq(headDim: number, base: number, linearFactor = 1): Float32Array {
  const out = new Float32Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) {
    // HF: base ** (arange(0, dim, 2).float() / dim) in fp32, then 1.0 / that, then / factor.
    const exponent = Math.fround((2 * i) / headDim);
    const denom = Math.fround(Math.pow(base, exponent));
    out[i] = Math.fround(Math.fround(1 / denom) / linearFactor);
  }
  return out;
}

interface Rope {
  readonly cos: Value;
  readonly sin: Value;
}

/** cos/sin [b, 1, s, hd] of cat(freqs, freqs), freqs = position * inv_freq. */
function ropeTables(g: GraphBuilder, positionIds: Value, invFreq: Float32Array, name: string): Rope {
  return g.scope(`rope_${name}`, () => {
    const inv = g.initializer(`rope.${name}.inv_freq`, 'float32', [invFreq.length], invFreq);
    const pos = g.unsqueeze(g.cast(positionIds, 'float32'), [2]);
    const freqs = g.mul(pos, inv);
    const emb = g.concat([freqs, freqs], -1);
    return { cos: g.unsqueeze(g.cos(emb), [1]), sin: g.unsqueeze(g.sin(emb), [1]) };
  });
}

/** apply_rotary_pos_emb on one tensor [b, heads, s, hd]: x * cos + rotate_half(x) * sin. */
function applyRope(g: GraphBuilder, x: Value, r: Rope): Value {
  const [x1, x2] = g.split2(x, -1);
  const rotated = g.concat([g.neg(x2), x1], -1);
  return g.add(g.mul(x, r.cos), g.mul(rotated, r.sin));
}

interface LayerIo {
  readonly pastKey: Value;
  readonly pastValue: Value;
}

/** Gemma3Attention with grouped-query attention; returns the output and the present key/value. */
function gemma3Attention(
  g: GraphBuilder,
  p: Params,
  c: TinyGemma3Config,
  x: Value,
  layer: number,
  rope: Rope,
  bias: Value,
  io: LayerIo,
): { out: Value; presentKey: Value; presentValue: Value } {
  const t = c.text;
  const prefix = `${TEXT_PREFIX}layers.${layer}.self_attn`;
  const eps = t.rmsNormEps;
  const groups = t.numHeads / t.numKvHeads;
  // [b, s, heads*hd] -> [b, s, heads, hd]; q_norm/k_norm act per head over hd, before RoPE.
  const split = (v: Value, heads: number) => g.reshape(v, [0, 0, heads, t.headDim]);
  const toHeads = (v: Value) => g.transpose(v, [0, 2, 1, 3]);
  let q = toHeads(gemmaRmsNorm(g, p, split(linear(g, p, x, `${prefix}.q_proj`, false), t.numHeads), `${prefix}.q_norm.weight`, eps));
  let k = toHeads(gemmaRmsNorm(g, p, split(linear(g, p, x, `${prefix}.k_proj`, false), t.numKvHeads), `${prefix}.k_norm.weight`, eps));
  const v = toHeads(split(linear(g, p, x, `${prefix}.v_proj`, false), t.numKvHeads));
  q = applyRope(g, q, rope);
  k = applyRope(g, k, rope);
  const presentKey = g.concat([io.pastKey, k], 2);
  const presentValue = g.concat([io.pastValue, v], 2);
  // GQA without materialising repeat_kv: query head h = kv * groups + r shares kv head h // groups, so
  // [b, heads, s, hd] -> [b, kv, groups, s, hd] against keys [b, kv, 1, hd, total] broadcasts exactly so.
  const qg = g.reshape(g.mul(q, g.scalarF(t.queryPreAttnScalar ** -0.5)), [0, t.numKvHeads, groups, -1, t.headDim]);
  const kT = g.unsqueeze(g.transpose(presentKey, [0, 1, 3, 2]), [2]);
  const scores = g.add(g.matMul(qg, kT), bias);
  const ctx = g.matMul(g.softmax(scores, -1), g.unsqueeze(presentValue, [2]));
  const merged = g.reshape(g.transpose(g.reshape(ctx, [0, t.numHeads, -1, t.headDim]), [0, 2, 1, 3]), [0, 0, t.numHeads * t.headDim]);
  return { out: linear(g, p, merged, `${prefix}.o_proj`, false), presentKey, presentValue };
}

/** Gemma3MLP: down(gelu_tanh(gate(x)) * up(x)). */
function gemma3Mlp(g: GraphBuilder, p: Params, x: Value, layer: number): Value {
  const prefix = `${TEXT_PREFIX}layers.${layer}.mlp`;
  const gate = g.geluTanh(linear(g, p, x, `${prefix}.gate_proj`, false));
  const up = linear(g, p, x, `${prefix}.up_proj`, false);
  return linear(g, p, g.mul(gate, up), `${prefix}.down_proj`, false);
}

/**
 * Additive masks [b, 1, 1, s, total] (0 or float32 min) for global and local layers, built from cache
 * indices like HF's masking_utils: key j is visible to query i (cache index past + i) iff j <= past + i,
 * attention_mask[b, j] != 0, and on local layers also j > past + i - sliding_window.
 */
function attentionBiases(g: GraphBuilder, c: TinyGemma3Config, attentionMask: Value, seqLike: Value, pastKey: Value): { global: Value; local: Value } {
  return g.scope('mask', () => {
    const past = g.op('Squeeze', [g.shape(pastKey, 2, 3), g.ints([0])]);
    const seq = g.op('Squeeze', [g.shape(seqLike, 1, 2), g.ints([0])]);
    const total = g.op('Squeeze', [g.shape(attentionMask, 1, 2), g.ints([0])]);
    const one = g.scalarI(1);
    const queryIdx = g.unsqueeze(g.range(past, g.add(past, seq), one), [1]); // [s, 1]
    const keyIdx = g.unsqueeze(g.range(g.scalarI(0), total, one), [0]); // [1, total]
    const causal = g.lessOrEqual(keyIdx, queryIdx);
    const inWindow = g.greater(keyIdx, g.sub(queryIdx, g.scalarI(c.text.slidingWindow)));
    const notPadding = g.cast(g.unsqueeze(attentionMask, [1, 2, 3]), 'bool'); // [b, 1, 1, 1, total]
    const zero = g.scalarF(0);
    const masked = g.scalarF(MASK_MIN_FLOAT32);
    const global = g.where(g.and(causal, notPadding), zero, masked);
    const local = g.where(g.and(g.and(causal, inWindow), notPadding), zero, masked);
    return { global, local };
  });
}

export function buildDecoder(c: TinyGemma3Config, w: Weights): GraphBuilder {
  const g = new GraphBuilder('decoder_model_merged');
  const p = new Params(g, w);
  const t = c.text;
  const kvDims = ['batch', t.numKvHeads, 'past_sequence', t.headDim];
  const embeds = g.input('inputs_embeds', 'float32', ['batch', 'sequence', t.hiddenSize]);
  const attentionMask = g.input('attention_mask', 'int64', ['batch', 'total_sequence']);
  const positionIds = g.input('position_ids', 'int64', ['batch', 'sequence']);
  const past: LayerIo[] = [];
  for (let i = 0; i < t.numLayers; i++) {
    past.push({
      pastKey: g.input(`past_key_values.${i}.key`, 'float32', kvDims),
      pastValue: g.input(`past_key_values.${i}.value`, 'float32', kvDims),
    });
  }
  // Required, as in the onnx-community exports (transformers.js feeds it when the graph lists it).
  // 0 keeps every position, k keeps the last k, exactly like HF's logits_to_keep.
  const numLogitsToKeep = g.input('num_logits_to_keep', 'int64', []);

  const biases = attentionBiases(g, c, attentionMask, embeds, past[0].pastKey);
  const ropeLocal = ropeTables(g, positionIds, ropeInvFreq(t.headDim, t.ropeLocalBaseFreq), 'local');
  const ropeGlobal = ropeTables(g, positionIds, ropeInvFreq(t.headDim, t.ropeGlobalBaseFreq, t.ropeGlobalLinearFactor), 'global');

  let h = embeds;
  const presents: Array<{ key: Value; value: Value }> = [];
  for (let i = 0; i < t.numLayers; i++) {
    const isGlobal = isGlobalLayer(t, i);
    const l = `${TEXT_PREFIX}layers.${i}`;
    h = g.scope(`layers.${i}`, () => {
      const attn = gemma3Attention(g, p, c, gemmaRmsNorm(g, p, h, `${l}.input_layernorm.weight`, t.rmsNormEps), i, isGlobal ? ropeGlobal : ropeLocal, isGlobal ? biases.global : biases.local, past[i]);
      presents.push({ key: attn.presentKey, value: attn.presentValue });
      const afterAttn = g.add(h, gemmaRmsNorm(g, p, attn.out, `${l}.post_attention_layernorm.weight`, t.rmsNormEps));
      const mlp = gemma3Mlp(g, p, gemmaRmsNorm(g, p, afterAttn, `${l}.pre_feedforward_layernorm.weight`, t.rmsNormEps), i);
      return g.add(afterAttn, gemmaRmsNorm(g, p, mlp, `${l}.post_feedforward_layernorm.weight`, t.rmsNormEps));
    });
  }

  const logits = g.scope('lm_head', () => {
    // Slice before the final norm: both are per position, and a 1000-token prefill then pays one LM-head row.
    const start = g.neg(g.reshape(numLogitsToKeep, [1]));
    const kept = g.slice(h, start, g.ints([Number.MAX_SAFE_INTEGER]), g.ints([1]));
    const normed = gemmaRmsNorm(g, p, kept, `${TEXT_PREFIX}norm.weight`, t.rmsNormEps);
    // Tied: lm_head.weight is embed_tokens.weight, stored here transposed to [hidden, vocab] for MatMul.
    const emb = getWeight(w, `${TEXT_PREFIX}embed_tokens.weight`);
    const head = g.initializer(`${LM_HEAD}.T`, 'float32', [t.hiddenSize, t.vocabSize], transpose2d(emb.data, t.vocabSize, t.hiddenSize));
    return g.matMul(normed, head);
  });
  // Outputs in the exports' order: logits, then present.{i}.key/value.
  g.output(logits, 'logits', 'float32', ['batch', 'logits_sequence', t.vocabSize]);
  const presentDims = ['batch', t.numKvHeads, 'total_sequence', t.headDim];
  presents.forEach((pr, i) => {
    g.output(pr.key, `present.${i}.key`, 'float32', presentDims);
    g.output(pr.value, `present.${i}.value`, 'float32', presentDims);
  });
  return g;
}
