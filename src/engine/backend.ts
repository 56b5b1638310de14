// The contract between the engine and an inference backend (onnx worker threads, transformers Python workers,
// OpenAI-compatible servers). The engine schedules micro-batches onto replicas; a replica runs them for real and
// reports per-request timings. Backends never import the UI and never print: they log through the callback.
import type { z } from 'zod';
import type { Field } from '../config/fields.js';
import type { EngineKnobs } from '../config/preset-schema.js';
import type { PreprocessSettings } from '../panscan/preprocess.js';
import type { RemoteTargets } from '../telemetry/telemetry.js';
import type { ModelCostInfo } from './roofline.js';
import type { GpuPeakMemory, ModelDescription } from './types.js';

export interface InferRequest {
  readonly id: number;
  readonly imagePath: string;
  readonly prompt: string;
  readonly maxNewTokens: number;
  /** Per request, as vLLM takes mm_processor_kwargs per request: a sweep reuses loaded replicas across points. */
  readonly preprocess: PreprocessSettings;
}

export interface InferResult {
  readonly id: number;
  readonly ok: boolean;
  readonly error: string | null;
  readonly crops: number;
  readonly imageTokens: number;
  readonly promptTokens: number;
  readonly outputTokens: number;
  readonly preprocessMs: number | null;
  readonly visionMs: number | null;
  /** When the replica started on this request (clock.ts nowMs()). */
  readonly startedAt: number | null;
  /**
   * When the request left for a server (HTTP: the POST, its body already built). TTFT counts from it, as vllm bench
   * serve's does; without it TTFT counts from the dispatch to the replica.
   */
  readonly sentAt?: number;
  /** Things the user should know about this request's measurement (usage missing, image repeated ...). */
  readonly notes?: readonly string[];
  /** nowMs() at which each output token was available. */
  readonly tokenTimes: readonly number[];
  readonly tokenIds: readonly number[];
  /** Peak GPU memory over the micro-batch, per GPU of the replica, where the backend measures it. */
  readonly peakMemory?: readonly GpuPeakMemory[];
}

/**
 * Optional per-call hooks for a replica that can report tokens while it generates (the onnx backend; the serve
 * command uses them to stream). Without hooks a replica behaves exactly as before.
 */
export interface InferHooks {
  /** Called on the main thread as each output token is produced (tokenIndex counts from 0 per request). */
  onToken?(requestId: number, tokenIndex: number, tokenId: number): void;
  /** Abort to stop the micro-batch after its current decode step; its results then hold the tokens made so far. */
  signal?: AbortSignal;
}

export interface Replica {
  readonly id: number;
  /** What it runs on, e.g. ["cpu:1 thread"], ["cuda:0"], ["gpu:2", "gpu:3"], ["http://host:8000"]. */
  readonly devices: readonly string[];
  /** GPU indices (nvidia-smi order) this replica owns, for grouping telemetry; empty on CPU. */
  readonly gpuIndices: readonly number[];
  readonly loadMs: number;
  /** Micro-batches it runs at once: 1 for a worker thread or a Python process, more for an HTTP server. */
  readonly capacity: number;
  /**
   * Runs one micro-batch. Resolves with one result per request (failed requests carry their error); rejects only
   * if the replica itself died, with the reason.
   */
  infer(batch: readonly InferRequest[], hooks?: InferHooks): Promise<InferResult[]>;
  /** Resolves with the reason if the replica stops unexpectedly; never resolves otherwise. */
  readonly died: Promise<string>;
  close(): Promise<void>;
}

export type LogFn = (level: 'info' | 'warn' | 'error', message: string) => void;

/** The shape of a run's replicas (replicas "auto" already resolved). */
export interface BackendTopology {
  readonly replicas: number;
  readonly gpusPerReplica: number;
}

export interface BackendStartOptions {
  readonly replicas: number;
  readonly gpusPerReplica: number;
  readonly log: LogFn;
  readonly signal?: AbortSignal;
}

