// "% of the physical limit" per run (issue 11): how close the measured TTFT and TPOT medians came to what the
// hardware allows at best. Pure: no I/O.
//
// - The device's peaks come from a table keyed by the nvidia-smi name (dense BF16 tensor-core TFLOP/s and memory
//   bandwidth from the vendor datasheets cited beside each entry; sparsity figures are halved to dense).
// - The model's cost comes from its config, as in panscan-spec.md §4.5 (multiply-adds x 2; softmax, norms and
//   elementwise work ignored):
//     prefill FLOPs = 2 x non-embedding text parameters x prompt tokens            (every linear layer, every token)
//                   + 4 x heads x head_dim x attended keys, summed over queries and layers (causal; local layers see
//                     at most sliding_window keys)
//                   + 2 x hidden x vocab x logits tokens                          (lm_head: 1, the last prompt token,
//                     as transformers' generate (logits_to_keep=1) and vLLM compute)
//                   + (5.46 TFLOP vision tower + 2 x 256 x 1152 x hidden projector) per 896x896 image entry;
//     bytes per decode step = the weights read once (non-embedding text weights + the tied embedding, which lm_head
//                   reads in full) + each sequence's KV cache at its length.
// - TTFT floor = the prefill FLOPs of the request's micro-batch (batch size x its own) / (peak x GPUs per replica);
//   TPOT floor = the bytes of one decode step of its micro-batch / (bandwidth x GPUs per replica), at the mean context
//   of its decode (prompt + half the output). Both are floors the hardware cannot beat, not predictions.
// - % of floor = floor / measured x 100, for the medians: 100% would be the hardware's limit.
// Where the peak is unknown (a CPU run, a GPU not in the table, mixed GPUs) or the model is not a known Gemma 3
// architecture, the result says so and gives no number.

/** A Gemma 3 text model's shape (panscan-spec.md §4.4); the vision side (SigLIP, 896 px) is the same for all sizes. */
export interface Gemma3TextArch {
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly intermediateSize: number;
  readonly vocabSize: number;
  readonly slidingWindow: number;
  /** Layers with full (global) attention; the others attend to at most slidingWindow keys. */
  readonly globalLayers: number;
}

/** What a backend knows of its model's cost: the architecture and the bytes per weight (2 for bf16/fp16). */
export interface ModelCostInfo {
  /** e.g. "gemma-3-27b". */
  readonly name: string;
  readonly arch: Gemma3TextArch;
  readonly bytesPerParam: number;
  /** The GPU model the user named for hardware gemma-bench cannot see (the openai backend's --gpu-name). */
  readonly declaredGpu?: string | null;
  /** A replica's GPUs hold different layers and run one after another (transformers with device_map="auto"). */
  readonly pipelineSharded?: boolean;
}

/** Full attention on layer i (0-based) iff (i + 1) % 6 == 0 (Gemma 3's sliding_window_pattern). */
export function gemma3GlobalLayers(numLayers: number): number {
  return Math.floor(numLayers / 6);
}

const VOCAB = 262_208;
const SLIDING = 1024;

/** The published text configs (panscan-spec.md §4.4). */
export const GEMMA3_TEXT: Readonly<Record<'4b' | '12b' | '27b', Gemma3TextArch>> = {
  '4b': { hiddenSize: 2560, numLayers: 34, numHeads: 8, numKvHeads: 4, headDim: 256, intermediateSize: 10240, vocabSize: VOCAB, slidingWindow: SLIDING, globalLayers: 5 },
  '12b': { hiddenSize: 3840, numLayers: 48, numHeads: 16, numKvHeads: 8, headDim: 256, intermediateSize: 15360, vocabSize: VOCAB, slidingWindow: SLIDING, globalLayers: 8 },
  '27b': { hiddenSize: 5376, numLayers: 62, numHeads: 32, numKvHeads: 16, headDim: 128, intermediateSize: 21504, vocabSize: VOCAB, slidingWindow: SLIDING, globalLayers: 10 },
};

