// The tiny Gemma-3-architecture configuration that `gemma-bench make-model` builds, and its HF
// `config.json` rendering. Owns every architectural number of the embedded default model; the graph
// builders, the weight generator and the numpy reference all read them from here (or from config.json).
//
// Sizes are tiny, but every cost-bearing shape of the real model is kept: 896x896 inputs, 4096 patches
// per entry, 256 soft tokens per entry, the real 262,208-entry vocabulary (so the LM head and the
// embedding table dominate decode the way they do on a real model), GQA, 5 local + 1 global layers.

/** SigLIP vision tower (panscan-spec.md §4.1), shrunk in width and depth only. */
export interface TinyVisionConfig {
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  /** Fixed by Gemma 3: each entry (original or crop) is resized to this square. */
  readonly imageSizePx: number;
  readonly patchSizePx: number;
  readonly layerNormEps: number;
}

/** Gemma 3 text decoder (panscan-spec.md §4.4), shrunk in width and depth only. */
export interface TinyTextConfig {
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  /** Attention scores are multiplied by queryPreAttnScalar^-0.5. */
  readonly queryPreAttnScalar: number;
  /** Local layers: a query at cache index p sees keys at indices > p - slidingWindow. */
  readonly slidingWindow: number;
  /** Layer i is global (full attention) iff (i + 1) % slidingWindowPattern == 0. */
  readonly slidingWindowPattern: number;
  readonly ropeGlobalBaseFreq: number;
  /** Linear RoPE scaling on global layers (inv_freq / factor). */
  readonly ropeGlobalLinearFactor: number;
  readonly ropeLocalBaseFreq: number;
  readonly rmsNormEps: number;
  readonly vocabSize: number;
  readonly maxPositionEmbeddings: number;
}

export interface TinyGemma3Config {
  readonly name: string;
  readonly vision: TinyVisionConfig;
  readonly text: TinyTextConfig;
  readonly mmTokensPerImage: number;
  readonly boiTokenId: number;
  readonly eoiTokenId: number;
  readonly imageTokenId: number;
  readonly padTokenId: number;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
}

/** Bumped whenever the graphs or the weight generator change what a given seed produces. */
export const BUILDER_VERSION = 1;

export const TINY_CONFIG: TinyGemma3Config = Object.freeze({
  name: 'gemma3-tiny',
  vision: Object.freeze({
    hiddenSize: 32,
    intermediateSize: 64,
    numLayers: 1,
    numHeads: 2,
    imageSizePx: 896,
    patchSizePx: 14,
    layerNormEps: 1e-6,
  }),
  text: Object.freeze({
    hiddenSize: 64,
    intermediateSize: 128,
    numLayers: 6,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 16,
    queryPreAttnScalar: 16,
    slidingWindow: 512,
    slidingWindowPattern: 6,
    ropeGlobalBaseFreq: 1_000_000,
    ropeGlobalLinearFactor: 8,
    ropeLocalBaseFreq: 10_000,
    rmsNormEps: 1e-6,
    vocabSize: 262_208,
    maxPositionEmbeddings: 131_072,
  }),
  mmTokensPerImage: 256,
  boiTokenId: 255_999,
  eoiTokenId: 256_000,
  imageTokenId: 262_144,
  padTokenId: 0,
  bosTokenId: 2,
  eosTokenId: 1,
});

/** A partial override, merged field by field (tests use a small sliding window, for instance). */
export interface TinyConfigOverride {
  readonly name?: string;
  readonly vision?: Partial<TinyVisionConfig>;
  readonly text?: Partial<TinyTextConfig>;
}

export function resolveConfig(override?: TinyConfigOverride): TinyGemma3Config {
  const c: TinyGemma3Config = {
    ...TINY_CONFIG,
    name: override?.name ?? TINY_CONFIG.name,
    vision: { ...TINY_CONFIG.vision, ...override?.vision },
    text: { ...TINY_CONFIG.text, ...override?.text },
  };
  const problems = validateConfig(c);
  if (problems.length > 0) throw new Error(`invalid tiny Gemma 3 config: ${problems.join('; ')}`);
  return c;
}

