// The command-line face of the transformers backend, for the run/sweep commands to merge in: its flags (as
// OptionSpec records like RUN_OPTIONS) and a factory that reads them, with the preset's engine knobs (dtype,
// attention, KV cache) as defaults. --model, --seed, --replicas and --gpus-per-replica stay the run command's.
import { num, oneOf, str, UsageError, type OptionSpec, type ParsedValues } from '../../../cli/args.js';
import type { LogFn } from '../../backend.js';
import { TransformersBackendError } from './errors.js';
import { TransformersBackend, type TransformersBackendOptions } from './backend.js';
import { DEFAULT_PYTHON, PYTHON_ENV } from './python.js';

/** Flags of `--backend transformers` (all strings, parsed and checked by createTransformersBackendFromFlags). */
export function transformersRunOptions(): Record<string, OptionSpec> {
  return {
    weights: { type: 'string', placeholder: 'pretrained|random', description: 'transformers: random = the published Gemma 3 architecture with random weights, nothing downloaded (speed only)' },
    'model-size': { type: 'string', placeholder: '4b|12b|27b', description: 'transformers: architecture for --weights random' },
    dtype: { type: 'string', placeholder: 'bf16|fp16|fp32', description: 'transformers: weight and activation precision (default: the preset, bf16)' },
    attention: { type: 'string', placeholder: 'sdpa|flash_attention_2|eager', description: 'transformers: attention implementation (default: the preset, sdpa)' },
    'kv-cache': { type: 'string', placeholder: 'dynamic|static', description: 'transformers: KV cache; static compiles the decode step with torch.compile (default: the preset, dynamic)' },
    'max-cache-len': { type: 'string', placeholder: 'N', description: 'transformers: static cache length in tokens (default 4096)' },
    preprocess: { type: 'string', placeholder: 'ts|hf', description: "transformers: ts = gemma-bench's HF-exact preprocessing off the main thread, pipelined (default); hf = HF's Gemma3Processor in the worker" },
    python: { type: 'string', placeholder: 'PATH', description: `transformers: Python interpreter with torch, transformers, accelerate (default $${PYTHON_ENV} or ${DEFAULT_PYTHON})` },
    processor: { type: 'string', placeholder: 'DIR', description: 'transformers: local Gemma 3 processor directory for --preprocess hf (needed with --weights random)' },
  };
}

export interface TransformersFlagDefaults {
  /** The preset's engine knobs. */
  readonly engine?: { readonly dtype?: 'bf16' | 'fp16' | 'fp32'; readonly attention?: 'sdpa' | 'flash_attention_2' | 'eager'; readonly kvCache?: 'dynamic' | 'static' };
  /** The run's micro-batch size: warmed (and compiled, with a static cache) before the run starts. */
  readonly batchSize?: number;
  readonly seed?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Builds the backend from parsed flags. Flag problems are UsageErrors (exit code 2) naming the flag; nothing is
 * started here: the interpreter, packages and GPUs are checked by start() (and resolveReplicas() for "auto").
 */
export async function createTransformersBackendFromFlags(values: ParsedValues, log: LogFn, defaults: TransformersFlagDefaults = {}): Promise<TransformersBackend> {
  const weights = oneOf(values, 'weights', ['pretrained', 'random'] as const);
  const modelSize = oneOf(values, 'model-size', ['4b', '12b', '27b'] as const);
  const dtype = oneOf(values, 'dtype', ['bf16', 'fp16', 'fp32'] as const) ?? defaults.engine?.dtype;
  const attention = oneOf(values, 'attention', ['sdpa', 'flash_attention_2', 'eager'] as const) ?? defaults.engine?.attention;
  const kvCache = oneOf(values, 'kv-cache', ['dynamic', 'static'] as const) ?? defaults.engine?.kvCache;
  const maxCacheLen = num(values, 'max-cache-len', { integer: true, min: 256 });
  const preprocess = oneOf(values, 'preprocess', ['ts', 'hf'] as const);
  const model = str(values, 'model');
  const opts: TransformersBackendOptions = {
    log,
    ...(model !== undefined ? { model } : {}),
    ...(weights ? { weights } : modelSize ? { weights: 'random' as const } : {}),
    ...(modelSize ? { modelSize } : {}),
    ...(dtype ? { dtype } : {}),
    ...(attention ? { attention } : {}),
    ...(kvCache ? { kvCache } : {}),
    ...(maxCacheLen !== undefined ? { maxCacheLen } : {}),
    ...(preprocess ? { preprocess } : {}),
    ...(str(values, 'python') !== undefined ? { python: str(values, 'python')! } : {}),
    ...(str(values, 'processor') !== undefined ? { processor: str(values, 'processor')! } : {}),
    ...(defaults.seed !== undefined ? { seed: defaults.seed } : {}),
    warmBatchSizes: defaults.batchSize && defaults.batchSize > 1 ? [1, defaults.batchSize] : [1],
    ...(defaults.env ? { env: defaults.env } : {}),
  };
  try {
    return await TransformersBackend.create(opts);
  } catch (err) {
    // Option combinations are the user's to fix: a usage error, exit code 2.
    if (err instanceof TransformersBackendError) throw new UsageError(err.message);
    throw err;
  }
}
