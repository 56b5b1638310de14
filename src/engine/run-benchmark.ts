// Run orchestration: starts (or reuses) replicas and telemetry, drives the scheduler, folds records into the
// RunAccumulator, and yields the engine's events as an async stream. At the end it writes the run file once,
// atomically, whatever happened (completed, interrupted, failed), so nothing measured is lost.
import type { Preset } from '../config/preset-schema.js';
import type { PreprocessSettings } from '../panscan/preprocess.js';
import { saveRun, uniqueRunId } from '../store/run-store.js';
import { RunAccumulator } from './accumulator.js';
import type { Backend, Replica } from './backend.js';
import { nowMs } from '../util/clock.js';
import { collectEnvironment, gitCommit } from './environment.js';
import type { EngineEvent, WorkloadOverview } from './events.js';
import { Scheduler, type LoadMode, type PlannedRequest, type StopRule } from './scheduler.js';
import { downsample, replicaOfGpuFromGroups, summarizeTelemetry } from '../telemetry/summary.js';
import { startTelemetry, type Telemetry } from '../telemetry/telemetry.js';
import type { GpuInfo, TelemetrySample } from '../telemetry/types.js';
import type { BackendInfo, RequestRecord, RunFile, RunGroup, RunSettings, RunStatus, Workload } from './types.js';
import { workloadCropsHistogram } from './workload-summary.js';
import { RUN_SCHEMA_VERSION } from './types.js';

export const PROGRESS_INTERVAL_MS = 250;
export const TELEMETRY_SAVED_POINTS_MAX = 600;

export interface RunConfig {
  readonly name: string;
  readonly preset: Preset;
  readonly settings: RunSettings;
  readonly load: LoadMode;
  readonly stop: StopRule;
  readonly preprocess: PreprocessSettings;
  readonly workload: Workload;
  readonly group: RunGroup | null;
  readonly gpusPerReplica: number;
  readonly telemetry: { readonly enabled: boolean; readonly intervalMs?: number; readonly nvidiaSmiPath?: string; readonly preferCpu?: boolean };
  /** Where run files go (default: the store's runs directory). */
  readonly runsDir?: string;
  readonly cancelGraceMs?: number;
}

export interface RunHandles {
  readonly backend: Backend;
  /** Already started replicas to reuse (a sweep); when absent, the run starts its own and closes them. */
  readonly replicas?: readonly Replica[];
  readonly signal?: AbortSignal;
}