/** "google/gemma-3-27b-it", "gemma-3-4b-pt", "Gemma3-12B" -> the published architecture, else null. */
export function gemma3SizeFromName(name: string): '4b' | '12b' | '27b' | null {
  const m = /gemma[-_ ]?3[-_ ]?(4|12|27)b/i.exec(name);
  return m ? (`${m[1]}b` as '4b' | '12b' | '27b') : null;
}

/**
 * The text architecture from a Gemma 3 config.json (Gemma3ForConditionalGeneration's, with text_config; or a text
 * model's own). Fields the Hub configs leave out take Gemma3TextConfig's defaults, as transformers does (the 4B
 * config lists only hidden, intermediate, layers and sliding_window). Null when it is not a Gemma 3 config.
 */
export function gemma3ArchFromConfig(config: unknown): Gemma3TextArch | null {
  if (!config || typeof config !== 'object') return null;
  const c = config as Record<string, unknown>;
  const t = (c.text_config && typeof c.text_config === 'object' ? c.text_config : c) as Record<string, unknown>;
  const types = [c.model_type, t.model_type].map((x) => String(x ?? ''));
  const archs = Array.isArray(c.architectures) ? c.architectures.map(String) : [];
  if (!types.some((x) => /^gemma3/.test(x)) && !archs.some((x) => /^Gemma3/.test(x))) return null;
  const n = (k: string, dflt: number): number => (typeof t[k] === 'number' && Number.isFinite(t[k]) ? (t[k] as number) : dflt);
  const hiddenSize = n('hidden_size', 2304);
  const numLayers = n('num_hidden_layers', 26);
  const layerTypes = Array.isArray(t.layer_types) ? (t.layer_types as unknown[]) : null;
  const pattern = n('sliding_window_pattern', 6);
  const globalLayers = layerTypes ? layerTypes.filter((x) => x === 'full_attention').length : Math.floor(numLayers / pattern);
  return {
    hiddenSize,
    numLayers,
    numHeads: n('num_attention_heads', 8),
    numKvHeads: n('num_key_value_heads', 4),
    headDim: n('head_dim', 256),
    intermediateSize: n('intermediate_size', 9216),
    vocabSize: n('vocab_size', VOCAB),
    slidingWindow: n('sliding_window', 4096),
    globalLayers,
  };
}

// ----------------------------------------------------------------------------------------------------- cost

/** SigLIP (identical for 4B, 12B, 27B): 27 layers, width 1152, MLP 4304, 64 x 64 = 4096 patches of 14 px. */
const VISION = { layers: 27, hidden: 1152, mlp: 4304, patches: 4096, patchPixels: 3 * 14 * 14, tokensPerEntry: 256 };

/** Vision tower FLOPs per 896x896 entry: linear layers, attention (QK^T and AV) and the patch embedding: 5.46 TFLOP. */
export function visionFlopsPerEntry(): number {
  const v = VISION;
  const linear = 2 * v.patches * (4 * v.hidden * v.hidden + 2 * v.hidden * v.mlp);
  const attention = 4 * v.patches * v.patches * v.hidden;
  const patchEmbed = 2 * v.patches * v.patchPixels * v.hidden;
  return v.layers * (linear + attention) + patchEmbed;
}

/** Projector FLOPs per entry: 256 pooled tokens x 1152 -> hidden. */
export function projectorFlopsPerEntry(a: Gemma3TextArch): number {
  return 2 * VISION.tokensPerEntry * VISION.hidden * a.hiddenSize;
}

/** Non-embedding text parameters: q, k, v, o and the GeGLU MLP of every layer (norms ignored). */
export function nonEmbeddingParams(a: Gemma3TextArch): number {
  const q = a.numHeads * a.headDim;
  const kv = a.numKvHeads * a.headDim;
  const perLayer = a.hiddenSize * q + 2 * a.hiddenSize * kv + q * a.hiddenSize + 3 * a.hiddenSize * a.intermediateSize;
  return perLayer * a.numLayers;
}

export function embeddingParams(a: Gemma3TextArch): number {
  return a.vocabSize * a.hiddenSize;
}

