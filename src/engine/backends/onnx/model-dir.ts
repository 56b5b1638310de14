// Resolves what the onnx backend runs: the built-in tiny model (built into the data directory on first use,
// seconds, once) or a user's ONNX export directory in the onnx-community Gemma 3 layout. Reads config.json for
// the decoder's shape and the label every screen and file shows.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { modelCacheDir } from '../../../config/paths.js';
import { buildTinyModel } from '../../../model/build-tiny.js';
import { locateGraphFiles, readModelDirConfig } from '../../../model/layout.js';
import { BUILDER_VERSION } from '../../../model/tiny-config.js';
import type { ModelDescription } from '../../types.js';
import type { LogFn } from '../../backend.js';
import type { DecoderShape, OnnxModelFiles } from './protocol.js';

export class ModelDirError extends Error {
  override name = 'ModelDirError';
}

export interface ResolvedOnnxModel {
  readonly dir: string;
  readonly files: OnnxModelFiles;
  readonly shape: DecoderShape;
  readonly description: ModelDescription;
}

export const TINY_MODEL_NAME = 'tiny';

/** The cache directory of the built-in model for a seed. */
export function tinyModelDir(seed: number, env?: NodeJS.ProcessEnv): string {
  return join(modelCacheDir(env), `gemma3-tiny-v${BUILDER_VERSION}-seed${seed}`);
}

function isCompleteTinyBuild(dir: string): boolean {
  try {
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { gemma_bench?: { builderVersion?: number } };
    return cfg.gemma_bench?.builderVersion === BUILDER_VERSION && ['vision_encoder.onnx', 'embed_tokens.onnx', 'decoder_model_merged.onnx'].every((f) => existsSync(join(dir, f)));
  } catch {
    return false;
  }
}

/**
 * `spec` is undefined or "tiny" (the built-in model) or a directory. `variant` selects a file suffix of real
 * exports (e.g. "q4" for *_q4.onnx); the default is the plain fp32 files.
 */
export async function resolveOnnxModel(spec: string | undefined, opts: { variant?: string; seed?: number; log: LogFn; env?: NodeJS.ProcessEnv }): Promise<ResolvedOnnxModel> {
  let dir: string;
  if (spec === undefined || spec === TINY_MODEL_NAME) {
    dir = tinyModelDir(opts.seed ?? 0, opts.env);
    if (!isCompleteTinyBuild(dir)) {
      opts.log('info', `building the built-in tiny Gemma 3 model into ${dir} (once)`);
      const m = await buildTinyModel(dir, { seed: opts.seed ?? 0 });
      opts.log('info', `built ${m.label} in ${(m.buildMs / 1000).toFixed(1)} s`);
    }
  } else {
    dir = resolve(spec);
    if (!existsSync(dir)) throw new ModelDirError(`model directory not found: ${dir}. Give --model tiny for the built-in model, or a directory holding an ONNX export of Gemma 3 (onnx-community layout).`);
  }
  const suffix = opts.variant ? (opts.variant.startsWith('_') ? opts.variant : `_${opts.variant}`) : '';
  const { files, problems } = locateGraphFiles(dir, { suffix });
  const { config, problems: cfgProblems } = readModelDirConfig(dir);
  const all = [...problems, ...cfgProblems];
  if (all.length > 0 || !files.vision_encoder || !files.embed_tokens || !files.decoder_model_merged || !config) {
    throw new ModelDirError(`${dir} is not a Gemma 3 ONNX model directory in the onnx-community layout:\n${all.map((p) => `  - ${p}`).join('\n')}`);
  }
  if (config.textOnly) throw new ModelDirError(`${dir} holds a text-only Gemma 3 (gemma3_text); gemma-bench needs the vision model (vision_encoder.onnx).`);
  const name = config.randomWeights ? (config.label?.split(',')[0] ?? 'gemma3-tiny') : basename(dir);
  return {
    dir,
    files: { visionEncoder: files.vision_encoder, embedTokens: files.embed_tokens, decoder: files.decoder_model_merged },
    shape: { numLayers: config.numLayers, numKeyValueHeads: config.numKvHeads, headDim: config.headDim, hiddenSize: config.hiddenSize, imageTokenId: config.imageTokenId, padTokenId: 0 },
    description: {
      name,
      label: config.label ?? (config.randomWeights ? `${name}, random weights: speed only` : name),
      path: dir,
      randomWeights: config.randomWeights,
      details: { layers: config.numLayers, hidden: config.hiddenSize, variant: suffix || 'fp32' },
    },
  };
}
