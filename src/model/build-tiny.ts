// `gemma-bench make-model`'s engine: writes the tiny random-weight Gemma 3 as a model directory in the
// onnx-community layout (vision_encoder.onnx, embed_tokens.onnx, decoder_model_merged.onnx, config.json),
// optionally with model.safetensors under transformers' names for cross-checking on a GPU machine.
// Everything is written into a sibling temp directory and renamed into place at the end, so an interrupted
// build never leaves a directory that looks complete.
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { buildDecoder, buildEmbedTokens, buildVisionEncoder } from './gemma3-graphs.js';
import type { GraphBuilder } from './graph-builder.js';
import { writeSafetensors } from './safetensors.js';
import { BUILDER_VERSION, resolveConfig, toHfConfig, type GemmaBenchBlock, type TinyConfigOverride, type TinyGemma3Config } from './tiny-config.js';
import { describeInit, generateWeights, getWeight, LM_HEAD, TEXT_PREFIX, type WeightTensor } from './weights.js';

export const RANDOM_WEIGHTS_LABEL_SUFFIX = 'random weights: speed only';
export const SAFETENSORS_FILE = 'model.safetensors';

export interface BuildOptions {
  /** PRNG seed (default 0); the same seed gives byte-identical files. */
  readonly seed?: number;
  /** Also write model.safetensors with the same weights under transformers' parameter names. */
  readonly hfWeights?: boolean;
  readonly onProgress?: (msg: string) => void;
  /** Architecture override (tests use a small sliding window); the default is TINY_CONFIG. */
  readonly config?: TinyConfigOverride;
}

export interface ModelManifest {
  readonly dir: string;
  readonly name: string;
  readonly label: string;
  readonly randomWeights: boolean;
  readonly seed: number;
  /** File names inside `dir`. */
  readonly files: string[];
  readonly bytesByFile: Record<string, number>;
  /** The config.json written. */
  readonly config: unknown;
  readonly builderVersion: number;
  readonly buildMs: number;
}

const GRAPH_DOCS: Record<string, string> = {
  vision_encoder:
    'SigLIP vision tower (896x896, patch 14, 4096 patches) + Gemma3MultiModalProjector (4x4 avg pool -> 256 tokens, RMSNorm, projection). Random weights: speed only.',
  embed_tokens: 'Gemma3TextScaledWordEmbedding: embedding row * sqrt(hidden_size). Random weights: speed only.',
  decoder_model_merged:
    'Gemma 3 text decoder with KV cache and tied LM head. Like the onnx-community exports it sees only embeddings and a 2-D mask, so image tokens attend causally (HF PyTorch makes each image block bidirectional). Random weights: speed only.',
};

