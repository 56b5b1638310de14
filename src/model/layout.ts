// The onnx-community / transformers.js Gemma 3 layout (panscan-spec.md §5.2): which graph files a model
// directory holds and which input and output names each graph must have. Pure checks over names and
// types that a caller got from onnxruntime sessions, so the onnx backend can validate any directory (ours
// or a real export) before running it, and say exactly what is wrong.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type GraphName = 'vision_encoder' | 'embed_tokens' | 'decoder_model_merged';
export const GRAPH_NAMES: readonly GraphName[] = ['vision_encoder', 'embed_tokens', 'decoder_model_merged'];

/** `{i}` stands for every decoder layer 0..numLayers-1. */
export const REQUIRED_IO = Object.freeze({
  vision_encoder: { inputs: ['pixel_values'], optionalInputs: [] as string[], outputs: ['image_features'] },
  embed_tokens: { inputs: ['input_ids'], optionalInputs: [] as string[], outputs: ['inputs_embeds'] },
  decoder_model_merged: {
    inputs: ['inputs_embeds', 'attention_mask', 'position_ids', 'past_key_values.{i}.key', 'past_key_values.{i}.value'],
    // Our graphs always have it (required); some exports may not, and then all logits come back.
    optionalInputs: ['num_logits_to_keep'],
    outputs: ['logits', 'present.{i}.key', 'present.{i}.value'],
  },
} satisfies Record<GraphName, { inputs: string[]; optionalInputs: string[]; outputs: string[] }>);

/** Element types accepted per name: fp16 exports (`_fp16`, `_q4f16`) take and return float16. */
const FLOAT_TYPES = ['float32', 'float16'];
const EXPECTED_TYPES: Record<string, readonly string[]> = {
  pixel_values: FLOAT_TYPES,
  image_features: FLOAT_TYPES,
  input_ids: ['int64'],
  inputs_embeds: FLOAT_TYPES,
  attention_mask: ['int64'],
  position_ids: ['int64'],
  num_logits_to_keep: ['int64'],
  logits: FLOAT_TYPES,
};
function expectedType(name: string): readonly string[] | undefined {
  if (name.startsWith('past_key_values.') || name.startsWith('present.')) return FLOAT_TYPES;
  return EXPECTED_TYPES[name];
}

export interface ExpectedIo {
  readonly inputs: string[];
  readonly optionalInputs: string[];
  readonly outputs: string[];
}

export function expectedIo(graph: GraphName, numLayers: number): ExpectedIo {
  const spec = REQUIRED_IO[graph];
  // Plain names first, then per layer (past_key_values.0.key, past_key_values.0.value, 1.key, ...): the
  // order of the exports, and of our graphs.
  const expand = (names: readonly string[]) => {
    const perLayer = names.filter((n) => n.includes('{i}'));
    const layered = Array.from({ length: numLayers }, (_, i) => perLayer.map((n) => n.replace('{i}', String(i)))).flat();
    return [...names.filter((n) => !n.includes('{i}')), ...layered];
  };
  return { inputs: expand(spec.inputs), optionalInputs: expand(spec.optionalInputs), outputs: expand(spec.outputs) };
}

/** What a loaded session reports (InferenceSession.inputNames / outputNames / *Metadata). */
export interface GraphIoInfo {
  readonly graph: GraphName;
  readonly file: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: ReadonlyArray<{ readonly name: string; readonly isTensor: boolean; readonly type?: string }>;
  readonly outputMetadata?: ReadonlyArray<{ readonly name: string; readonly isTensor: boolean; readonly type?: string }>;
}

export interface LayoutCheckOptions {
  /** text_config.num_hidden_layers; when absent it is inferred from the decoder's past_key_values inputs. */
  readonly numLayers?: number;
  /** A text-only model (gemma3_text) has no vision_encoder. */
  readonly textOnly?: boolean;
}