/** Sum over queries i = 1..n of the keys each attends to: i (global) or min(i, window) (local). */
function attendedKeys(n: number, window: number | null): number {
  if (window === null || n <= window) return (n * (n + 1)) / 2;
  return (window * (window + 1)) / 2 + (n - window) * window;
}

export interface PrefillFlops {
  readonly linear: number;
  readonly attention: number;
  readonly lmHead: number;
  readonly vision: number;
  readonly total: number;
}

/**
 * One request's prefill: `promptTokens` (image tokens included) and `entries` 896x896 image entries (1 + crops).
 * `logitsTokens`: prompt positions whose logits are computed (1 in generate and vLLM; the prompt length in a plain
 * forward pass).
 */
export function prefillFlops(a: Gemma3TextArch, promptTokens: number, entries: number, o: { readonly logitsTokens?: number } = {}): PrefillFlops {
  const linear = 2 * nonEmbeddingParams(a) * promptTokens;
  const perKey = 4 * a.numHeads * a.headDim;
  const local = a.numLayers - a.globalLayers;
  const attention = perKey * (a.globalLayers * attendedKeys(promptTokens, null) + local * attendedKeys(promptTokens, a.slidingWindow));
  const lmHead = 2 * a.hiddenSize * a.vocabSize * (o.logitsTokens ?? 1);
  const vision = entries * (visionFlopsPerEntry() + projectorFlopsPerEntry(a));
  return { linear, attention, lmHead, vision, total: linear + attention + lmHead + vision };
}

/** KV cache bytes of one sequence at `context` tokens: global layers keep every token, local ones the window. */
export function kvCacheBytes(a: Gemma3TextArch, context: number, bytesPerValue: number): number {
  const perTokenPerLayer = 2 * a.numKvHeads * a.headDim * bytesPerValue;
  return (a.globalLayers * context + (a.numLayers - a.globalLayers) * Math.min(context, a.slidingWindow)) * perTokenPerLayer;
}

/** The weights one decode step reads: the non-embedding text weights and the tied embedding (lm_head reads it all). */
export function decodeWeightBytes(a: Gemma3TextArch, bytesPerParam: number): number {
  return (nonEmbeddingParams(a) + embeddingParams(a)) * bytesPerParam;
}

/** Bytes one decode step of a micro-batch of `batch` sequences at `context` tokens reads. */
export function decodeStepBytes(a: Gemma3TextArch, context: number, batch: number, bytesPerParam: number): number {
  return decodeWeightBytes(a, bytesPerParam) + batch * kvCacheBytes(a, context, bytesPerParam);
}

// ------------------------------------------------------------------------------------------------ peak table

export interface GpuPeak {
  /** The table entry, e.g. "H100 SXM". */
  readonly entry: string;
  /** Dense BF16 tensor-core TFLOP/s (datasheets quote "with sparsity" figures twice as high). */
  readonly bf16Tflops: number;
  /** Memory bandwidth, TB/s. */
  readonly memTBs: number;
  /** Where the numbers come from. */
  readonly source: string;
}

const A100 = 'NVIDIA A100 Tensor Core GPU datasheet (nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf): BF16 Tensor Core 312 TFLOPS (624 with sparsity)';
const H100 = 'NVIDIA H100 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/h100/)';
const H200 = 'NVIDIA H200 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/h200/)';

/**
 * The peak table, in match order (the first whose test accepts the normalised nvidia-smi name wins). Names as
 * nvidia-smi prints them: "NVIDIA A100-SXM4-40GB", "NVIDIA A100-SXM-80GB" (DGX), "NVIDIA A100-PCIE-40GB",
 * "NVIDIA A100 80GB PCIe", "NVIDIA H100 80GB HBM3" (SXM5), "NVIDIA H100 PCIe", "NVIDIA H100 NVL", "NVIDIA H200",
 * "NVIDIA H200 NVL", "NVIDIA L40S", "NVIDIA L4", "NVIDIA A10G", "NVIDIA B200".
 */
