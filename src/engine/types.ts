// The engine's data contracts: per-request records, metric summaries, run summaries and the saved run file.
// Plain JSON-serialisable shapes only: they travel in events, feed the UI store and are written to disk.
import type { Preset } from '../config/preset-schema.js';
import type { CropBox } from '../panscan/types.js';
import type { RunTelemetry } from '../telemetry/types.js';
import type { RunRoofline } from './roofline.js';

export type RequestStatus = 'ok' | 'failed' | 'cancelled';

/**
 * One GPU's peak memory over a micro-batch, as the framework's allocator counts it (transformers: torch's
 * max_memory_allocated and max_memory_reserved, reset before each batch), in MiB. `gpu` names the device as the
 * replica's CUDA_VISIBLE_DEVICES does (an nvidia-smi index such as "2", or a UUID), else its CUDA ordinal ("cuda:0").
 */
export interface GpuPeakMemory {
  readonly gpu: string;
  readonly allocatedMiB: number;
  readonly reservedMiB: number | null;
}

/** One request, as measured (DESIGN.md §5). Times are ms; `*AtMs` are offsets from the run's start. */
export interface RequestRecord {
  readonly id: number;
  /** Index into the run's workload.images. */
  readonly imageIndex: number;
  /** Index into the run's workload.prompts. */
  readonly promptIndex: number;
  readonly warmup: boolean;
  readonly status: RequestStatus;
  readonly error: string | null;
  readonly replica: number | null;
  /** Size of the micro-batch it ran in. */
  readonly batchSize: number;
  readonly crops: number;
  readonly imageTokens: number;
  readonly promptTokens: number;
  /**
   * The prompt tokens gemma-bench expects for this image, prompt and pan-and-scan settings. A server whose count
   * differs did not apply the settings (the pan-and-scan parity check). Absent in runs saved before it existed.
   */
  readonly promptTokensExpected?: number;
  readonly outputTokens: number;
  readonly enqueuedAtMs: number;
  readonly dispatchedAtMs: number | null;
  readonly finishedAtMs: number | null;
  /** enqueue -> dispatch to a replica. */
  readonly queueMs: number | null;
  /** decode + crops + resize + normalize + tokenize. */
  readonly preprocessMs: number | null;
  /** vision tower + projector over (1 + crops) entries, where the backend can see it. */
  readonly visionMs: number | null;
  /** dispatch -> first output token (excludes the queue); over HTTP, POST -> first chunk with choices. */
  readonly ttftMs: number | null;
  /** enqueue -> last output token (includes the queue). */
  readonly e2eMs: number | null;
  /** (last token - first token) / (outputTokens - 1); null with fewer than 2 tokens. */
  readonly tpotMs: number | null;
  /** Time of each output token, ms from dispatch. Gaps between neighbours are the ITL samples. */
  readonly tokenTimesMs: readonly number[];
  /** Greedy token ids (kept so runs can be checked for determinism; empty if the backend does not report them). */
  readonly tokenIds: readonly number[];
  /**
   * Peak GPU memory of the micro-batch this request ran in, per GPU of its replica (every request of a batch carries
   * the same). Absent where the backend cannot see it (onnx, openai) and in runs saved before it existed.
   */
  readonly peakMemory?: readonly GpuPeakMemory[];
}

