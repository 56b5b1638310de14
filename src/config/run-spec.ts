// The run specification (RunSpec): the one typed, validated description of a benchmark run and the engine's only
// configuration input. Every entry point (CLI flags, sweep grid points, the interactive home screen, a saved
// preference) builds a partial specification (RunOverrides); resolve-run-spec.ts merges it over a preset, applies
// the defaults once and validates once with RunSpecSchema, whose messages name the flag (see fields.ts).
// Backend options are a discriminated union on `backend.name`, each member declared by its backend's folder and
// listed once in src/engine/backends/registry.ts.
import { z } from 'zod';
import { BACKEND_DEFINITIONS, BACKEND_NAMES, type BackendName, type BackendOptionsOf } from '../engine/backends/registry.js';
import { DEFAULT_PIXEL_LIMIT } from '../panscan/types.js';
import { fieldSchema, type Field } from './fields.js';
import { ATTENTIONS, BATCH_POLICIES, DTYPES, KV_CACHES } from './preset-schema.js';

export const DEFAULT_SYNTHETIC_COUNT = 8;
/** A run whose failed share of measured requests passes this stops early and fails (DESIGN.md §9). */
export const DEFAULT_MAX_ERROR_RATE = 0.05;
export const SYNTHETIC_COUNT_MAX = 1000;

/** The settings every run has, whatever the backend: one declaration each (flag, validation, help). */
export const RUN_FIELDS = {
  name: { flag: 'name', key: 'name', type: { kind: 'string' }, placeholder: 'NAME', description: 'run name (default: the preset name)' },
  images: { flag: 'images', key: 'images', type: { kind: 'string' }, placeholder: 'GLOB|DIR', description: 'images: a file, a directory (recursive) or a quoted glob (default: the built-in synthetic document set)' },
  synthetic: { flag: 'synthetic', key: 'synthetic', type: { kind: 'int', min: 1, max: SYNTHETIC_COUNT_MAX }, placeholder: 'N', description: `size of the built-in synthetic set (default ${DEFAULT_SYNTHETIC_COUNT})` },
  prompts: { flag: 'prompts', key: 'prompts', type: { kind: 'string' }, placeholder: 'FILE', description: 'prompts, one per line (default: a document question)' },
  backend: { flag: 'backend', key: 'backend', type: { kind: 'enum', values: BACKEND_NAMES }, placeholder: BACKEND_NAMES.join('|'), description: `inference backend: ${BACKEND_DEFINITIONS.map((b) => `${b.name} (${b.summary})`).join('; ')}; default onnx` },
  requests: { flag: 'requests', key: 'requests', type: { kind: 'int', min: 1 }, placeholder: 'N', description: 'stop after N measured requests' },
  durationS: { flag: 'duration', key: 'durationS', type: { kind: 'number', min: 0, exclusiveMin: true }, placeholder: 'S', description: 'stop issuing after S seconds of measurement' },
  concurrency: { flag: 'concurrency', key: 'concurrency', type: { kind: 'int', min: 1 }, placeholder: 'N', description: 'closed loop: N requests in flight' },
  rateRps: { flag: 'rate', key: 'rateRps', type: { kind: 'number', min: 0, exclusiveMin: true }, placeholder: 'R', description: 'open loop: Poisson arrivals at R requests/s' },
  replicas: { flag: 'replicas', key: 'replicas', type: { kind: 'int-or-auto', min: 1 }, placeholder: 'N|auto', description: 'model replicas' },
  gpusPerReplica: { flag: 'gpus-per-replica', key: 'gpusPerReplica', type: { kind: 'int', min: 1 }, placeholder: 'N', description: 'GPUs each replica owns' },
  batchSize: { flag: 'batch-size', key: 'batchSize', type: { kind: 'int', min: 1 }, placeholder: 'N', description: 'micro-batch size' },
  batching: { flag: 'batching', key: 'batching', type: { kind: 'enum', values: BATCH_POLICIES }, placeholder: 'crop|fifo', description: 'group micro-batches by crop count, or arrival order' },
  warmup: { flag: 'warmup', key: 'warmup', type: { kind: 'int', min: 0 }, placeholder: 'N', description: 'warmup requests (run first, kept, excluded from statistics)' },
  maxNewTokens: { flag: 'max-new-tokens', key: 'maxNewTokens', type: { kind: 'int', min: 1 }, placeholder: 'N', description: 'tokens generated per request (EOS ignored so runs compare)' },
  seed: { flag: 'seed', key: 'seed', type: { kind: 'int', min: 0 }, placeholder: 'N', description: 'seed for the synthetic set and Poisson arrivals (default 0)' },
  maxErrorRate: {
    flag: 'max-error-rate',
    key: 'maxErrorRate',
    type: { kind: 'number', min: 0, max: 1 },
    placeholder: 'R',
    description: `fail the run, stopping early, once more than this share of measured requests failed (default ${DEFAULT_MAX_ERROR_RATE}; 1 never)`,
  },
  telemetry: { flag: 'no-telemetry', key: 'telemetry', type: { kind: 'flag', negates: true }, description: 'do not sample GPU/CPU utilisation' },
  dtype: { flag: 'dtype', key: 'dtype', type: { kind: 'enum', values: DTYPES }, placeholder: 'bf16|fp16|fp32', description: 'transformers: weight and activation precision (default: the preset, bf16)' },
  attention: { flag: 'attention', key: 'attention', type: { kind: 'enum', values: ATTENTIONS }, placeholder: 'sdpa|flash_attention_2|eager', description: 'transformers: attention implementation (default: the preset, sdpa)' },
  kvCache: { flag: 'kv-cache', key: 'kvCache', type: { kind: 'enum', values: KV_CACHES }, placeholder: 'dynamic|static', description: 'transformers: KV cache; static compiles the decode step with torch.compile (default: the preset, dynamic)' },
} as const satisfies Record<string, Field>;

