// The wire protocol between the transformers backend and its Python workers (python/gemma_bench_worker.py): JSON
// lines over stdio, one object per line, both ways. This file is the reference for the message shapes; the
// worker mirrors it. Messages from the worker are validated (zod) before use, so a worker of another version or a
// library printing to stdout gives a clear message rather than undefined fields.
//
// Session:  TS spawns `python gemma_bench_worker.py --replica N ...` with CUDA_VISIBLE_DEVICES = the replica's group
//   worker -> log*            progress while loading
//   worker -> ready           once the model is loaded and warm (or fatal + exit status != 0)
//   TS     -> ping           x PINGS, worker -> pong each: estimates the offset between the two wall clocks
//   TS     -> batch           a micro-batch; the worker answers each with one result, in order
//   TS     -> shutdown        (or stdin closed) the worker exits 0
// Times: the worker stamps `recvTime` = its time.time() when it reads a batch, and every other time of that batch
// as ms after that instant (perf_counter deltas). TS maps them onto its clock (clock.ts nowMs(), also epoch ms)
// as recvTime * 1000 - offsetMs + relativeMs, where offsetMs comes from the pings.
import { z } from 'zod';
import type { PanScanOptions } from '../../../panscan/types.js';

export const PROTOCOL_VERSION = 1;

/** Exit statuses of the worker (each non-zero one follows a `fatal` message). */
export const WORKER_EXIT = {
  ok: 0,
  usage: 2,
  missingDeps: 3,
  loadFailed: 4,
  noGpu: 5,
  cudaBroken: 6,
} as const;

// ------------------------------------------------------------------------------------------------------------
// TS -> worker

/** --preprocess hf: the worker reads the image and runs HF's Gemma3Processor with these knobs at call time. */
export interface HfRequestMessage {
  readonly id: number;
  readonly maxNewTokens: number;
  readonly imagePath: string;
  readonly prompt: string;
  /** null: pan-and-scan off (do_pan_and_scan=False). */
  readonly panScan: PanScanOptions | null;
  readonly exifOrientation: 'apply' | 'ignore';
  readonly pixelLimit: number;
}

/** --preprocess ts: gemma-bench preprocessed the image; the pixels wait in a raw float32 file the worker deletes. */
export interface TsRequestMessage {
  readonly id: number;
  readonly maxNewTokens: number;
  readonly inputIds: readonly number[];
  readonly pixels: { readonly path: string; readonly shape: readonly [number, 3, 896, 896]; readonly dtype: 'float32' };
}

export type RequestMessage = HfRequestMessage | TsRequestMessage;

export type ToWorker =
  | { readonly type: 'batch'; readonly batchId: number; readonly requests: readonly RequestMessage[] }
  | { readonly type: 'ping'; readonly t: number }
  | { readonly type: 'shutdown' };

// ------------------------------------------------------------------------------------------------------------
// worker -> TS

const nullableNumber = z.number().nullable();

export const WorkerRequestResultSchema = z.object({
  id: z.number(),
  ok: z.boolean(),
  error: z.string().nullable(),
  crops: z.number().int().min(0),
  imageTokens: z.number().int().min(0),
  promptTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  tokenIds: z.array(z.number().int()),
  /** hf: Gemma3Processor (with PIL decode) for this request; ts: null (the TS side measured it). */
  preprocessMs: nullableNumber,
  /** Time the worker spent getting this request's inputs (hf: = preprocessMs; ts: reading the pixel file). */
  inputMs: nullableNumber,
  /** Vision tower + projector over the whole micro-batch (synchronized), the same for every request in it. */
  visionMs: nullableNumber,
  /** ms after recvTime when generation of the micro-batch started (inputs ready). */
  startMs: nullableNumber,
  /** ms after recvTime at which each output token was available (after torch.cuda.synchronize()). */
  tokenMs: z.array(z.number()),
});
export type WorkerRequestResult = z.infer<typeof WorkerRequestResultSchema>;

const DeviceMapEntrySchema = z.object({
  device: z.string(),
  /** The CUDA_VISIBLE_DEVICES entry (nvidia-smi index) behind this CUDA ordinal. */
  gpu: z.string().nullable(),
  modules: z.array(z.string()),
});
export type DeviceMapEntry = z.infer<typeof DeviceMapEntrySchema>;

