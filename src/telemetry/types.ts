// Telemetry types: what the samplers emit, what a saved run keeps, and the problems they report.
// Everything here is a plain JSON-serialisable object (no Maps, no classes, no NaN): samples travel in engine
// events, the NDJSON printer and run files unchanged. Missing readings are `null`, never NaN or undefined, so a
// GPU that does not report power looks the same in memory, on the wire and on disk.
import type { RemoteGpuSample } from './dcgm.js';
import type { ServerMetricsRates, ServerMetricsSample } from './server-metrics.js';

/**
 * How a GPU showed up in one tick:
 * - `ok`: nvidia-smi printed a row for it (individual fields may still be null: `[N/A]`, `[Not Supported]`);
 * - `lost`: nvidia-smi said `[GPU is lost]` (a row full of it, or "Unable to determine the device handle");
 * - `missing`: the GPU was seen earlier in the run but printed no row this tick.
 */
export type GpuState = 'ok' | 'lost' | 'missing';

/** One GPU in one tick: a row of `nvidia-smi --query-gpu=...` (see parse-nvidia-smi.ts for the fields). */
export interface GpuSample {
  /** nvidia-smi's index: PCI bus order, equal to CUDA ordinals only under CUDA_DEVICE_ORDER=PCI_BUS_ID. */
  index: number;
  uuid: string | null;
  name: string | null;
  /** `utilization.gpu`: % of the driver's last sample period with any kernel running (not SM occupancy). */
  utilPct: number | null;
  memUsedMiB: number | null;
  memTotalMiB: number | null;
  powerW: number | null;
  tempC: number | null;
  smClockMHz: number | null;
  state: GpuState;
}

/** A GPU as recorded once per run (environment section of the run file). */
export interface GpuInfo {
  index: number;
  uuid: string | null;
  name: string | null;
  memTotalMiB: number | null;
  driverVersion: string | null;
  /** As nvidia-smi prints it, e.g. `00000000:07:00.0`. */
  pciBusId: string | null;
}

/** One logical CPU's utilisation over the last interval; null when the OS reported no elapsed time for it. */
export interface CpuCoreSample {
  core: number;
  utilPct: number | null;
}

/** A tick of the GPU sampler: one row per GPU known to the run, ordered by index. */
export interface GpuTelemetrySample {
  /** Wall-clock ms (performance.timeOrigin + performance.now()) when the tick's first row was received. */
  atMs: number;
  source: 'nvidia-smi';
  gpus: GpuSample[];
}

/** A tick of the CPU fallback sampler. */
export interface CpuTelemetrySample {
  /** Wall-clock ms (performance.timeOrigin + performance.now()) when the snapshot was taken. */
  atMs: number;
  source: 'cpu';
  cpus: CpuCoreSample[];
  /** All cores together (busy time over total time, summed over cores); null when no time elapsed. */
  utilPct: number | null;
  /** Resident set size of this (gemma-bench) process. */
  processRssMiB: number;
  /** System memory in use: total - free as the OS reports it. */
  memUsedMiB: number;
  memTotalMiB: number;
}

/** One scrape of a serving endpoint's /metrics (vLLM or SGLang names), with rates since its previous scrape. */
export interface ServerTelemetrySample {
  atMs: number;
  source: 'server';
  server: ServerMetricsSample;
  /** Counter deltas since the previous scrape of the same endpoint; null for its first scrape. */
  rates: ServerMetricsRates | null;
}

/** One scrape of a DCGM exporter: the GPUs behind one endpoint (remote servers; local GPUs use nvidia-smi). */
export interface DcgmTelemetrySample {
  atMs: number;
  source: 'dcgm';
  /** The endpoint (replica) these GPUs serve, display form. */
  endpoint: string;
  gpus: RemoteGpuSample[];
}

export type LocalTelemetrySample = GpuTelemetrySample | CpuTelemetrySample;
export type TelemetrySample = LocalTelemetrySample | ServerTelemetrySample | DcgmTelemetrySample;
/** What the local sampler watches: this machine's GPUs, or its CPUs when there are none. */
export type TelemetrySource = LocalTelemetrySample['source'];