/** A small push-pull channel: producers push events, the consumer iterates. */
class Channel<T> {
  private items: T[] = [];
  private waiter: (() => void) | null = null;
  private closed = false;
  push(x: T): void {
    this.items.push(x);
    this.waiter?.();
    this.waiter = null;
  }
  close(): void {
    this.closed = true;
    this.waiter?.();
    this.waiter = null;
  }
  async *drain(): AsyncGenerator<T> {
    for (;;) {
      // Take the whole backlog at once: shift() on a long backlog is O(n) per event.
      const batch = this.items;
      this.items = [];
      for (const x of batch) yield x;
      if (this.items.length > 0) continue;
      if (this.closed) return;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
}

export function runBenchmark(cfg: RunConfig, h: RunHandles): AsyncGenerator<EngineEvent> {
  const ch = new Channel<EngineEvent>();
  void execute(cfg, h, (e) => ch.push(e)).finally(() => ch.close());
  return ch.drain();
}

async function execute(cfg: RunConfig, h: RunHandles, emit: (e: EngineEvent) => void): Promise<void> {
  const t0 = nowMs();
  const startedAt = new Date();
  const at = () => nowMs() - t0;
  const notes: string[] = [];
  const log = (level: 'info' | 'warn' | 'error', message: string) => {
    if (level !== 'info') notes.push(message);
    emit({ type: 'log', at: at(), level, message });
  };
  const commit = gitCommit();
  const runId = await uniqueRunId(cfg.name, startedAt, ...(cfg.runsDir ? [cfg.runsDir] : []));
  const acc = new RunAccumulator();
  const records: RequestRecord[] = [];
  const samples: TelemetrySample[] = [];
  let telemetry: Telemetry | null = null;
  let gpus: GpuInfo[] = [];
  let replicas: readonly Replica[] = h.replicas ?? [];
  const ownReplicas = h.replicas === undefined;
  let backendInfo: BackendInfo = { name: h.backend.name, model: h.backend.model(), replicas: replicas.map((r) => ({ replica: r.id, devices: r.devices })) };
  let status: RunStatus = 'completed';
  let progressTimer: NodeJS.Timeout | null = null;
  let replicaOfGpu: Record<number, number> | undefined;

  const overview: WorkloadOverview = {
    source: cfg.workload.source,
    images: cfg.workload.images.length,
    prompts: cfg.workload.prompts.length,
    skipped: cfg.workload.skipped,
    cropsHistogram: workloadCropsHistogram(cfg.workload),
    setHash: cfg.workload.setHash,
  };
  const planned = cfg.stop.kind === 'requests' ? cfg.stop.count + cfg.settings.warmup : null;
  emit({ type: 'run-started', at: at(), runId, name: cfg.name, startedAt: startedAt.toISOString(), preset: cfg.preset, settings: cfg.settings, backend: backendInfo, workload: overview, plannedRequests: planned });
  for (const img of cfg.workload.images) if (img.error) log('warn', `${img.path}: ${img.error} (its requests will fail)`);
  if (cfg.workload.skipped > 0) log('info', `skipped ${cfg.workload.skipped} file(s) that are not images`);

  try {
    if (cfg.telemetry.enabled) {
      telemetry = await startTelemetry({
        ...(cfg.telemetry.intervalMs ? { intervalMs: cfg.telemetry.intervalMs } : {}),
        ...(cfg.telemetry.nvidiaSmiPath ? { nvidiaSmiPath: cfg.telemetry.nvidiaSmiPath } : {}),
        ...(cfg.telemetry.preferCpu ? { preferCpu: true } : {}),
        onSample: (s) => {
          const rel = { ...s, atMs: s.atMs - t0 } as TelemetrySample;
          samples.push(rel);
          emit({ type: 'telemetry', at: at(), sample: rel });
        },
        onProblem: (p) => emit({ type: 'log', at: at(), level: p.level === 'info' ? 'info' : 'warn', message: p.message }),
      });
      gpus = telemetry.gpus ?? [];
    }

    if (ownReplicas) {
      emit({ type: 'phase', at: at(), phase: 'loading' });
      const replicaCount = cfg.settings.replicas;
      replicas = await h.backend.start({ replicas: replicaCount, gpusPerReplica: cfg.gpusPerReplica, log, ...(h.signal ? { signal: h.signal } : {}) });
    }
    for (const r of replicas) {
      acc.addReplica(r.id, r.devices);
      emit({ type: 'replica-ready', at: at(), replica: r.id, devices: r.devices, loadMs: r.loadMs });
    }
    backendInfo = { name: h.backend.name, model: h.backend.model(), replicas: replicas.map((r) => ({ replica: r.id, devices: r.devices })) };
    // Telemetry summaries group GPUs by the replica that owns them (inside the try: a GPU in two groups is an error).
    replicaOfGpu = replicaOfGpuFromGroups(replicas.map((r) => r.gpuIndices));

    const images = cfg.workload.images;
    const prompts = cfg.workload.prompts;
    const nextRequest = (seq: number, warmup: boolean): PlannedRequest => {
      const imageIndex = seq % images.length;
      const promptIndex = Math.floor(seq / images.length) % prompts.length;
      const img = images[imageIndex];
      return {
        id: seq,
        imagePath: img.path,
        prompt: prompts[promptIndex],
        maxNewTokens: cfg.settings.maxNewTokens,
        preprocess: cfg.preprocess,
        imageIndex,
        promptIndex,
        crops: img.crops.length,
        imageTokens: img.imageTokens,
        promptTokens: img.promptTokens[promptIndex] ?? 0,
        warmup,
      };
    };
    const sched = new Scheduler(
      replicas,
      nextRequest,
      {
        load: cfg.load,
        stop: cfg.stop,
        warmup: cfg.settings.warmup,
        batchSize: cfg.settings.batchSize,
        policy: cfg.settings.batching,
        seed: cfg.settings.seed,
        t0,
        ...(h.signal ? { signal: h.signal } : {}),
        ...(cfg.cancelGraceMs !== undefined ? { cancelGraceMs: cfg.cancelGraceMs } : {}),
      },
      {
        onRecord: (rec) => {
          records.push(rec);
          acc.add(rec);
          emit({ type: 'request-done', at: at(), record: rec });
        },
        onReplicaDied: (replica, reason) => {
          acc.markReplicaDied(replica, reason);
          log('error', `replica ${replica} died: ${reason}; its in-flight requests fail and the run goes on with the others`);
          emit({ type: 'replica-died', at: at(), replica, reason });
        },
        onPhase: (phase) => emit({ type: 'phase', at: at(), phase }),
      },
    );
    const progress = () => {
      const st = sched.state();
      const snapshot = acc.snapshot({ inFlight: st.inFlight, nowMs: at() });
      emit({ type: 'progress', at: at(), snapshot, issued: st.issued, inFlight: st.inFlight, queued: st.queued, etaS: eta(cfg, records, at()) });
    };
    progressTimer = setInterval(progress, PROGRESS_INTERVAL_MS);
    const outcome = await sched.run();
    clearInterval(progressTimer);
    progressTimer = null;
    progress();
    if (outcome.cancelled) {
      status = 'interrupted';
      notes.push('interrupted: stopped by the user; requests that had not finished are recorded as cancelled');
    } else if (outcome.noReplicaLeft) {
      status = 'failed';
      notes.push('failed: every replica died');
    }
  } catch (err) {
    status = h.signal?.aborted ? 'interrupted' : 'failed';
    log('error', (err as Error).message);
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    emit({ type: 'phase', at: at(), phase: 'saving' });
    if (ownReplicas) await Promise.allSettled(replicas.map((r) => r.close()));
    await telemetry?.stop().catch(() => {});
  }

  const summary = acc.summary();
  if (status === 'completed' && summary.completed === 0 && summary.failed > 0) {
    status = 'failed';
    notes.push('failed: no measured request completed');
  }
  const run: RunFile = {
    schemaVersion: RUN_SCHEMA_VERSION,
    id: runId,
    name: cfg.name,
    status,
    notes,
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    group: cfg.group,
    preset: cfg.preset,
    settings: cfg.settings,
    backend: backendInfo,
    environment: collectEnvironment(gpus, await commit),
    workload: cfg.workload,
    requests: records,
    summary,
    telemetry: {
      source: telemetry?.source ?? null,
      fallbackReason: telemetry?.fallbackReason ?? null,
      gpus,
      // Every sample is kept, so the per-GPU summary is derived once, at the end.
      summary: summarizeTelemetry(samples, replicaOfGpu ? { replicaOfGpu } : {}),
      samples: downsample(samples, TELEMETRY_SAVED_POINTS_MAX),
    },
  };
  let file: string | null = null;
  if (records.length === 0 && status === 'failed') {
    // The run never started (the backend could not load): there is nothing measured to keep.
    notes.push('not saved: no request ran');
    emit({ type: 'run-finished', at: at(), runId, status, summary, file, notes });
    return;
  }
  try {
    const saved = await saveRun(run, ...(cfg.runsDir ? [cfg.runsDir] : []));
    file = saved.file;
    for (const p of saved.problems) notes.push(`saved, but the run file does not validate: ${p}`);
  } catch (err) {
    notes.push(`the run could not be saved: ${(err as Error).message}`);
    emit({ type: 'log', at: at(), level: 'error', message: `the run could not be saved: ${(err as Error).message}` });
  }
  emit({ type: 'run-finished', at: at(), runId, status, summary, file, notes });
}

/** Seconds left: from the request budget and the measured pace, or from the duration. */
function eta(cfg: RunConfig, records: readonly RequestRecord[], elapsedMs: number): number | null {
  if (cfg.stop.kind === 'duration') {
    const measuredStart = records.find((r) => !r.warmup)?.enqueuedAtMs;
    return measuredStart === undefined ? null : Math.max(0, cfg.stop.seconds - (elapsedMs - measuredStart) / 1000);
  }
  const total = cfg.stop.count + cfg.settings.warmup;
  const done = records.length;
  if (done === 0) return null;
  const first = records[0].enqueuedAtMs;
  const pace = (elapsedMs - first) / done;
  return Math.max(0, ((total - done) * pace) / 1000);
}