export interface Backend {
  /** The registered name (src/engine/backends/registry.ts). */
  readonly name: string;
  /** What the run's telemetry watches: local GPUs (nvidia-smi, CPU as the fallback) or this machine's CPUs. */
  readonly telemetry: 'gpu' | 'cpu';
  /** Known once the model is resolved; start() may refine details (device map, dtype...). */
  model(): ModelDescription;
  /**
   * The model's architecture and weight size for the run's roofline (src/engine/roofline.ts), or null when it is not
   * a known Gemma 3 architecture. Optional: without it the roofline says the model's cost is unknown.
   */
  costModel?(): ModelCostInfo | null;
  /**
   * The replica count for a topology: a number stays as it is; "auto" becomes what the backend can run (visible
   * GPUs / gpusPerReplica for transformers). Checked before anything loads: a topology that does not fit throws.
   */
  resolveReplicas(gpusPerReplica: number, replicas: number | 'auto', signal?: AbortSignal): Promise<number>;
  /**
   * Checks, before anything is emitted or loaded, what start() will need (an interpreter and its packages, an
   * execution provider, enough GPUs for the topology). A problem the user must fix throws an error with
   * `stage: "configuration"` (or a ConfigError): exit code 2, one message, no run. Optional; start() may repeat it.
   */
  preflight?(topology: BackendTopology, signal?: AbortSignal): Promise<void>;
  /** Starts every replica (in parallel where possible) and resolves when all are ready. */
  start(opts: BackendStartOptions): Promise<Replica[]>;
  /**
   * Work that must happen once the workload is known and before any request is timed: the openai backend encodes
   * the images it will send (one unique variant per request). `requests` is how many requests will name the image,
   * or null when the run is bound by time.
   */
  prepareRequests?(plan: readonly { readonly path: string; readonly requests: number | null }[], o: { readonly log: LogFn; readonly signal?: AbortSignal }): Promise<void>;
  /** Pages to scrape while the run goes (serving engines' /metrics, DCGM exporters of their GPUs). */
  remoteTelemetry?(): RemoteTargets;
  /** Releases what the backend holds beyond its replicas (connections, prepared files). Safe to call twice. */
  close?(): Promise<void>;
}

/** What a backend may need of the run when it is created. */
export interface BackendContext {
  readonly log: LogFn;
  /** Environment of child processes and the data directory (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** The preset's engine knobs (precision, attention, KV cache). */
  readonly engine: EngineKnobs;
  /** The run's micro-batch size (a backend may warm or compile for it before it reports ready). */
  readonly batchSize: number;
  readonly seed: number;
}

/**
 * A backend as the registry knows it: its name, its own flags and typed options, and a lazy factory. The
 * definition module is light (no sharp, no onnxruntime, no child processes): the CLI reads it for --help and the
 * run specification for validation; the implementation loads only in create().
 */
export interface BackendDefinition<N extends string = string, O = unknown> {
  readonly name: N;
  /** A few words for --help and the home screen. */
  readonly summary: string;
  /**
   * What its replicas run on by default, for the home screen's topology phrase: the CPU (one replica, whatever
   * the preset's GPUs per replica), GPU groups (the preset's topology), or one replica per server endpoint.
   */
  readonly runsOn?: 'cpu' | 'gpu' | 'endpoints';
  /** Its own flags; the CLI offers them on run and sweep. A flag another backend also declares is shown once. */
  readonly fields: readonly Field[];
  /** Its options with defaults applied; strict, with messages that name the flags. */
  readonly options: z.ZodType<O>;
  /** Slow preparation that may run off the interactive screen's thread before the run (building a model). */
  prepare?(options: O, ctx: BackendContext): Promise<void>;
  /** Creates the backend; problems with the options are configuration errors (exit code 2). */
  create(options: O, ctx: BackendContext): Promise<Backend>;
}

/** A failed result for a request that never ran (replica died, cancelled, preprocessing refused...). */
export function failedResult(id: number, error: string): InferResult {
  return { id, ok: false, error, crops: 0, imageTokens: 0, promptTokens: 0, outputTokens: 0, preprocessMs: null, visionMs: null, startedAt: null, tokenTimes: [], tokenIds: [] };
}