export const GPU_PEAKS: readonly (GpuPeak & { readonly test: (n: string) => boolean })[] = [
  // A100 SXM4 80 GB: 2,039 GB/s; 40 GB: 1,555 GB/s. PCIe 80 GB: 1,935 GB/s; 40 GB: 1,555 GB/s.
  { entry: 'A100 PCIe 80GB', bf16Tflops: 312, memTBs: 1.935, source: `${A100}; 80GB PCIe 1,935 GB/s`, test: (n) => /\ba100\b/.test(n) && /pcie/.test(n) && /\b80 ?gb\b/.test(n) },
  { entry: 'A100 PCIe 40GB', bf16Tflops: 312, memTBs: 1.555, source: `${A100}; 40GB PCIe 1,555 GB/s`, test: (n) => /\ba100\b/.test(n) && /pcie/.test(n) },
  { entry: 'A100 SXM 80GB', bf16Tflops: 312, memTBs: 2.039, source: `${A100}; 80GB SXM 2,039 GB/s`, test: (n) => /\ba100\b/.test(n) && /\b80 ?gb\b/.test(n) },
  { entry: 'A100 SXM 40GB', bf16Tflops: 312, memTBs: 1.555, source: `${A100}; 40GB SXM 1,555 GB/s`, test: (n) => /\ba100\b/.test(n) && /\b40 ?gb\b/.test(n) },
  // H100 SXM: BF16 1,979 TFLOPS with sparsity -> 989 dense, 3.35 TB/s. PCIe: 1,513 -> 756, 2 TB/s. NVL: 1,671 -> 835, 3.9 TB/s.
  { entry: 'H100 NVL', bf16Tflops: 835, memTBs: 3.9, source: `${H100}: H100 NVL BF16 1,671 TFLOPS with sparsity, 3.9 TB/s`, test: (n) => /\bh100\b/.test(n) && /\bnvl\b/.test(n) },
  { entry: 'H100 PCIe', bf16Tflops: 756, memTBs: 2.0, source: `${H100}: H100 PCIe BF16 1,513 TFLOPS with sparsity, 2 TB/s`, test: (n) => /\bh100\b/.test(n) && /pcie/.test(n) },
  { entry: 'H100 SXM', bf16Tflops: 989, memTBs: 3.35, source: `${H100}: H100 SXM BF16 1,979 TFLOPS with sparsity, 3.35 TB/s`, test: (n) => /\bh100\b/.test(n) && /(hbm3|sxm)/.test(n) },
  // H200 SXM: BF16 1,979 with sparsity -> 989, 4.8 TB/s; H200 NVL: 1,671 -> 835, 4.8 TB/s.
  { entry: 'H200 NVL', bf16Tflops: 835, memTBs: 4.8, source: `${H200}: H200 NVL BF16 1,671 TFLOPS with sparsity, 4.8 TB/s`, test: (n) => /\bh200\b/.test(n) && /\bnvl\b/.test(n) },
  { entry: 'H200', bf16Tflops: 989, memTBs: 4.8, source: `${H200}: H200 SXM BF16 1,979 TFLOPS with sparsity, 4.8 TB/s`, test: (n) => /\bh200\b/.test(n) },
  // L40S datasheet (nvidia.com/en-us/data-center/l40s/): BF16 362.05 TFLOPS (733 with sparsity), 864 GB/s.
  { entry: 'L40S', bf16Tflops: 362, memTBs: 0.864, source: 'NVIDIA L40S datasheet (nvidia.com/en-us/data-center/l40s/): BF16 Tensor Core 362 TFLOPS (733 with sparsity), 864 GB/s', test: (n) => /\bl40s\b/.test(n) },
  // L4 datasheet (nvidia.com/en-us/data-center/l4/): BF16 242 TFLOPS with sparsity -> 121 dense, 300 GB/s.
  { entry: 'L4', bf16Tflops: 121, memTBs: 0.3, source: 'NVIDIA L4 datasheet (nvidia.com/en-us/data-center/l4/): BF16 Tensor Core 242 TFLOPS with sparsity, 300 GB/s', test: (n) => /\bl4\b/.test(n) },
  // NVIDIA publishes no A10G datasheet (an AWS-only part of the A10 family): AWS-focused comparisons give 70 TFLOPS
  // dense BF16/FP16 tensor (the A10's datasheet: 125) and the A10's 600 GB/s (baseten.co/blog/nvidia-a10-vs-a10g-for-ml-model-inference/).
  { entry: 'A10G', bf16Tflops: 70, memTBs: 0.6, source: 'no NVIDIA datasheet for the A10G (AWS G5); 70 TFLOPS dense BF16 and 600 GB/s as published A10 vs A10G comparisons give them', test: (n) => /\ba10g\b/.test(n) },
  // HGX B200 (nvidia.com/en-us/data-center/hgx/): FP16/BF16 Tensor Core 4.5 PFLOPS with sparsity per GPU -> 2,250 dense; 7.7 TB/s.
  { entry: 'B200', bf16Tflops: 2250, memTBs: 7.7, source: 'NVIDIA HGX B200 specifications (nvidia.com/en-us/data-center/hgx/): BF16 Tensor Core 4.5 PFLOPS with sparsity per GPU, 7.7 TB/s', test: (n) => /\bb200\b/.test(n) },
];