export const ReadyMessageSchema = z.object({
  type: z.literal('ready'),
  protocol: z.number().int(),
  replica: z.number().int(),
  pid: z.number().int(),
  time: z.number(),
  model: z.object({
    name: z.string(),
    source: z.string(),
    modelSize: z.string().nullable(),
    parameters: z.number(),
    dtype: z.string(),
    attention: z.string(),
    kvCache: z.string(),
    preprocess: z.string(),
    randomWeights: z.boolean(),
    numLayers: z.number().nullable().optional(),
    processorClass: z.string().nullable(),
    imageProcessorClass: z.string().nullable(),
  }),
  deviceMap: z.array(DeviceMapEntrySchema),
  gpus: z.array(
    z.object({
      ordinal: z.number().int(),
      gpu: z.string().nullable(),
      name: z.string(),
      totalMiB: z.number(),
      allocatedMiB: z.number(),
      reservedMiB: z.number(),
    }),
  ),
  /** Some weights live on CPU or disk (did not fit the group): every number measured reflects that. */
  offloaded: z.boolean(),
  versions: z.object({
    python: z.string(),
    torch: z.string().nullable(),
    transformers: z.string().nullable(),
    accelerate: z.string().nullable(),
    cuda: z.string().nullable(),
    flashAttn: z.string().nullable(),
  }),
  timings: z.object({
    /** import torch/transformers/accelerate. */
    importS: z.number(),
    /** Weights loaded (or random weights materialized) and dispatched over the GPUs. */
    loadS: z.number(),
    /** Warm-up generations (includes compilation with a static cache). */
    warmupS: z.number(),
    /** Compilation overhead of the static-cache decode step: first warm pass minus a second of the same shape. */
    compileS: z.number().nullable(),
  }),
  compile: z.object({ enabled: z.boolean(), ok: z.boolean().nullable(), error: z.string().nullable(), detected: z.boolean().nullable().optional() }),
  notes: z.array(z.string()),
});
export type ReadyMessage = z.infer<typeof ReadyMessageSchema>;

/** One GPU's peak memory over a micro-batch: torch.cuda.max_memory_allocated / max_memory_reserved after
 *  reset_peak_memory_stats before the batch (python/gemma_bench/engines/memory.py), in MiB. */
export const PeakMemorySchema = z.object({
  ordinal: z.number().int(),
  /** The CUDA_VISIBLE_DEVICES entry (nvidia-smi index, or a UUID) behind this CUDA ordinal. */
  gpu: z.string().nullable(),
  allocatedMiB: z.number(),
  reservedMiB: z.number().nullable(),
});
export type PeakMemory = z.infer<typeof PeakMemorySchema>;

export const ResultMessageSchema = z.object({
  type: z.literal('result'),
  batchId: z.number(),
  /** The worker's time.time() (epoch seconds) when it read the batch. */
  recvTime: z.number(),
  results: z.array(WorkerRequestResultSchema),
  /** Why the whole batch failed (e.g. "CUDA out of memory: ..."); the replica carries on. */
  batchError: z.string().nullable(),
  oom: z.boolean(),
  /** Things worth telling the user about this batch (e.g. a new static-cache shape was compiled). */
  notes: z.array(z.string()),
  /** Each GPU's peak memory over the batch; absent from a worker (or engine) that does not measure it. Optional, so
   *  protocol 1 holds both ways: an older worker sends none, an older gemma-bench ignores it. */
  peakMemory: z.array(PeakMemorySchema).nullable().optional(),
});
export type ResultMessage = z.infer<typeof ResultMessageSchema>;

export const FatalMessageSchema = z.object({
  type: z.literal('fatal'),
  /** bad-args | missing-deps | no-gpu | load-failed | cuda-broken */
  code: z.string(),
  message: z.string(),
});
export type FatalMessage = z.infer<typeof FatalMessageSchema>;

export const LogMessageSchema = z.object({
  type: z.literal('log'),
  level: z.enum(['info', 'warn', 'error']),
  message: z.string(),
});

export const PongMessageSchema = z.object({
  type: z.literal('pong'),
  t: z.number(),
  /** The worker's time.time() when it answered. */
  time: z.number(),
});

export const ProbeMessageSchema = z.object({
  type: z.literal('probe'),
  protocol: z.number().int(),
  engine: z.string(),
  python: z.object({ version: z.string(), executable: z.string() }),
  packages: z.record(z.string(), z.string().nullable()),
  cuda: z.object({
    available: z.boolean(),
    deviceCount: z.number().int(),
    torchCuda: z.string().nullable(),
    devices: z.array(z.object({ name: z.string(), totalMiB: z.number() })),
  }),
  problems: z.array(z.string()),
});
export type ProbeMessage = z.infer<typeof ProbeMessageSchema>;

export const FromWorkerSchema = z.discriminatedUnion('type', [
  ReadyMessageSchema,
  ResultMessageSchema,
  FatalMessageSchema,
  LogMessageSchema,
  PongMessageSchema,
  ProbeMessageSchema,
]);
export type FromWorker = z.infer<typeof FromWorkerSchema>;

/** Parses one stdout line; an error string says what was wrong (never throws). */
export function parseWorkerLine(line: string): { ok: true; message: FromWorker } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, error: `not JSON: ${clip(line)}` };
  }
  const r = FromWorkerSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return { ok: false, error: `unexpected message${where}: ${issue?.message ?? 'invalid'} (${clip(line)})` };
  }
  return { ok: true, message: r.data };
}

const CLIP_CHARS = 160;
function clip(s: string): string {
  return s.length > CLIP_CHARS ? `${s.slice(0, CLIP_CHARS)}...` : s;
}