/** Gemma 3's preprocessing knobs, shared by run, sweep, panscan and infer. */
export const PREPROCESS_FIELDS = {
  panAndScan: { flag: 'pan-and-scan', key: 'panAndScan', type: { kind: 'enum', values: ['on', 'off'] }, placeholder: 'on|off', description: "pan-and-scan on or off, whatever the preset says (on: the preset's knobs, else HF's 1.2/4/256)" },
  minRatio: { flag: 'min-ratio', key: 'minRatio', type: { kind: 'number', min: 0, exclusiveMin: true }, placeholder: 'R', description: 'pan-and-scan: aspect ratio that activates it' },
  maxCrops: { flag: 'max-crops', key: 'maxCrops', type: { kind: 'int', min: 1 }, placeholder: 'N', description: 'pan-and-scan: maximum crops' },
  minCropSize: { flag: 'min-crop-size', key: 'minCropSize', type: { kind: 'int', min: 1 }, placeholder: 'PX', description: 'pan-and-scan: minimum crop side' },
  exifOrientation: { flag: 'exif-orientation', key: 'exifOrientation', type: { kind: 'enum', values: ['apply', 'ignore'] }, placeholder: 'apply|ignore', description: 'apply EXIF orientation first, as HF load_image and vLLM URLs do (default ignore)' },
  pixelLimit: { flag: 'pixel-limit', key: 'pixelLimit', type: { kind: 'int', min: 1 }, placeholder: 'N', description: `refuse images with more pixels (default ${DEFAULT_PIXEL_LIMIT}, like Pillow)` },
} as const satisfies Record<string, Field>;

type FieldValue<F extends Field> = F['type'] extends { kind: 'int' | 'number' }
  ? number
  : F['type'] extends { kind: 'int-or-auto' }
    ? number | 'auto'
    : F['type'] extends { kind: 'enum'; values: readonly (infer V)[] }
      ? V
      : F['type'] extends { kind: 'flag' }
        ? boolean
        : F['type'] extends { kind: 'list' }
          ? readonly string[]
          : F['type'] extends { kind: 'json-object' }
            ? Readonly<Record<string, unknown>>
            : string;

type ValuesOf<T extends Record<string, Field>> = { -readonly [K in keyof T]?: FieldValue<T[K]> };

/**
 * A partial specification, as any entry point builds it: only what the user chose; the preset fills the rest.
 * `backendOptions` holds the chosen backend's own options (keys of its definition's fields).
 */
export type RunOverrides = ValuesOf<typeof RUN_FIELDS> &
  ValuesOf<typeof PREPROCESS_FIELDS> & {
    backendOptions?: Readonly<Record<string, unknown>>;
  };

const f = (x: Field) => fieldSchema(x);

const LoadSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('closed'), concurrency: f(RUN_FIELDS.concurrency) as z.ZodType<number> }),
  z.strictObject({ kind: z.literal('open'), rateRps: f(RUN_FIELDS.rateRps) as z.ZodType<number> }),
]);

const StopSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('requests'), count: f(RUN_FIELDS.requests) as z.ZodType<number> }),
  z.strictObject({ kind: z.literal('duration'), seconds: f(RUN_FIELDS.durationS) as z.ZodType<number> }),
]);

const PanScanSpecSchema = z.strictObject({
  minRatioToActivate: f(PREPROCESS_FIELDS.minRatio) as z.ZodType<number>,
  maxNumCrops: f(PREPROCESS_FIELDS.maxCrops) as z.ZodType<number>,
  minCropSize: f(PREPROCESS_FIELDS.minCropSize) as z.ZodType<number>,
});

export const RunGroupSchema = z.strictObject({
  id: z.string().min(1),
  kind: z.enum(['sweep', 'repeat']),
  point: z.record(z.string(), z.union([z.number(), z.string()])),
  index: z.number().int().min(0),
  total: z.number().int().min(1),
  repeat: z.strictObject({ index: z.number().int().min(0), total: z.number().int().min(1), orderSeed: z.number().int().min(0) }).optional(),
});

/** One member of the backend union per registered backend: `{name, options}` with that backend's own schema. */
const BackendSpecSchema = z.discriminatedUnion(
  'name',
  BACKEND_DEFINITIONS.map((b) => z.strictObject({ name: z.literal(b.name), options: b.options })) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

export const RunSpecSchema = z.strictObject({
  name: z.string().min(1),
  /** The preset the run started from (its settings are folded into the fields below). */
  preset: z.strictObject({ name: z.string().min(1), description: z.string() }),
  workload: z.strictObject({
    /** A file, directory or glob; null for the built-in synthetic set. */
    images: z.string().min(1).nullable(),
    synthetic: f(RUN_FIELDS.synthetic) as z.ZodType<number>,
    prompts: z.string().min(1).nullable(),
  }),
  load: LoadSpecSchema,
  stop: StopSpecSchema,
  warmup: f(RUN_FIELDS.warmup) as z.ZodType<number>,
  maxNewTokens: f(RUN_FIELDS.maxNewTokens) as z.ZodType<number>,
  batchSize: f(RUN_FIELDS.batchSize) as z.ZodType<number>,
  batching: f(RUN_FIELDS.batching) as z.ZodType<'crop' | 'fifo'>,
  seed: f(RUN_FIELDS.seed) as z.ZodType<number>,
  topology: z.strictObject({
    gpusPerReplica: f(RUN_FIELDS.gpusPerReplica) as z.ZodType<number>,
    replicas: f(RUN_FIELDS.replicas) as z.ZodType<number | 'auto'>,
  }),
  /** null: pan-and-scan off. */
  panScan: PanScanSpecSchema.nullable(),
  /** Where the pan-and-scan values came from, for the user: "preset balanced + --max-crops". */
  panScanSource: z.string(),
  exifOrientation: f(PREPROCESS_FIELDS.exifOrientation) as z.ZodType<'apply' | 'ignore'>,
  pixelLimit: f(PREPROCESS_FIELDS.pixelLimit) as z.ZodType<number>,
  engine: z.strictObject({
    dtype: f(RUN_FIELDS.dtype) as z.ZodType<(typeof DTYPES)[number]>,
    attention: f(RUN_FIELDS.attention) as z.ZodType<(typeof ATTENTIONS)[number]>,
    kvCache: f(RUN_FIELDS.kvCache) as z.ZodType<(typeof KV_CACHES)[number]>,
  }),
  maxErrorRate: f(RUN_FIELDS.maxErrorRate) as z.ZodType<number>,
  telemetry: z.boolean(),
  backend: BackendSpecSchema,
  group: RunGroupSchema.nullable(),
});

export type BackendSpec = { [K in BackendName]: { readonly name: K; readonly options: BackendOptionsOf<K> } }[BackendName];
export type RunSpec = Omit<z.infer<typeof RunSpecSchema>, 'backend'> & { readonly backend: BackendSpec };
export type LoadSpec = RunSpec['load'];
export type StopSpec = RunSpec['stop'];
