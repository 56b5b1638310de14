// The live dashboard's state and its PURE reducer: engine events (plus a few local inputs of the UI itself) are
// folded into one immutable DashboardState that every panel reads. No I/O, no clock, no React: the same function
// runs in the store, in tests on recorded NDJSON streams, and could replay a saved stream offline.
// Owns: what the dashboard remembers (header facts, progress, telemetry, latency series, errors, the outcome).
// Must not import: ink, react, sharp, onnxruntime-node, node:fs, the store or the engine's run module.
import type { Preset } from '../config/preset-schema.js';
import type { ProgressSnapshot } from '../engine/accumulator.js';
import { assertNever, type EngineEvent, type WorkloadOverview } from '../engine/events.js';
import type { CpuTelemetrySample, DcgmTelemetrySample, GpuSample, LocalTelemetrySample, ServerTelemetrySample, TelemetrySample } from '../telemetry/types.js';
import type { BackendInfo, RunSettings, RunStatus, RunSummary } from '../engine/types.js';
import type { RunIntervals } from '../report/intervals.js';

/** Points kept for the latency sparkline (one per completed measured request, newest last). */
export const LATENCY_SERIES_MAX = 120;
/** Errors kept for the "last errors" panel (the count covers all of them). */
export const ERRORS_KEPT_MAX = 5;
/** Informational and warning lines kept (newest last). */
export const LOGS_KEPT_MAX = 6;

/** Inputs the UI itself adds to the engine's stream; prefixed so they can never collide with engine events. */
export type LocalInput =
  /** Something happening before the engine's run-started (workload preparation, model build). */
  | { readonly type: 'ui:preparing'; readonly message: string; readonly requested?: RequestedRun }
  /** The user asked to stop (q, Esc, Ctrl-C): shown at once, before the engine confirms. */
  | { readonly type: 'ui:stop-requested' }
  /** The event stream itself threw (preparation failed, or the engine crashed); nothing more will come. */
  | { readonly type: 'ui:stream-failed'; readonly message: string }
  /** The event stream ended (with or without run-finished). */
  | { readonly type: 'ui:stream-ended' }
  /** The finished run's 95% intervals, computed off this thread after run-finished (see pump.ts). */
  | { readonly type: 'ui:intervals'; readonly runId: string; readonly intervals: RunIntervals };

export type DashboardInput = EngineEvent | LocalInput;

/** What was asked for, known before the engine's run-started: the header shows it while the run is prepared. */
export interface RequestedRun {
  readonly preset: string;
  readonly backend: string;
  readonly model: string;
}

export type DashboardStatus = 'idle' | 'preparing' | 'running' | 'stopping' | 'finished' | 'failed';
export type Phase = Extract<EngineEvent, { type: 'phase' }>['phase'];

export interface ReplicaView {
  readonly replica: number;
  readonly devices: readonly string[];
  /** GPU indices (nvidia-smi order) the replica owns, as its replica-ready said; empty on CPU or for HTTP endpoints. */
  readonly gpuIndices: readonly number[];
  readonly loadMs: number | null;
  readonly died: string | null;
}

export type TelemetryView =
  | { readonly kind: 'gpu'; readonly atMs: number; readonly gpus: readonly GpuSample[] }
  | { readonly kind: 'cpu'; readonly atMs: number; readonly sample: CpuTelemetrySample };

export interface ErrorLine {
  /** ms since run start. */
  readonly at: number;
  readonly source: 'request' | 'engine' | 'ui';
  readonly message: string;
}

export interface LogLine {
  readonly at: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
}

export interface ProgressView {
  readonly snapshot: ProgressSnapshot;
  readonly issued: number;
  readonly inFlight: number;
  readonly queued: number;
  readonly etaS: number | null;
}

export interface FinishedView {
  readonly status: RunStatus;
  readonly summary: RunSummary;
  readonly file: string | null;
  readonly notes: readonly string[];
}