/** Builds the tiny model into `outDir` (replacing a previous gemma-bench build there) and returns its manifest. */
export async function buildTinyModel(outDir: string, opts: BuildOptions = {}): Promise<ModelManifest> {
  const t0 = performance.now();
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`seed must be an integer in [0, 2^32) (got ${seed})`);
  const progress = opts.onProgress ?? (() => {});
  const config = resolveConfig(opts.config);
  const dir = resolve(outDir);
  await assertReplaceable(dir);

  await mkdir(dirname(dir), { recursive: true });
  await removeStalePartials(dir);
  const tmp = await mkdtemp(join(dirname(dir), `.${basename(dir)}.partial-`));
  try {
    progress(`generating weights (seed ${seed})`);
    const weights = generateWeights(config, seed);
    const bytesByFile: Record<string, number> = {};
    const writeGraph = async (file: string, build: () => GraphBuilder, key: string) => {
      progress(`writing ${file}`);
      const bytes = build().encode(GRAPH_DOCS[key], { 'gemma_bench.label': labelFor(config), 'gemma_bench.seed': String(seed) });
      await writeFile(join(tmp, file), bytes);
      bytesByFile[file] = bytes.byteLength;
    };
    await writeGraph('vision_encoder.onnx', () => buildVisionEncoder(config, weights), 'vision_encoder');
    await writeGraph('embed_tokens.onnx', () => buildEmbedTokens(config, weights), 'embed_tokens');
    await writeGraph('decoder_model_merged.onnx', () => buildDecoder(config, weights), 'decoder_model_merged');

    if (opts.hfWeights) {
      progress(`writing ${SAFETENSORS_FILE}`);
      const embed = getWeight(weights, `${TEXT_PREFIX}embed_tokens.weight`);
      // lm_head.weight is written too (same values): transformers ties it either way, and a loader that
      // does not tie (or an old naming scheme) still gets the right head.
      const tensors: WeightTensor[] = [...weights.values(), { name: LM_HEAD, shape: embed.shape, data: embed.data }];
      bytesByFile[SAFETENSORS_FILE] = await writeSafetensors(join(tmp, SAFETENSORS_FILE), tensors);
    }

    // config.json last: its gemma_bench block is what marks a directory as a finished build.
    const block: GemmaBenchBlock = {
      name: config.name,
      randomWeights: true,
      seed,
      label: labelFor(config),
      builderVersion: BUILDER_VERSION,
      init: describeInit(),
    };
    const hfConfig = toHfConfig(config, block);
    const configText = `${JSON.stringify(hfConfig, null, 2)}\n`;
    await writeFile(join(tmp, 'config.json'), configText);
    bytesByFile['config.json'] = Buffer.byteLength(configText);

    progress(`moving into ${dir}`);
    await swapIntoPlace(tmp, dir);
    const files = Object.keys(bytesByFile).sort();
    const manifest: ModelManifest = {
      dir,
      name: config.name,
      label: block.label,
      randomWeights: true,
      seed,
      files,
      bytesByFile,
      config: hfConfig,
      builderVersion: BUILDER_VERSION,
      buildMs: performance.now() - t0,
    };
    progress(`done in ${(manifest.buildMs / 1000).toFixed(1)} s`);
    return manifest;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

export function labelFor(config: TinyGemma3Config): string {
  return `${config.name}, ${RANDOM_WEIGHTS_LABEL_SUFFIX}`;
}

/** The output directory cannot take the build (a file, or a folder of something else): the user must choose another. */
export class ModelOutDirError extends Error {
  override name = 'ModelOutDirError';
}

/** Refuses to replace a directory that is not empty and not an earlier gemma-bench build. */
async function assertReplaceable(dir: string): Promise<void> {
  const s = await stat(dir).catch(() => undefined);
  if (!s) return;
  if (!s.isDirectory()) throw new ModelOutDirError(`${dir} exists and is not a directory; give a new or empty directory`);
  const entries = await readdir(dir);
  if (entries.length === 0) return;
  const cfg = await readFile(join(dir, 'config.json'), 'utf8').catch(() => undefined);
  let ours = false;
  try {
    ours = cfg !== undefined && typeof (JSON.parse(cfg) as { gemma_bench?: unknown }).gemma_bench === 'object';
  } catch {
    ours = false;
  }
  if (!ours) throw new ModelOutDirError(`${dir} is not empty and is not a gemma-bench model build; refusing to replace it. Give a new or empty directory (an earlier build is replaced)`);
}

/** A build takes seconds, so a partial directory an hour old is from a build that was killed. */
const STALE_PARTIAL_AGE_MS = 60 * 60 * 1000;

async function removeStalePartials(dir: string): Promise<void> {
  const prefix = `.${basename(dir)}.partial-`;
  const parent = dirname(dir);
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const s = await stat(join(parent, name)).catch(() => undefined);
    if (s && Date.now() - s.mtimeMs > STALE_PARTIAL_AGE_MS) await rm(join(parent, name), { recursive: true, force: true });
  }
}

/** tmp -> dir; an existing dir is moved aside first and removed only after the new one is in place. */
async function swapIntoPlace(tmp: string, dir: string): Promise<void> {
  const exists = await stat(dir).then(
    () => true,
    () => false,
  );
  if (!exists) {
    await rename(tmp, dir);
    return;
  }
  const old = `${tmp}.old`;
  await rename(dir, old);
  try {
    await rename(tmp, dir);
  } catch (e) {
    await rename(old, dir);
    throw e;
  }
  await rm(old, { recursive: true, force: true });
}
