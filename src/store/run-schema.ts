// The zod schema a run file read from disk must pass before anything trusts it (DESIGN.md §7). It checks every
// field the store, exports and comparison read; objects are loose, so files from a newer gemma-bench that add
// fields still load. The preset is checked for the fields runs are compared on, not against the live preset schema,
// so a future change to presets does not make old runs unreadable. Telemetry is opaque here.
import { z } from 'zod';
import { LATENCY_METRICS, RUN_SCHEMA_VERSION, type LatencyMetric, type RunFile } from '../engine/types.js';

const num = z.number();
const nnum = z.number().nullable();
const int = z.number().int();
const count = z.number().int().min(0);

const MetricSummarySchema = z.looseObject({ count, mean: nnum, min: nnum, max: nnum, p50: nnum, p90: nnum, p95: nnum, p99: nnum });

const metricsShape = Object.fromEntries(LATENCY_METRICS.map((m) => [m, MetricSummarySchema])) as Record<LatencyMetric, typeof MetricSummarySchema>;

/** Optional (runs saved before peak memory was recorded have none). */
const PeakMemoryListSchema = z.array(z.looseObject({ gpu: z.string(), allocatedMiB: num, reservedMiB: nnum })).optional();

const ReplicaSummarySchema = z.looseObject({
  replica: int,
  devices: z.array(z.string()),
  completed: count,
  failed: count,
  throughputReqS: nnum,
  outputTokensPerS: nnum,
  e2eMs: MetricSummarySchema,
  ttftMs: MetricSummarySchema,
  died: z.string().nullable(),
  peakMemory: PeakMemoryListSchema,
});

export const RunSummarySchema = z.looseObject({
  completed: count,
  failed: count,
  cancelled: count,
  warmup: count,
  measuredWallS: num,
  throughputReqS: nnum,
  outputTokensPerS: nnum,
  tokensPerSMean: nnum,
  promptTokensPerS: nnum,
  metrics: z.looseObject(metricsShape),
  cropsHistogram: z.record(z.string(), count),
  perReplica: z.array(ReplicaSummarySchema),
  /** Optional: runs saved before the roofline existed have none. */
  roofline: z.looseObject({ unknown: z.string().nullable(), ttftPctOfFloor: nnum, tpotPctOfFloor: nnum }).optional(),
});

export const RequestRecordSchema = z.looseObject({
  id: int,
  imageIndex: int,
  promptIndex: int,
  warmup: z.boolean(),
  status: z.enum(['ok', 'failed', 'cancelled']),
  error: z.string().nullable(),
  replica: int.nullable(),
  batchSize: int,
  crops: count,
  imageTokens: count,
  promptTokens: count,
  outputTokens: count,
  enqueuedAtMs: num,
  dispatchedAtMs: nnum,
  finishedAtMs: nnum,
  queueMs: nnum,
  preprocessMs: nnum,
  visionMs: nnum,
  ttftMs: nnum,
  e2eMs: nnum,
  tpotMs: nnum,
  tokenTimesMs: z.array(num),
  tokenIds: z.array(int),
  peakMemory: PeakMemoryListSchema,
});

const PresetHeadSchema = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  panScan: z.looseObject({ enabled: z.boolean(), minRatioToActivate: num, maxNumCrops: int, minCropSize: int }),
  topology: z.looseObject({}),
  load: z.looseObject({}),
  batching: z.looseObject({}),
  generation: z.looseObject({ maxNewTokens: int }),
  engine: z.looseObject({}),
});

const SettingsSchema = z.looseObject({
  requests: int.nullable(),
  durationS: nnum,
  concurrency: int.nullable(),
  rateRps: nnum,
  warmup: count,
  maxNewTokens: int,
  batchSize: int,
  batching: z.enum(['crop', 'fifo']),
  replicas: int,
  seed: int,
});

const BackendSchema = z.looseObject({
  name: z.string().min(1),
  model: z.looseObject({
    name: z.string(),
    label: z.string(),
    path: z.string().nullable(),
    randomWeights: z.boolean(),
    details: z.record(z.string(), z.union([z.string(), num, z.boolean(), z.null()])),
  }),
  replicas: z.array(z.looseObject({ replica: int, devices: z.array(z.string()) })),
});

const EnvironmentSchema = z.looseObject({
  hostname: z.string(),
  platform: z.string(),
  arch: z.string(),
  cpuModel: z.string(),
  cpuCores: count,
  memoryGiB: num,
  gpus: z.array(z.looseObject({ index: int, name: z.string() })),
  node: z.string(),
  packages: z.record(z.string(), z.string()),
  gemmaBench: z.looseObject({ version: z.string(), gitCommit: z.string().nullable() }),
});

const WorkloadSchema = z.looseObject({
  source: z.string(),
  images: z.array(
    z.looseObject({
      path: z.string(),
      sha256: z.string(),
      bytes: count,
      width: int,
      height: int,
      crops: z.array(z.looseObject({ left: num, top: num, width: num, height: num })),
      imageTokens: count,
      promptTokens: z.array(count),
      error: z.string().nullable().optional(),
    }),
  ),
  prompts: z.array(z.string()),
  setHash: z.string(),
  skipped: count,
});

const GroupSchema = z.looseObject({
  id: z.string().min(1),
  kind: z.enum(['sweep', 'repeat']),
  point: z.record(z.string(), z.union([num, z.string()])),
  index: count,
  total: count,
  repeat: z.looseObject({ index: count, total: count, orderSeed: count }).optional(),
});

/** Run ids are file names: letters, digits, ".", "_" and "-", not starting with "." (temp files do). */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date-time');

export const RunFileSchema = z.looseObject({
  schemaVersion: z.literal(RUN_SCHEMA_VERSION),
  id: z.string().regex(RUN_ID_PATTERN, 'not a valid run id'),
  name: z.string(),
  status: z.enum(['completed', 'interrupted', 'failed']),
  notes: z.array(z.string()),
  startedAt: isoTime,
  endedAt: isoTime,
  group: GroupSchema.nullable(),
  preset: PresetHeadSchema,
  settings: SettingsSchema,
  backend: BackendSchema,
  environment: EnvironmentSchema,
  workload: WorkloadSchema,
  requests: z.array(RequestRecordSchema),
  summary: RunSummarySchema,
  telemetry: z.unknown(),
});

export type RunCheck = { ok: true; run: RunFile } | { ok: false; reason: string };

/** One line naming the first few offending fields, e.g. `summary.metrics.e2eMs.p50: expected number, received string`. */
export function describeIssues(error: z.ZodError, max = 3): string {
  const issues = error.issues.slice(0, max).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  const more = error.issues.length > max ? ` (+${error.issues.length - max} more)` : '';
  return issues.join('; ') + more;
}

/** Validates parsed JSON as a run file. On success the original object is returned (unknown fields kept). */
export function checkRunFile(data: unknown): RunCheck {
  if (typeof data === 'object' && data !== null && 'schemaVersion' in data) {
    const v = (data as { schemaVersion: unknown }).schemaVersion;
    if (typeof v === 'number' && v > RUN_SCHEMA_VERSION) {
      return { ok: false, reason: `written by a newer gemma-bench (schemaVersion ${v}; this one reads ${RUN_SCHEMA_VERSION}). Upgrade gemma-bench to read it.` };
    }
  }
  const r = RunFileSchema.safeParse(data);
  if (!r.success) return { ok: false, reason: `not a valid run file: ${describeIssues(r.error)}` };
  return { ok: true, run: data as RunFile };
}