/** A serving endpoint over a run, from its /metrics scrapes. */
export interface ServerSummary {
  endpoint: string;
  kind: ServerMetricsSample['kind'];
  samples: number;
  runningMax: number | null;
  waitingMax: number | null;
  kvCacheUsageMean: number | null;
  kvCacheUsageMax: number | null;
  /** Hits / queries over the whole run (first to last scrape); null without queries or after a counter reset. */
  prefixCacheHitRate: number | null;
  mmCacheHitRate: number | null;
  preemptions: number | null;
  promptTokensPerS: number | null;
  generationTokensPerS: number | null;
}

/** A line of nvidia-smi output that could not be used (returned by the parsers; never thrown). */
export interface ParseProblem {
  message: string;
  /** The offending line, trimmed (truncated when very long). */
  line: string;
  /** 1-based line number when parsing a whole text. */
  lineNumber?: number;
}

export type TelemetryProblemKind =
  | 'parse' // a line nvidia-smi printed that we could not read
  | 'gpu-missing' // a GPU stopped printing rows
  | 'gpu-lost' // nvidia-smi says the GPU is lost
  | 'gpu-back' // a missing or lost GPU reports again
  | 'stderr' // nvidia-smi said something on stderr
  | 'exited' // the nvidia-smi loop ended without stop()
  | 'spawn' // the nvidia-smi loop could not be started
  | 'fallback' // why telemetry shows CPU instead of GPUs
  | 'suppressed' // further problems of a kind are no longer reported
  | 'scrape'; // a /metrics or DCGM page could not be read (or answers again)

export interface TelemetryProblem {
  /** Wall-clock ms (performance.timeOrigin + performance.now()). */
  atMs: number;
  source: TelemetrySample['source'];
  kind: TelemetryProblemKind;
  level: 'info' | 'warn' | 'error';
  message: string;
  gpuIndex?: number;
  line?: string;
}

/** Per-GPU summary saved with a run. Every metric is null when the GPU never gave a reading for it. */
export interface GpuSummary {
  index: number;
  uuid: string | null;
  name: string | null;
  /** The replica this GPU served, when the caller's replicaOfGpu mapping names it. */
  replica?: number;
  /** Ticks in which the GPU printed a row (state ok). */
  samples: number;
  /** Ticks in which the GPU was missing or lost. */
  missingSamples: number;
  utilMeanPct: number | null;
  utilMaxPct: number | null;
  memPeakMiB: number | null;
  memTotalMiB: number | null;
  powerMeanW: number | null;
  powerMaxW: number | null;
  tempMaxC: number | null;
}

export interface CpuCoreSummary {
  core: number;
  utilMeanPct: number | null;
  utilMaxPct: number | null;
}

/** CPU summary saved with a run when telemetry fell back to the CPU sampler. */
export interface CpuSummary {
  samples: number;
  cores: number;
  /** Over all cores together. */
  utilMeanPct: number | null;
  utilMaxPct: number | null;
  perCore: CpuCoreSummary[];
  rssPeakMiB: number | null;
  memPeakMiB: number | null;
  memTotalMiB: number | null;
}

/** Everything the summariser knows at the end of a run. */
export interface TelemetrySummary {
  source: TelemetrySource | null;
  samples: number;
  firstAtMs: number | null;
  lastAtMs: number | null;
  gpus: GpuSummary[];
  cpu: CpuSummary | null;
}

/** A GPU behind a remote endpoint over a run (from its DCGM exporter). */
export interface RemoteGpuSummary extends GpuSummary {
  endpoint: string;
  host: string | null;
}

/** The telemetry a run file keeps (src/engine/run-benchmark.ts builds it). */
export interface RunTelemetry {
  source: TelemetrySource | null;
  fallbackReason: string | null;
  gpus: GpuInfo[];
  summary: TelemetrySummary;
  /** Local samples (nvidia-smi or CPU), downsampled. */
  samples: LocalTelemetrySample[];
  /** Serving endpoints' /metrics (openai backend): per-endpoint summaries and downsampled scrapes. */
  servers?: { summary: ServerSummary[]; samples: ServerTelemetrySample[] };
  /** GPUs behind remote endpoints (--dcgm-url): per-GPU summaries and downsampled scrapes. */
  remoteGpus?: { summary: RemoteGpuSummary[]; samples: DcgmTelemetrySample[] };
}

/**
 * GPU index -> replica id, supplied by whoever built the topology. A plain object (JSON-friendly) or a Map.
 * GPUs not named belong to no replica (shown apart, e.g. other users' jobs or idle spares).
 */
export type ReplicaOfGpu = Readonly<Record<number, number>> | ReadonlyMap<number, number>;
