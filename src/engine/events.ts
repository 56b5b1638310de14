// The engine's event stream: a tagged union of plain, JSON-serialisable events. The same events feed the Ink
// store, the NDJSON printer of headless mode (--json) and recorded test fixtures. `at` is ms since run start.
import type { Preset } from '../config/preset-schema.js';
import type { GpuInfo, TelemetrySample, TelemetrySource } from '../telemetry/types.js';
import type { ProgressSnapshot } from './accumulator.js';
import type { BackendInfo, RequestRecord, RunFile, RunSettings, RunStatus, RunSummary } from './types.js';

export interface WorkloadOverview {
  readonly source: string;
  readonly images: number;
  readonly prompts: number;
  readonly skipped: number;
  /** Images by crop count under the run's pan-and-scan settings, e.g. {"0": 4, "3": 2}. */
  readonly cropsHistogram: Readonly<Record<string, number>>;
  readonly setHash: string;
}

export type EngineEvent =
  | {
      readonly type: 'run-started';
      readonly at: number;
      readonly runId: string;
      readonly name: string;
      readonly startedAt: string;
      readonly preset: Preset;
      readonly settings: RunSettings;
      readonly backend: BackendInfo;
      readonly workload: WorkloadOverview;
      /** Total requests that will be issued (warmup included), or null for a duration-bound run. */
      readonly plannedRequests: number | null;
    }
  | {
      readonly type: 'replica-ready';
      readonly at: number;
      readonly replica: number;
      readonly devices: readonly string[];
      /** GPU indices (nvidia-smi order) the replica owns: the telemetry panel groups GPUs by them. Empty on CPU. */
      readonly gpuIndices: readonly number[];
      readonly loadMs: number;
    }
  | {
      readonly type: 'telemetry-started';
      readonly at: number;
      /** What is sampled; null when telemetry is off. */
      readonly source: TelemetrySource | null;
      readonly gpus: readonly GpuInfo[];
      /** Why CPUs are shown instead of GPUs (no nvidia-smi, no driver, CPU requested ...), or null. */
      readonly fallbackReason: string | null;
    }
  | { readonly type: 'phase'; readonly at: number; readonly phase: 'loading' | 'warmup' | 'measuring' | 'draining' | 'saving' }
  | { readonly type: 'request-done'; readonly at: number; readonly record: RequestRecord }
  | { readonly type: 'progress'; readonly at: number; readonly snapshot: ProgressSnapshot; readonly issued: number; readonly inFlight: number; readonly queued: number; readonly etaS: number | null }
  | { readonly type: 'telemetry'; readonly at: number; readonly sample: TelemetrySample }
  | { readonly type: 'replica-died'; readonly at: number; readonly replica: number; readonly reason: string }
  | { readonly type: 'log'; readonly at: number; readonly level: 'info' | 'warn' | 'error'; readonly message: string }
  | {
      readonly type: 'run-finished';
      readonly at: number;
      readonly runId: string;
      readonly status: RunStatus;
      readonly summary: RunSummary;
      /**
       * The complete run file, for the store sink to save (null when no request ran: nothing to keep). The engine
       * saves nothing itself; presenters that print events (NDJSON) leave it out, as request-done carried its records.
       */
      readonly run: RunFile | null;
      /** Where the run was saved: null from the engine, set by the store sink (still null if saving failed, the reason in notes). */
      readonly file: string | null;
      readonly notes: readonly string[];
    };

export type EngineEventType = EngineEvent['type'];

/** Exhaustiveness guard for switches over events. */
export function assertNever(x: never): never {
  throw new Error(`unhandled event: ${JSON.stringify(x)}`);
}