export interface DashboardState {
  readonly status: DashboardStatus;
  /** What preparation is doing, until run-started. */
  readonly preparing: string | null;
  /** The run asked for, before run-started says what runs. */
  readonly requested: RequestedRun | null;
  readonly runId: string | null;
  readonly name: string | null;
  readonly preset: Preset | null;
  readonly settings: RunSettings | null;
  readonly backend: BackendInfo | null;
  readonly workload: WorkloadOverview | null;
  /** Requests the run will issue (warmup included), or null for a duration-bound run. */
  readonly plannedRequests: number | null;
  readonly phase: Phase | null;
  /** The latest event's time, ms since run start: the dashboard's elapsed clock. */
  readonly atMs: number;
  readonly replicas: readonly ReplicaView[];
  readonly progress: ProgressView | null;
  /** Finished requests of any kind (warmup, ok, failed, cancelled), counted from request-done. */
  readonly requestsDone: number;
  readonly warmupDone: number;
  /** Failed requests (warmup ones included). */
  readonly requestsFailed: number;
  readonly telemetry: TelemetryView | null;
  readonly telemetrySamples: number;
  /** The latest /metrics scrape of each serving endpoint (openai backend), in first-seen order. */
  readonly servers: readonly ServerTelemetrySample[];
  /** The latest DCGM scrape of each endpoint's GPUs, in first-seen order. */
  readonly remoteGpus: readonly DcgmTelemetrySample[];
  /** Why telemetry shows CPUs rather than GPUs (telemetry-started's fallbackReason), or null. */
  readonly telemetryNote: string | null;
  /** E2E latency (ms) of completed measured requests, in completion order, newest last. */
  readonly latencySeries: readonly number[];
  /** Every error seen (failed requests, error logs, a failed stream). */
  readonly errorCount: number;
  readonly errors: readonly ErrorLine[];
  readonly logs: readonly LogLine[];
  readonly stopRequested: boolean;
  readonly finished: FinishedView | null;
  /** The stream failed before or without run-finished (the message says why). */
  readonly fatal: string | null;
  /** The stream has ended: nothing more will arrive. */
  readonly ended: boolean;
  /** The finished run's 95% intervals and steady-state check, once computed (after run-finished). */
  readonly intervals: RunIntervals | null;
}

export const initialDashboardState: DashboardState = {
  status: 'idle',
  preparing: null,
  requested: null,
  runId: null,
  name: null,
  preset: null,
  settings: null,
  backend: null,
  workload: null,
  plannedRequests: null,
  phase: null,
  atMs: 0,
  replicas: [],
  progress: null,
  requestsDone: 0,
  warmupDone: 0,
  requestsFailed: 0,
  telemetry: null,
  telemetrySamples: 0,
  servers: [],
  remoteGpus: [],
  telemetryNote: null,
  latencySeries: [],
  errorCount: 0,
  errors: [],
  logs: [],
  stopRequested: false,
  finished: null,
  fatal: null,
  ended: false,
  intervals: null,
};

/** GPU index -> replica, from the replicas that said which GPUs they own. */
export function replicaOfGpu(replicas: readonly ReplicaView[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of replicas) for (const g of r.gpuIndices) if (!(g in out)) out[g] = r.replica;
  return out;
}

/** What the telemetry panel draws for a sample. */
export function telemetryViewOf(sample: LocalTelemetrySample): TelemetryView {
  return sample.source === 'nvidia-smi' ? { kind: 'gpu', atMs: sample.atMs, gpus: sample.gpus } : { kind: 'cpu', atMs: sample.atMs, sample };
}

/** Replaces the entry of the same key (keeping first-seen order) or appends. */
function upsert<T>(list: readonly T[], item: T, key: (x: T) => string): readonly T[] {
  const k = key(item);
  const i = list.findIndex((x) => key(x) === k);
  if (i < 0) return [...list, item];
  const next = list.slice();
  next[i] = item;
  return next;
}

/** Folds a telemetry sample into the state: local (GPUs or CPUs), a server's /metrics, or a DCGM exporter's GPUs. */
function withSample(s: DashboardState, sample: TelemetrySample): DashboardState {
  switch (sample.source) {
    case 'server':
      return { ...s, servers: upsert(s.servers, sample, (x) => x.server.endpoint) };
    case 'dcgm':
      return { ...s, remoteGpus: upsert(s.remoteGpus, sample, (x) => x.endpoint) };
    default:
      return { ...s, telemetry: telemetryViewOf(sample), telemetrySamples: s.telemetrySamples + 1 };
  }
}

const pushCapped = <T>(list: readonly T[], item: T, max: number): readonly T[] => {
  const next = list.length >= max ? list.slice(list.length - max + 1) : list.slice();
  next.push(item);
  return next;
};

const later = (s: DashboardState, at: number): number => (Number.isFinite(at) && at > s.atMs ? at : s.atMs);

/** The status once the stream has said the run is over (or not): a stop request shows as "stopping" until then. */
const runningStatus = (s: DashboardState): DashboardStatus => (s.stopRequested ? 'stopping' : 'running');

/**
 * Folds one input into the state. Pure and total:
 * events after run-finished still update counters but never reopen the run.
 */