export function validateConfig(c: TinyGemma3Config): string[] {
  const p: string[] = [];
  const posInt = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 1) p.push(`${what} must be a positive integer (got ${v})`);
  };
  const v = c.vision;
  const t = c.text;
  for (const [k, val] of Object.entries(v)) if (k !== 'layerNormEps') posInt(val as number, `vision.${k}`);
  for (const [k, val] of Object.entries(t)) {
    if (!['rmsNormEps', 'ropeGlobalBaseFreq', 'ropeLocalBaseFreq', 'ropeGlobalLinearFactor'].includes(k)) {
      posInt(val as number, `text.${k}`);
    }
  }
  if (v.hiddenSize % v.numHeads !== 0) p.push('vision.hiddenSize must be divisible by vision.numHeads');
  if (v.imageSizePx % v.patchSizePx !== 0) p.push('vision.imageSizePx must be a multiple of vision.patchSizePx');
  const side = patchesPerSide(c);
  const tokSide = Math.round(Math.sqrt(c.mmTokensPerImage));
  if (tokSide * tokSide !== c.mmTokensPerImage || side % tokSide !== 0) {
    p.push('patches per side must be a multiple of sqrt(mmTokensPerImage)');
  }
  if (t.numHeads % t.numKvHeads !== 0) p.push('text.numHeads must be divisible by text.numKvHeads');
  if (t.headDim % 2 !== 0) p.push('text.headDim must be even (RoPE rotates halves)');
  if (t.vocabSize <= c.imageTokenId) p.push(`text.vocabSize must exceed the image token id ${c.imageTokenId}`);
  return p;
}

export function patchesPerSide(c: TinyGemma3Config): number {
  return c.vision.imageSizePx / c.vision.patchSizePx;
}

export function isGlobalLayer(t: TinyTextConfig, layer: number): boolean {
  return (layer + 1) % t.slidingWindowPattern === 0;
}

export function layerTypes(t: TinyTextConfig): Array<'sliding_attention' | 'full_attention'> {
  return Array.from({ length: t.numLayers }, (_, i) => (isGlobalLayer(t, i) ? 'full_attention' : 'sliding_attention'));
}

/** What config.json's `gemma_bench` block says about how the weights were made. */
export interface GemmaBenchBlock {
  readonly name: string;
  readonly randomWeights: true;
  readonly seed: number;
  readonly label: string;
  readonly builderVersion: number;
  readonly init: Record<string, string>;
}

/**
 * HF-style Gemma3Config. Both the v4.5x rope fields (rope_theta, rope_local_base_freq, rope_scaling) and
 * the v5 `rope_parameters` per layer type are written, with the same values, so either generation of
 * transformers reads the same RoPE; likewise both `layer_types` and the legacy `sliding_window_pattern`.
 */
export function toHfConfig(c: TinyGemma3Config, block: GemmaBenchBlock): Record<string, unknown> {
  const t = c.text;
  const v = c.vision;
  return {
    architectures: ['Gemma3ForConditionalGeneration'],
    model_type: 'gemma3',
    boi_token_index: c.boiTokenId,
    eoi_token_index: c.eoiTokenId,
    image_token_index: c.imageTokenId,
    mm_tokens_per_image: c.mmTokensPerImage,
    initializer_range: 0.02,
    tie_word_embeddings: true,
    torch_dtype: 'float32',
    text_config: {
      model_type: 'gemma3_text',
      vocab_size: t.vocabSize,
      hidden_size: t.hiddenSize,
      intermediate_size: t.intermediateSize,
      num_hidden_layers: t.numLayers,
      num_attention_heads: t.numHeads,
      num_key_value_heads: t.numKvHeads,
      head_dim: t.headDim,
      query_pre_attn_scalar: t.queryPreAttnScalar,
      sliding_window: t.slidingWindow,
      sliding_window_pattern: t.slidingWindowPattern,
      layer_types: layerTypes(t),
      rope_theta: t.ropeGlobalBaseFreq,
      rope_local_base_freq: t.ropeLocalBaseFreq,
      rope_scaling: { rope_type: 'linear', factor: t.ropeGlobalLinearFactor },
      rope_parameters: {
        full_attention: { rope_type: 'linear', factor: t.ropeGlobalLinearFactor, rope_theta: t.ropeGlobalBaseFreq },
        sliding_attention: { rope_type: 'default', rope_theta: t.ropeLocalBaseFreq },
      },
      rms_norm_eps: t.rmsNormEps,
      max_position_embeddings: t.maxPositionEmbeddings,
      hidden_activation: 'gelu_pytorch_tanh',
      final_logit_softcapping: null,
      attn_logit_softcapping: null,
      attention_bias: false,
      attention_dropout: 0.0,
      use_bidirectional_attention: false,
      initializer_range: 0.02,
      pad_token_id: c.padTokenId,
      bos_token_id: c.bosTokenId,
      eos_token_id: c.eosTokenId,
      tie_word_embeddings: true,
      use_cache: true,
      torch_dtype: 'float32',
    },
    vision_config: {
      model_type: 'siglip_vision_model',
      hidden_size: v.hiddenSize,
      intermediate_size: v.intermediateSize,
      num_hidden_layers: v.numLayers,
      num_attention_heads: v.numHeads,
      num_channels: 3,
      image_size: v.imageSizePx,
      patch_size: v.patchSizePx,
      hidden_act: 'gelu_pytorch_tanh',
      layer_norm_eps: v.layerNormEps,
      attention_dropout: 0.0,
      vision_use_head: false,
      torch_dtype: 'float32',
    },
    gemma_bench: block,
  };
}
