// The preset schema: the single source of truth for what a preset may hold (DESIGN.md §6).
// Strict objects reject unknown keys so a typo in a user's preset is an error, not a silent default.
import { z } from 'zod';
import { HF_PANSCAN_DEFAULTS } from '../panscan/types.js';

export const DTYPES = ['bf16', 'fp16', 'fp32'] as const;
export const ATTENTIONS = ['sdpa', 'flash_attention_2', 'eager'] as const;
export const KV_CACHES = ['dynamic', 'static'] as const;
export const BATCH_POLICIES = ['crop', 'fifo'] as const;
/** A preset that names neither concurrency nor rateRps runs closed loop at this concurrency. */
export const DEFAULT_CONCURRENCY = 1;
/** A preset that names neither requests nor durationS stops after this many measured requests. */
export const DEFAULT_REQUESTS = 32;

export const PanScanSchema = z.strictObject({
  enabled: z.boolean(),
  minRatioToActivate: z.number().positive().finite().default(HF_PANSCAN_DEFAULTS.minRatioToActivate),
  maxNumCrops: z.number().int().min(1).default(HF_PANSCAN_DEFAULTS.maxNumCrops),
  minCropSize: z.number().int().min(1).default(HF_PANSCAN_DEFAULTS.minCropSize),
});

export const TopologySchema = z.strictObject({
  gpusPerReplica: z.number().int().min(1).default(1),
  /** A count, or "auto" = visible GPUs / gpusPerReplica (at least 1). */
  replicas: z.union([z.number().int().min(1), z.literal('auto')]).default(1),
});

export const LoadSchema = z
  .strictObject({
    /** Closed loop: this many requests in flight. */
    concurrency: z.number().int().min(1).optional(),
    /** Open loop: Poisson arrivals at this many requests per second. */
    rateRps: z.number().positive().finite().optional(),
    /** Stop after this many measured requests ... */
    requests: z.number().int().min(1).optional(),
    /** ... or after this many seconds. */
    durationS: z.number().positive().finite().optional(),
    /** Requests run first and kept in the run, but out of the statistics. */
    warmup: z.number().int().min(0).default(0),
  })
  .refine((l) => !(l.concurrency !== undefined && l.rateRps !== undefined), {
    message: 'give either concurrency (closed loop) or rateRps (open loop), not both',
  })
  .refine((l) => !(l.requests !== undefined && l.durationS !== undefined), {
    message: 'give either requests or durationS, not both',
  });

export const BatchingSchema = z.strictObject({
  batchSize: z.number().int().min(1).default(1),
  /** crop: micro-batches hold requests with the same crop count; fifo: arrival order. */
  policy: z.enum(BATCH_POLICIES).default('crop'),
});

export const GenerationSchema = z.strictObject({
  maxNewTokens: z.number().int().min(1).default(256),
  /** Greedy decoding with EOS ignored, so every request yields maxNewTokens and runs compare. */
  decoding: z.literal('greedy').default('greedy'),
});

export const EngineKnobsSchema = z.strictObject({
  dtype: z.enum(DTYPES).default('bf16'),
  attention: z.enum(ATTENTIONS).default('sdpa'),
  kvCache: z.enum(KV_CACHES).default('dynamic'),
});

export const PresetSchema = z.strictObject({
  name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, ".", "_" and "-" only'),
  description: z.string().default(''),
  panScan: PanScanSchema,
  topology: TopologySchema.prefault({}),
  load: LoadSchema.prefault({}),
  batching: BatchingSchema.prefault({}),
  generation: GenerationSchema.prefault({}),
  engine: EngineKnobsSchema.prefault({}),
});

export type Preset = z.infer<typeof PresetSchema>;
export type PresetInput = z.input<typeof PresetSchema>;
export type EngineKnobs = z.infer<typeof EngineKnobsSchema>;