export function reduce(s: DashboardState, e: DashboardInput): DashboardState {
  switch (e.type) {
    case 'ui:preparing':
      if (s.runId !== null || s.ended) return s;
      return { ...s, status: s.stopRequested ? 'stopping' : 'preparing', preparing: e.message, requested: e.requested ?? s.requested };
    case 'ui:stop-requested':
      if (s.stopRequested || s.finished || s.ended) return s;
      return { ...s, stopRequested: true, status: 'stopping' };
    case 'ui:stream-failed': {
      const errors = pushCapped<ErrorLine>(s.errors, { at: s.atMs, source: 'ui', message: e.message }, ERRORS_KEPT_MAX);
      return { ...s, fatal: e.message, ended: true, status: s.finished ? 'finished' : 'failed', errors, errorCount: s.errorCount + 1 };
    }
    case 'ui:intervals':
      return e.runId === s.runId && s.finished ? { ...s, intervals: e.intervals } : s;
    case 'ui:stream-ended':
      if (s.ended) return s;
      if (s.finished) return { ...s, ended: true };
      // Ended without run-finished: a stop before the run started, or a stream cut short.
      return { ...s, ended: true, status: 'failed', fatal: s.fatal ?? (s.stopRequested ? 'stopped before the run started: nothing was measured or saved' : 'the run ended without a result') };
    case 'run-started':
      return {
        ...s,
        status: runningStatus(s),
        preparing: null,
        runId: e.runId,
        name: e.name,
        preset: e.preset,
        settings: e.settings,
        backend: e.backend,
        workload: e.workload,
        plannedRequests: e.plannedRequests,
        atMs: later(s, e.at),
        // Which GPUs each replica owns arrives with its replica-ready.
        replicas: e.backend.replicas.map((r) => ({ replica: r.replica, devices: r.devices, gpuIndices: [], loadMs: null, died: null })),
      };
    case 'replica-ready': {
      const view: ReplicaView = { replica: e.replica, devices: e.devices, gpuIndices: e.gpuIndices, loadMs: e.loadMs, died: null };
      const replicas = [...s.replicas.filter((r) => r.replica !== e.replica), view].sort((a, b) => a.replica - b.replica);
      return { ...s, replicas, atMs: later(s, e.at) };
    }
    case 'replica-died':
      return { ...s, replicas: s.replicas.map((r) => (r.replica === e.replica ? { ...r, died: e.reason } : r)), atMs: later(s, e.at) };
    case 'phase':
      return { ...s, phase: e.phase, atMs: later(s, e.at) };
    case 'request-done': {
      const r = e.record;
      const failed = r.status === 'failed';
      let next: DashboardState = {
        ...s,
        atMs: later(s, e.at),
        requestsDone: s.requestsDone + 1,
        warmupDone: s.warmupDone + (r.warmup ? 1 : 0),
        requestsFailed: s.requestsFailed + (failed ? 1 : 0),
      };
      if (failed) {
        const message = `request ${r.id}${r.warmup ? ' (warmup)' : ''} failed: ${r.error ?? 'no error message'}`;
        next = { ...next, errorCount: s.errorCount + 1, errors: pushCapped<ErrorLine>(s.errors, { at: e.at, source: 'request', message }, ERRORS_KEPT_MAX) };
      } else if (r.status === 'ok' && !r.warmup && r.e2eMs !== null && Number.isFinite(r.e2eMs)) {
        next = { ...next, latencySeries: pushCapped(s.latencySeries, r.e2eMs, LATENCY_SERIES_MAX) };
      }
      return next;
    }
    case 'progress':
      return {
        ...s,
        atMs: later(s, e.at),
        progress: { snapshot: e.snapshot, issued: e.issued, inFlight: e.inFlight, queued: e.queued, etaS: e.etaS },
      };
    case 'telemetry-started':
      return { ...s, telemetryNote: e.fallbackReason, atMs: later(s, e.at) };
    case 'telemetry':
      return { ...withSample(s, e.sample), atMs: later(s, e.at) };
    case 'log': {
      const line: LogLine = { at: e.at, level: e.level, message: e.message };
      const base = { ...s, atMs: later(s, e.at) };
      // Before run-started, logs are preparation progress (model build, workload).
      const preparing = s.runId === null && !s.ended && e.level === 'info' ? e.message : s.preparing;
      if (e.level === 'error') {
        return { ...base, preparing, errorCount: s.errorCount + 1, errors: pushCapped<ErrorLine>(s.errors, { at: e.at, source: 'engine', message: e.message }, ERRORS_KEPT_MAX) };
      }
      return { ...base, preparing, status: s.runId === null && s.status === 'idle' ? 'preparing' : s.status, logs: pushCapped(s.logs, line, LOGS_KEPT_MAX) };
    }
    case 'run-finished':
      return {
        ...s,
        status: 'finished',
        atMs: later(s, e.at),
        phase: null,
        finished: { status: e.status, summary: e.summary, file: e.file, notes: e.notes },
      };
    default:
      return assertNever(e);
  }
}

/** Folds a whole recorded stream (tests, replays). */
export function reduceAll(events: Iterable<DashboardInput>, from: DashboardState = initialDashboardState): DashboardState {
  let s = from;
  for (const e of events) s = reduce(s, e);
  return s;
}

/** Whether an input must reach the screen at once rather than wait for the next notify tick. */
export function isUrgent(e: DashboardInput): boolean {
  return e.type === 'run-finished' || e.type === 'ui:stop-requested' || e.type === 'ui:stream-failed' || e.type === 'ui:stream-ended' || e.type === 'ui:intervals';
}
