// The onnx backend as the registry knows it: its flags and typed options, and a factory that loads the
// implementation (worker threads, onnxruntime, sharp) only when a run needs it.
import { availableParallelism } from 'node:os';
import type { z } from 'zod';
import { objectSchema, type Field } from '../../../config/fields.js';
import type { BackendDefinition } from '../../backend.js';

export const ONNX_FIELDS = [
  { flag: 'model', key: 'model', type: { kind: 'string' }, placeholder: 'DIR|ID|tiny', description: 'onnx: tiny (built-in, random weights) or an ONNX export directory; transformers: a Hub id or local path; openai: the served model id' },
  { flag: 'variant', key: 'variant', type: { kind: 'string' }, placeholder: 'SUFFIX', description: 'onnx: graph file suffix of a real ONNX export, e.g. q4' },
  { flag: 'ep', key: 'ep', type: { kind: 'enum', values: ['cpu', 'cuda'] }, placeholder: 'cpu|cuda', description: 'onnx: onnxruntime execution provider (default cpu)' },
  { flag: 'threads', key: 'threads', type: { kind: 'int', min: 1 }, placeholder: 'N', description: 'onnx: CPU threads shared by the replicas (default all cores)' },
] as const satisfies readonly Field[];

export interface OnnxOptions {
  /** "tiny" (built-in, random weights) or an export directory. */
  readonly model: string;
  readonly variant?: string;
  readonly ep: 'cpu' | 'cuda';
  readonly threads?: number;
}

export const onnxDefinition: BackendDefinition<'onnx', OnnxOptions> = {
  name: 'onnx',
  summary: 'embedded onnxruntime in worker threads, CPU or CUDA EP',
  runsOn: 'cpu',
  fields: ONNX_FIELDS,
  options: objectSchema(ONNX_FIELDS, { model: 'tiny', ep: 'cpu' }) as unknown as z.ZodType<OnnxOptions>,
  async prepare(o, ctx) {
    const { resolveOnnxModel } = await import('./model-dir.js');
    await resolveOnnxModel(o.model, { ...(o.variant ? { variant: o.variant } : {}), seed: 0, log: ctx.log, ...(ctx.env ? { env: ctx.env } : {}) });
  },
  async create(o, ctx) {
    const { OnnxBackend } = await import('./index.js');
    // The tiny model's weights are seeded 0 whatever the run's seed: runs on it compare.
    return OnnxBackend.create({ model: o.model, ...(o.variant ? { variant: o.variant } : {}), ep: o.ep, threads: o.threads ?? availableParallelism(), seed: 0, log: ctx.log, ...(ctx.env ? { env: ctx.env } : {}) });
  },
};