/** "NVIDIA A100-SXM4-40GB" -> "a100 sxm4 40gb": lower case, the vendor dropped, punctuation as spaces. */
function normaliseGpuName(name: string): string {
  return name
    .toLowerCase()
    .replace(/\bnvidia\b/g, ' ')
    .replace(/[^a-z0-9]+/g, ' ')
    .replace(/\b(\d+) gb\b/g, '$1gb')
    .trim();
}

/** The peak table entry for an nvidia-smi GPU name, or null when the GPU is not in the table. */
export function gpuPeakFor(name: string): GpuPeak | null {
  const n = normaliseGpuName(name);
  const hit = GPU_PEAKS.find((p) => p.test(n));
  return hit ? { entry: hit.entry, bf16Tflops: hit.bf16Tflops, memTBs: hit.memTBs, source: hit.source } : null;
}

// ---------------------------------------------------------------------------------------------- per run

/** The run's roofline as saved in its summary. Numbers are null, and `unknown` says why, where there is no floor. */
export interface RunRoofline {
  /** Why no floor is given (CPU run, unknown GPU, unknown model, nothing completed), or null when it is. */
  readonly unknown: string | null;
  /** The GPU as nvidia-smi (or DCGM, or the user) named it, and the table entry used. */
  readonly gpu: string | null;
  readonly peak: GpuPeak | null;
  readonly gpusPerReplica: number;
  readonly model: string | null;
  readonly bytesPerParam: number | null;
  /** The median request's own prefill, TFLOP (not multiplied by its batch). */
  readonly prefillTflop: number | null;
  /** The median decode step's bytes (its micro-batch's weights and KV caches), GB. */
  readonly decodeStepGB: number | null;
  readonly ttftFloorMs: number | null;
  readonly tpotFloorMs: number | null;
  /** The measured medians the floors are compared with. */
  readonly ttftP50Ms: number | null;
  readonly tpotP50Ms: number | null;
  /** floor / measured x 100. */
  readonly ttftPctOfFloor: number | null;
  readonly tpotPctOfFloor: number | null;
  /** Caveats of this floor (pipeline sharding, a precision the peak does not describe). */
  readonly notes: readonly string[];
}

export interface RooflineRecord {
  readonly promptTokens: number;
  readonly imageTokens: number;
  readonly crops: number;
  readonly outputTokens: number;
  readonly batchSize: number;
}