/** Decoder layer count implied by `past_key_values.{i}.key` inputs (max index + 1), or undefined. */
export function inferNumLayers(decoderInputNames: readonly string[]): number | undefined {
  let max = -1;
  for (const n of decoderInputNames) {
    const m = /^past_key_values\.(\d+)\.key$/.exec(n);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max >= 0 ? max + 1 : undefined;
}

/**
 * Problems with a set of graphs against the layout; empty when it conforms. Each problem names the graph,
 * the file and the missing or unexpected input/output (or the wrong element type).
 */
export function checkModelLayout(graphs: readonly GraphIoInfo[], opts: LayoutCheckOptions = {}): string[] {
  const problems: string[] = [];
  const byGraph = new Map(graphs.map((g) => [g.graph, g]));
  const required = GRAPH_NAMES.filter((g) => !(opts.textOnly && g === 'vision_encoder'));
  for (const g of required) if (!byGraph.has(g)) problems.push(`${g}: graph missing (no ${g}.onnx loaded)`);

  const decoder = byGraph.get('decoder_model_merged');
  const numLayers = opts.numLayers ?? (decoder ? inferNumLayers(decoder.inputNames) : undefined);
  if (decoder && numLayers === undefined) {
    problems.push(`decoder_model_merged (${decoder.file}): no past_key_values.{i}.key inputs, cannot tell the layer count`);
  }

  for (const info of graphs) {
    const exp = expectedIo(info.graph, numLayers ?? 0);
    const where = `${info.graph} (${info.file})`;
    const inputs = new Set(info.inputNames);
    const outputs = new Set(info.outputNames);
    const allowedInputs = new Set([...exp.inputs, ...exp.optionalInputs]);
    for (const n of exp.inputs) if (!inputs.has(n)) problems.push(`${where}: missing input "${n}"`);
    for (const n of info.inputNames) if (!allowedInputs.has(n)) problems.push(`${where}: unexpected input "${n}"`);
    for (const n of exp.outputs) if (!outputs.has(n)) problems.push(`${where}: missing output "${n}"`);
    for (const n of info.outputNames) if (!exp.outputs.includes(n)) problems.push(`${where}: unexpected output "${n}"`);
    for (const [kind, meta] of [['input', info.inputMetadata], ['output', info.outputMetadata]] as const) {
      for (const m of meta ?? []) {
        const want = expectedType(m.name);
        if (!want) continue;
        if (!m.isTensor) problems.push(`${where}: ${kind} "${m.name}" is not a tensor`);
        else if (m.type !== undefined && !want.includes(m.type)) {
          problems.push(`${where}: ${kind} "${m.name}" has type ${m.type}, expected ${want.join(' or ')}`);
        }
      }
    }
  }
  return problems;
}

/**
 * Finds the graph files of a model directory: `<dir>/<graph><suffix>.onnx` (what make-model writes) or
 * `<dir>/onnx/<graph><suffix>.onnx` (the Hub layout transformers.js reads). Suffix is '' for fp32, or
 * e.g. '_fp16', '_quantized', '_q4f16'.
 */
export function locateGraphFiles(dir: string, opts: { suffix?: string; textOnly?: boolean } = {}): { files: Partial<Record<GraphName, string>>; problems: string[] } {
  const suffix = opts.suffix ?? '';
  const files: Partial<Record<GraphName, string>> = {};
  const problems: string[] = [];
  for (const g of GRAPH_NAMES) {
    if (opts.textOnly && g === 'vision_encoder') continue;
    const candidates = [join(dir, `${g}${suffix}.onnx`), join(dir, 'onnx', `${g}${suffix}.onnx`)];
    const hit = candidates.find((p) => existsSync(p));
    if (hit) files[g] = hit;
    else problems.push(`${g}: no ${g}${suffix}.onnx in ${dir} or ${join(dir, 'onnx')}`);
  }
  return { files, problems };
}

/** The fields of config.json the engine needs, or a problem naming the file and the field. */
export interface ModelDirConfig {
  readonly numLayers: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly hiddenSize: number;
  readonly vocabSize: number;
  readonly imageTokenId: number;
  readonly mmTokensPerImage: number;
  readonly textOnly: boolean;
  readonly randomWeights: boolean;
  readonly label?: string;
}

export function readModelDirConfig(dir: string): { config?: ModelDirConfig; problems: string[] } {
  const file = join(dir, 'config.json');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    return { problems: [`${file}: cannot read config.json (${(e as Error).message})`] };
  }
  const textOnly = raw.model_type === 'gemma3_text';
  const text = (textOnly ? raw : raw.text_config) as Record<string, unknown> | undefined;
  if (!text || typeof text !== 'object') return { problems: [`${file}: no text_config`] };
  const problems: string[] = [];
  const num = (obj: Record<string, unknown>, key: string, fallback?: number): number => {
    const v = obj[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      problems.push(`${file}: ${obj === raw ? '' : 'text_config.'}${key} missing or not a number`);
      return NaN;
    }
    return v;
  };
  // Defaults are Gemma3TextConfig's class defaults (the 4B Hub config relies on them, panscan-spec §4.4).
  const hiddenSize = num(text, 'hidden_size');
  const block = raw.gemma_bench as Record<string, unknown> | undefined;
  const config: ModelDirConfig = {
    numLayers: num(text, 'num_hidden_layers'),
    numKvHeads: num(text, 'num_key_value_heads', 4),
    headDim: num(text, 'head_dim', 256),
    hiddenSize,
    vocabSize: num(text, 'vocab_size', 262_208),
    imageTokenId: textOnly ? -1 : num(raw, 'image_token_index', 262_144),
    mmTokensPerImage: textOnly ? 0 : num(raw, 'mm_tokens_per_image', 256),
    textOnly,
    randomWeights: block?.randomWeights === true,
    ...(typeof block?.label === 'string' ? { label: block.label } : {}),
  };
  return problems.length > 0 ? { problems } : { config, problems };
}