/** Streaming or final statistics of one latency metric, in ms. All null when there are no samples. */
export interface MetricSummary {
  readonly count: number;
  readonly mean: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export const LATENCY_METRICS = ['e2eMs', 'ttftMs', 'tpotMs', 'itlMs', 'queueMs', 'preprocessMs', 'visionMs'] as const;
export type LatencyMetric = (typeof LATENCY_METRICS)[number];

export interface ReplicaSummary {
  readonly replica: number;
  readonly devices: readonly string[];
  readonly completed: number;
  readonly failed: number;
  readonly throughputReqS: number | null;
  readonly outputTokensPerS: number | null;
  readonly e2eMs: MetricSummary;
  readonly ttftMs: MetricSummary;
  /** Why the replica stopped early, if it did. */
  readonly died: string | null;
  /**
   * Per GPU of the replica, the highest peak memory of any micro-batch behind its completed measured requests (the
   * "peak VRAM" figure). Absent when the backend reported none.
   */
  readonly peakMemory?: readonly GpuPeakMemory[];
}

/**
 * The pan-and-scan parity check: completed measured requests whose prompt token count could be compared with what
 * gemma-bench expects, and how many differed. Mismatches mean the backend (a server) did not preprocess the image
 * as the run's settings say: it ignored mm_processor_kwargs, or uses other defaults.
 */
export interface PromptTokenParity {
  readonly checked: number;
  readonly mismatched: number;
}

export interface RunSummary {
  /** Measured (non-warmup) requests that completed. */
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly warmup: number;
  /** First measured enqueue -> last measured completion, seconds. */
  readonly measuredWallS: number;
  readonly throughputReqS: number | null;
  /** Output tokens of completed measured requests / measured wall time. */
  readonly outputTokensPerS: number | null;
  /** Mean over completed requests of outputTokens / (e2e seconds): the per-request ("per user") token rate. */
  readonly tokensPerSMean: number | null;
  readonly promptTokensPerS: number | null;
  readonly metrics: Readonly<Record<LatencyMetric, MetricSummary>>;
  /** Completed measured requests by crop count, e.g. {"0": 12, "3": 20}. */
  readonly cropsHistogram: Readonly<Record<string, number>>;
  readonly perReplica: readonly ReplicaSummary[];
  /** Absent in runs saved before the check existed. */
  readonly promptTokenParity?: PromptTokenParity;
  /**
   * How close the TTFT and TPOT medians came to the hardware's floor (src/engine/roofline.ts), set at the end of a run;
   * `unknown` says why there is no floor (CPU run, unknown GPU or model). Absent in runs saved before it existed.
   */
  readonly roofline?: RunRoofline;
}

export interface WorkloadImage {
  /** Absolute path (or the synthetic set's file). */
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly width: number;
  readonly height: number;
  readonly crops: readonly CropBox[];
  readonly imageTokens: number;
  /** Prompt tokens per prompt (same order as workload.prompts). */
  readonly promptTokens: readonly number[];
  /** Why the image cannot be used (unreadable, corrupt, over the pixel limit); its requests fail with this. */
  readonly error: string | null;
}

export interface Workload {
  /** "synthetic:<seed>:<count>" or the user's glob/dir. */
  readonly source: string;
  readonly images: readonly WorkloadImage[];
  readonly prompts: readonly string[];
  /** sha256 over the images' hashes in order: two runs on the same set share it. */
  readonly setHash: string;
  /** Paths given that were skipped (not images), counted. */
  readonly skipped: number;
}

export interface ModelDescription {
  /** e.g. "gemma3-tiny" or the export's directory name or a Hub id. */
  readonly name: string;
  /** What every screen and file shows, e.g. "gemma3-tiny, random weights: speed only". */
  readonly label: string;
  readonly path: string | null;
  readonly randomWeights: boolean;
  /** Free-form details from the backend (dtype, attention, EP, device map ...). */
  readonly details: Readonly<Record<string, string | number | boolean | null>>;
}

export interface BackendInfo {
  readonly name: string;
  readonly model: ModelDescription;
  readonly replicas: readonly { readonly replica: number; readonly devices: readonly string[] }[];
}

export interface RunSettings {
  readonly requests: number | null;
  readonly durationS: number | null;
  readonly concurrency: number | null;
  readonly rateRps: number | null;
  readonly warmup: number;
  readonly maxNewTokens: number;
  readonly batchSize: number;
  readonly batching: 'crop' | 'fifo';
  readonly replicas: number;
  readonly seed: number;
}

export interface EnvironmentInfo {
  readonly hostname: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cpuCores: number;
  readonly memoryGiB: number;
  readonly gpus: readonly { readonly index: number; readonly name: string; readonly memTotalMiB: number | null; readonly driverVersion: string | null; readonly uuid: string | null }[];
  readonly node: string;
  readonly packages: Readonly<Record<string, string>>;
  readonly gemmaBench: { readonly version: string; readonly gitCommit: string | null };
}

export type RunStatus = 'completed' | 'interrupted' | 'failed';

/**
 * The group a run belongs to: a sweep (one run per grid point; with --repeat, several per point) or the repeats of
 * one specification (`run --repeat N`).
 */
export interface RunGroup {
  readonly id: string;
  readonly kind: 'sweep' | 'repeat';
  /** This run's grid point, e.g. {"min-ratio": 2, "max-crops": 4}; {} for a repeat group. */
  readonly point: Readonly<Record<string, number | string>>;
  /** The grid point's index (a sweep) or the repeat's (a repeat group), from 0. */
  readonly index: number;
  /** Grid points (a sweep) or repeats (a repeat group). */
  readonly total: number;
  /** Which repeat of its specification this run is; absent for a run that is not repeated. */
  readonly repeat?: RunRepeat;
}

export interface RunRepeat {
  /** From 0. */
  readonly index: number;
  readonly total: number;
  /** Seeds this repeat's request order (a fresh shuffle of the images per repeat). */
  readonly orderSeed: number;
}

export const RUN_SCHEMA_VERSION = 1;

/** The saved run (DESIGN.md §7): one JSON file per run, written atomically. */
export interface RunFile {
  readonly schemaVersion: typeof RUN_SCHEMA_VERSION;
  readonly id: string;
  readonly name: string;
  readonly status: RunStatus;
  /** Why the run was interrupted or failed, and other things the user must know (a replica died ...). */
  readonly notes: readonly string[];
  readonly startedAt: string;
  readonly endedAt: string;
  readonly group: RunGroup | null;
  readonly preset: Preset;
  readonly settings: RunSettings;
  readonly backend: BackendInfo;
  readonly environment: EnvironmentInfo;
  readonly workload: Workload;
  readonly requests: readonly RequestRecord[];
  readonly summary: RunSummary;
  /** Per-GPU (or CPU) summaries and downsampled samples, and the servers' and their GPUs' where scraped. */
  readonly telemetry: RunTelemetry;
}