export interface RooflineInput {
  readonly cost: ModelCostInfo | null;
  /** The distinct names of the GPUs the replicas ran on (empty: none known). */
  readonly gpuNames: readonly string[];
  /** The run ran on CPUs (the onnx backend's CPU execution provider). */
  readonly cpu: boolean;
  readonly gpusPerReplica: number;
  /** A replica's GPUs run one after another (accelerate's device_map="auto" places layers, not tensor slices). */
  readonly pipelineSharded: boolean;
  /** Completed measured requests. */
  readonly records: readonly RooflineRecord[];
  readonly ttftP50Ms: number | null;
  readonly tpotP50Ms: number | null;
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const TERA = 1e12;

/** The roofline of a run from its model, hardware and completed requests. */
export function computeRoofline(i: RooflineInput): RunRoofline {
  const base = {
    gpu: i.gpuNames.length === 1 ? i.gpuNames[0] : null,
    peak: null,
    gpusPerReplica: i.gpusPerReplica,
    model: i.cost?.name ?? null,
    bytesPerParam: i.cost?.bytesPerParam ?? null,
    prefillTflop: null,
    decodeStepGB: null,
    ttftFloorMs: null,
    tpotFloorMs: null,
    ttftP50Ms: i.ttftP50Ms,
    tpotP50Ms: i.tpotP50Ms,
    ttftPctOfFloor: null,
    tpotPctOfFloor: null,
    notes: [] as string[],
  };
  const unknown = (why: string): RunRoofline => ({ ...base, unknown: why });
  if (i.cpu) return unknown('CPU run: the peak table covers GPUs only');
  if (i.gpuNames.length === 0) return unknown('the GPUs are not known (no nvidia-smi or DCGM telemetry, no --gpu-name)');
  if (i.gpuNames.length > 1) return unknown(`mixed GPUs (${i.gpuNames.join(', ')}): no single peak`);
  const peak = gpuPeakFor(i.gpuNames[0]);
  if (!peak) return unknown(`no peak table entry for "${i.gpuNames[0]}"`);
  if (!i.cost) return { ...base, peak, unknown: 'the model is not a known Gemma 3 architecture: its cost is unknown' };
  const a = i.cost.arch;
  const recs = i.records.filter((r) => r.promptTokens > 0);
  if (recs.length === 0) return { ...base, peak, unknown: 'no completed measured request' };
  const g = Math.max(1, i.gpusPerReplica);
  const entriesOf = (r: RooflineRecord) => (r.imageTokens > 0 ? Math.round(r.imageTokens / VISION.tokensPerEntry) : r.crops + 1);
  const own = recs.map((r) => prefillFlops(a, r.promptTokens, entriesOf(r)).total);
  const ttftFloors = recs.map((r, k) => ((own[k] * Math.max(1, r.batchSize)) / (peak.bf16Tflops * TERA * g)) * 1000);
  const decoding = recs.filter((r) => r.outputTokens >= 2);
  const stepBytes = decoding.map((r) => decodeStepBytes(a, r.promptTokens + r.outputTokens / 2, Math.max(1, r.batchSize), i.cost!.bytesPerParam));
  const tpotFloors = stepBytes.map((b) => (b / (peak.memTBs * TERA * g)) * 1000);
  const ttftFloorMs = median(ttftFloors);
  const tpotFloorMs = median(tpotFloors);
  const pct = (floor: number | null, measured: number | null) => (floor !== null && measured !== null && measured > 0 ? (floor / measured) * 100 : null);
  const notes: string[] = [];
  if (i.pipelineSharded && g > 1) notes.push(`device_map="auto" runs a replica's ${g} GPUs one after another (layers, not tensor slices): at most one works at a time, so ${sig(100 / g)}% of this floor is the most it can reach`);
  if (i.cost.bytesPerParam !== 2) notes.push(`weights of ${i.cost.bytesPerParam} bytes: the peak is the BF16 tensor-core one`);
  return {
    ...base,
    peak,
    unknown: null,
    prefillTflop: (median(own) ?? 0) / TERA,
    decodeStepGB: stepBytes.length ? (median(stepBytes) ?? 0) / 1e9 : null,
    ttftFloorMs,
    tpotFloorMs,
    ttftPctOfFloor: pct(ttftFloorMs, i.ttftP50Ms),
    tpotPctOfFloor: pct(tpotFloorMs, i.tpotP50Ms),
    notes,
  };
}

function sig(x: number): string {
  return x >= 10 ? x.toFixed(0) : x.toFixed(1);
}
