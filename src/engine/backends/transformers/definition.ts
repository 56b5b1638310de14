// The transformers backend as the registry knows it: its flags and typed options (the preset's engine knobs,
// precision, attention and KV cache, come from the run specification), and a factory that loads the
// implementation only when a run needs it. Option combinations that cannot run are configuration errors.
import type { z } from 'zod';
import { ConfigError } from '../../../config/errors.js';
import { objectSchema, type Field } from '../../../config/fields.js';
import type { BackendDefinition } from '../../backend.js';
import { ONNX_FIELDS } from '../onnx/definition.js';

const MODEL_FIELD = ONNX_FIELDS[0];

export const TRANSFORMERS_FIELDS = [
  MODEL_FIELD,
  { flag: 'weights', key: 'weights', type: { kind: 'enum', values: ['pretrained', 'random'] }, placeholder: 'pretrained|random', description: 'transformers: random = the published Gemma 3 architecture with random weights, nothing downloaded (speed only)' },
  { flag: 'model-size', key: 'modelSize', type: { kind: 'enum', values: ['4b', '12b', '27b'] }, placeholder: '4b|12b|27b', description: 'transformers: architecture for --weights random' },
  { flag: 'max-cache-len', key: 'maxCacheLen', type: { kind: 'int', min: 256 }, placeholder: 'N', description: 'transformers: static cache length in tokens (default 4096)' },
  { flag: 'preprocess', key: 'preprocess', type: { kind: 'enum', values: ['ts', 'hf'] }, placeholder: 'ts|hf', description: "transformers: ts = gemma-bench's HF-exact preprocessing off the main thread, pipelined (default); hf = HF's Gemma3Processor in the worker" },
  { flag: 'python', key: 'python', type: { kind: 'string' }, placeholder: 'PATH', description: 'transformers: Python interpreter with torch, transformers, accelerate (default $GEMMA_BENCH_PYTHON or python3)' },
  { flag: 'worker-timeout', key: 'workerTimeout', type: { kind: 'number', min: 0 }, placeholder: 'S', description: 'transformers: seconds a worker may take to load and warm up (compilation included), and per 256 new tokens of a micro-batch; past it the worker is killed, its batch fails and the other replicas go on (default 1800; 0: no limit)' },
  { flag: 'processor', key: 'processor', type: { kind: 'string' }, placeholder: 'DIR', description: 'transformers: local Gemma 3 processor directory for --preprocess hf (needed with --weights random)' },
] as const satisfies readonly Field[];

export interface TransformersOptions {
  readonly model?: string;
  readonly weights?: 'pretrained' | 'random';
  readonly modelSize?: '4b' | '12b' | '27b';
  readonly maxCacheLen?: number;
  readonly preprocess?: 'ts' | 'hf';
  readonly python?: string;
  readonly processor?: string;
  readonly workerTimeout?: number;
}

export const transformersDefinition: BackendDefinition<'transformers', TransformersOptions> = {
  name: 'transformers',
  summary: 'Hugging Face transformers in Python workers, each replica sharded over its GPU group',
  runsOn: 'gpu',
  fields: TRANSFORMERS_FIELDS,
  options: objectSchema(TRANSFORMERS_FIELDS) as unknown as z.ZodType<TransformersOptions>,
  async create(o, ctx) {
    const { TransformersBackend } = await import('./backend.js');
    const { TransformersBackendError } = await import('./errors.js');
    try {
      return await TransformersBackend.create({
        log: ctx.log,
        ...(o.model !== undefined ? { model: o.model } : {}),
        // --model-size alone means random weights.
        ...(o.weights ? { weights: o.weights } : o.modelSize ? { weights: 'random' as const } : {}),
        ...(o.modelSize ? { modelSize: o.modelSize } : {}),
        dtype: ctx.engine.dtype,
        attention: ctx.engine.attention,
        kvCache: ctx.engine.kvCache,
        ...(o.maxCacheLen !== undefined ? { maxCacheLen: o.maxCacheLen } : {}),
        ...(o.preprocess ? { preprocess: o.preprocess } : {}),
        ...(o.python !== undefined ? { python: o.python } : {}),
        ...(o.processor !== undefined ? { processor: o.processor } : {}),
        ...(o.workerTimeout !== undefined ? { workerTimeoutS: o.workerTimeout } : {}),
        seed: ctx.seed,
        warmBatchSizes: ctx.batchSize > 1 ? [1, ctx.batchSize] : [1],
        ...(ctx.env ? { env: ctx.env } : {}),
      });
    } catch (err) {
      if (err instanceof TransformersBackendError && err.stage === 'configuration') throw new ConfigError(err.message);
      throw err;
    }
  },
};
