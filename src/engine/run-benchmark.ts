// Run orchestration: starts (or reuses) replicas and telemetry, drives the scheduler, folds records into the
// RunAccumulator, and yields the engine's events as an async stream. It saves nothing: run-finished carries the
// complete run file (completed, interrupted or failed) for the store sink the composition root subscribes.
// Its only configuration is the RunSpec; the workload and the backend are resources prepared from it.
import { effectivePreset, preprocessSettings, runSettings } from '../config/resolve-run-spec.js';
import type { RunSpec } from '../config/run-spec.js';
import { startTelemetry, type Telemetry } from '../telemetry/telemetry.js';
import { downsample, replicaOfGpuFromGroups, summarizeTelemetry } from '../telemetry/summary.js';
import { downsampleDcgm, downsampleServers, summarizeRemoteGpus, summarizeServers } from '../telemetry/remote-summary.js';
import type { DcgmTelemetrySample, GpuInfo, LocalTelemetrySample, RunTelemetry, ServerTelemetrySample, TelemetrySample } from '../telemetry/types.js';
import { Channel } from '../util/channel.js';
import { nowMs } from '../util/clock.js';
import { newRunId } from '../util/ids.js';
import { prng } from '../util/prng.js';
import { RunAccumulator } from './accumulator.js';
import type { Backend, Replica } from './backend.js';
import { collectEnvironment, gitCommit } from './environment.js';
import type { EngineEvent, WorkloadOverview } from './events.js';
import { Scheduler, type PlannedRequest } from './scheduler.js';
import { RUN_SCHEMA_VERSION, type BackendInfo, type RequestRecord, type RunFile, type RunSettings, type RunStatus, type RunSummary, type Workload } from './types.js';
import { unusableImageLines, usableImageIndices, workloadCropsHistogram } from './workload-summary.js';
import { computeRoofline, type RunRoofline } from './roofline.js';

export const PROGRESS_INTERVAL_MS = 250;
export const TELEMETRY_SAVED_POINTS_MAX = 600;

/** What a run runs on: resources prepared from its RunSpec by the caller. */
export interface RunHandles {
  readonly backend: Backend;
  readonly workload: Workload;
  /** Already started replicas to reuse (a sweep); when absent, the run starts its own and closes them. */
  readonly replicas?: readonly Replica[];
  /** The run's id (the store's uniqueRunId); a fresh one when absent. */
  readonly runId?: string;
  readonly signal?: AbortSignal;
  /**
   * A second, harder stop (a second Ctrl-C): in-flight work is given up at once instead of after the grace period,
   * and a replica start still loading is not waited for before the run is saved. It implies `signal`.
   */
  readonly stopNow?: AbortSignal;
  /** Sampler settings for tests and benchmarks (default: every 500 ms, nvidia-smi on PATH). */
  readonly telemetry?: { readonly intervalMs?: number; readonly nvidiaSmiPath?: string };
  /** How long in-flight work may finish after a stop before it is recorded as cancelled. */
  readonly cancelGraceMs?: number;
}

/**
 * Runs the specification. The replica count ("auto" resolved by the backend) and the backend's preflight are settled
 * before the first event, so a topology or an environment that cannot run throws from the first next() and nothing
 * is emitted.
 */
export async function* runBenchmark(spec: RunSpec, h: RunHandles): AsyncGenerator<EngineEvent> {
  const replicas = h.replicas ? h.replicas.length : await h.backend.resolveReplicas(spec.topology.gpusPerReplica, spec.topology.replicas, h.signal);
  // What the backend needs (packages, an execution provider, GPUs for the topology) is checked before the first event,
  // so a configuration the user must fix is one message and exit code 2, not a failed run.
  if (!h.replicas) await h.backend.preflight?.({ replicas, gpusPerReplica: spec.topology.gpusPerReplica }, h.signal);
  const ch = new Channel<EngineEvent>();
  void execute(spec, runSettings(spec, replicas), h, (e) => ch.push(e)).finally(() => ch.close());
  yield* ch.drain();
}

/** The run as it goes: what the saved file will hold, filled in by execute() and its helpers. */
interface RunState {
  readonly runId: string;
  readonly t0: number;
  readonly startedAt: Date;
  readonly notes: string[];
  readonly records: RequestRecord[];
  readonly samples: TelemetrySample[];
  readonly acc: RunAccumulator;
  /** What backends said about individual measurements (usage missing, image repeated ...), with how often. */
  readonly requestNotes: Map<string, number>;
  telemetry: Telemetry | null;
  gpus: GpuInfo[];
  replicas: readonly Replica[];
  backendInfo: BackendInfo;
  replicaOfGpu: Record<number, number> | undefined;
  status: RunStatus;
}

async function execute(spec: RunSpec, settings: RunSettings, h: RunHandles, emit: (e: EngineEvent) => void): Promise<void> {
  const t0 = nowMs();
  const startedAt = new Date();
  const at = () => nowMs() - t0;
  const commit = gitCommit();
  const st: RunState = {
    runId: h.runId ?? newRunId(spec.name, startedAt),
    t0,
    startedAt,
    notes: [],
    records: [],
    samples: [],
    acc: new RunAccumulator(),
    requestNotes: new Map(),
    telemetry: null,
    gpus: [],
    replicas: h.replicas ?? [],
    backendInfo: backendInfoOf(h.backend, h.replicas ?? []),
    replicaOfGpu: undefined,
    status: 'completed',
  };
  const log = (level: 'info' | 'warn' | 'error', message: string) => {
    if (level !== 'info') st.notes.push(message);
    emit({ type: 'log', at: at(), level, message });
  };
  const ownReplicas = h.replicas === undefined;
  const planned = spec.stop.kind === 'requests' ? spec.stop.count + spec.warmup : null;
  emit({ type: 'run-started', at: at(), runId: st.runId, name: spec.name, startedAt: startedAt.toISOString(), preset: effectivePreset(spec), settings, backend: st.backendInfo, workload: overviewOf(h.workload), plannedRequests: planned });
  const unusable = unusableImageLines(h.workload);
  if (unusable.length) log('warn', unusable.join('\n'));
  if (h.workload.skipped > 0) log('info', `skipped ${h.workload.skipped} file(s) that are not images`);

  // Replicas still starting when the run was stopped: closed once they are up, after the run is saved.
  let late: Promise<unknown> = Promise.resolve();
  try {
    await startRunTelemetry(spec, h, st, emit, at);
    if (ownReplicas) emit({ type: 'phase', at: at(), phase: 'loading' });
    await h.backend.prepareRequests?.(imagePlan(spec, h.workload), { log, ...(h.signal ? { signal: h.signal } : {}) });
    if (ownReplicas && !stopped(h)) {
      const starting = h.backend.start({ replicas: settings.replicas, gpusPerReplica: spec.topology.gpusPerReplica, log, ...(h.signal ? { signal: h.signal } : {}) });
      // Loading a model is a native call that cannot be interrupted: a stop does not wait for it; the replicas it
      // brings up are closed when they are ready (the process lives until then, and exits cleanly).
      const started = await untilStopped(starting, h);
      if (started === null) {
        late = starting.then((rs) => Promise.allSettled(rs.map((r) => r.close())), () => undefined);
        throw new StoppedWhileStarting();
      }
      st.replicas = started;
    }
    for (const r of st.replicas) {
      st.acc.addReplica(r.id, r.devices);
      emit({ type: 'replica-ready', at: at(), replica: r.id, devices: r.devices, gpuIndices: r.gpuIndices, loadMs: r.loadMs });
    }
    st.backendInfo = backendInfoOf(h.backend, st.replicas);
    // Telemetry summaries group GPUs by the replica that owns them (inside the try: a GPU in two groups is an error).
    st.replicaOfGpu = replicaOfGpuFromGroups(st.replicas.map((r) => r.gpuIndices));
    await schedule(spec, h, st, emit, at, log);
  } catch (err) {
    st.status = stopped(h) ? 'interrupted' : 'failed';
    if (err instanceof StoppedWhileStarting) st.notes.push('interrupted: stopped by the user while the replicas were starting; no request ran');
    else log('error', (err as Error).message);
  }
  emit({ type: 'phase', at: at(), phase: 'saving' });
  await st.telemetry?.stop().catch(() => {});
  // Saved first (the sink saves at run-finished), then the replicas close: a replica finishing its current step
  // never delays or endangers the run file.
  finish(spec, settings, h, st, emit, at, await commit);
  if (ownReplicas) await Promise.allSettled(st.replicas.map((r) => r.close()));
  await late;
}

class StoppedWhileStarting extends Error {}

/** Whether the run was asked to stop (gently or at once). */
const stopped = (h: RunHandles): boolean => h.signal?.aborted === true || h.stopNow?.aborted === true;

/** The promise's value, or null as soon as the run is stopped (the promise goes on; the caller cleans it up). */
function untilStopped<T>(p: Promise<T>, h: RunHandles): Promise<T | null> {
  const signals = [h.signal, h.stopNow].filter((x): x is AbortSignal => x !== undefined);
  if (signals.length === 0) return p;
  return new Promise<T | null>((resolve, reject) => {
    const onStop = () => resolve(null);
    for (const sg of signals) sg.addEventListener('abort', onStop, { once: true });
    if (stopped(h)) onStop();
    p.then(resolve, reject).finally(() => {
      for (const sg of signals) sg.removeEventListener('abort', onStop);
    });
  });
}

/** Starts the samplers (unless the run has telemetry off) and says what they watch. */
async function startRunTelemetry(spec: RunSpec, h: RunHandles, st: RunState, emit: (e: EngineEvent) => void, at: () => number): Promise<void> {
  if (!spec.telemetry) {
    emit({ type: 'telemetry-started', at: at(), source: null, gpus: [], fallbackReason: null });
    return;
  }
  st.telemetry = await startTelemetry({
    ...(h.telemetry?.intervalMs ? { intervalMs: h.telemetry.intervalMs } : {}),
    ...(h.telemetry?.nvidiaSmiPath ? { nvidiaSmiPath: h.telemetry.nvidiaSmiPath } : {}),
    ...(h.backend.telemetry === 'cpu' ? { preferCpu: true } : {}),
    ...(h.backend.remoteTelemetry ? { remote: h.backend.remoteTelemetry() } : {}),
    onSample: (s) => {
      const rel = { ...s, atMs: s.atMs - st.t0 } as TelemetrySample;
      st.samples.push(rel);
      emit({ type: 'telemetry', at: at(), sample: rel });
    },
    onProblem: (p) => emit({ type: 'log', at: at(), level: p.level === 'info' ? 'info' : 'warn', message: p.message }),
  });
  st.gpus = st.telemetry.gpus ?? [];
  emit({ type: 'telemetry-started', at: at(), source: st.telemetry.source, gpus: st.gpus, fallbackReason: st.telemetry.fallbackReason ?? null });
}

/** Drives the scheduler over the replicas until the stop rule, a stop request or the last replica's death. */
async function schedule(spec: RunSpec, h: RunHandles, st: RunState, emit: (e: EngineEvent) => void, at: () => number, log: (level: 'info' | 'warn' | 'error', m: string) => void): Promise<void> {
  const errors = { ok: 0, failed: 0 };
  const sched = new Scheduler(
    st.replicas,
    requestPlanner(spec, h.workload),
    {
      load: spec.load,
      stop: spec.stop,
      warmup: spec.warmup,
      batchSize: spec.batchSize,
      policy: spec.batching,
      seed: spec.seed,
      t0: st.t0,
      ...(h.signal ? { signal: h.signal } : {}),
      ...(h.stopNow ? { stopNow: h.stopNow } : {}),
      ...(h.cancelGraceMs !== undefined ? { cancelGraceMs: h.cancelGraceMs } : {}),
    },
    {
      onRecord: (rec, notes) => {
        for (const n of notes) st.requestNotes.set(n, (st.requestNotes.get(n) ?? 0) + 1);
        st.records.push(rec);
        st.acc.add(rec);
        emit({ type: 'request-done', at: at(), record: rec });
        if (!rec.warmup && rec.status !== 'cancelled') {
          if (rec.status === 'failed') errors.failed++;
          else errors.ok++;
          const over = errorRateExceeded(spec, errors, false);
          if (over) sched.stopEarly(over);
        }
      },
      onReplicaDied: (replica, reason) => {
        st.acc.markReplicaDied(replica, reason);
        log('error', `replica ${replica} died: ${reason}; its in-flight requests fail and the run goes on with the others`);
        emit({ type: 'replica-died', at: at(), replica, reason });
      },
      onPhase: (phase) => emit({ type: 'phase', at: at(), phase }),
    },
  );
  const progress = () => {
    const q = sched.state();
    const snapshot = st.acc.snapshot({ inFlight: q.inFlight, nowMs: at() });
    emit({ type: 'progress', at: at(), snapshot, issued: q.issued, inFlight: q.inFlight, queued: q.queued, etaS: eta(spec, st.records, at()) });
  };
  const timer = setInterval(progress, PROGRESS_INTERVAL_MS);
  try {
    const outcome = await sched.run();
    clearInterval(timer);
    progress();
    const over = outcome.stoppedEarly ?? errorRateExceeded(spec, errors, true);
    if (outcome.cancelled && outcome.stoppedEarly === null) {
      st.status = 'interrupted';
      st.notes.push('interrupted: stopped by the user; requests that had not finished are recorded as cancelled');
    } else if (over) {
      st.status = 'failed';
      st.notes.push(`failed: ${over}${outcome.stoppedEarly ? '; stopped early, requests that had not finished are recorded as cancelled' : ''}`);
    } else if (outcome.noReplicaLeft) {
      st.status = 'failed';
      st.notes.push('failed: every replica died');
    }
  } finally {
    clearInterval(timer);
  }
}

/** Finished measured requests a duration-bound run needs before its failed share can stop it early. */
export const ERROR_RATE_MIN_FINISHED = 20;

/**
 * Why the failed share of measured requests fails the run (over --max-error-rate), or null. While the run goes
 * (`final` false) it answers only once the outcome is certain (a request-bound run: more failures than the share
 * allows of all its requests) or well sampled (a duration-bound run: ERROR_RATE_MIN_FINISHED finished).
 */
export function errorRateExceeded(spec: RunSpec, n: { readonly ok: number; readonly failed: number }, final: boolean): string | null {
  const finished = n.ok + n.failed;
  if (n.failed === 0 || finished === 0) return null;
  const share = n.failed / finished;
  const limit = spec.maxErrorRate;
  const certain = spec.stop.kind === 'requests' ? n.failed > limit * spec.stop.count : finished >= ERROR_RATE_MIN_FINISHED && share > limit;
  if (!(final ? share > limit : certain)) return null;
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  return `${n.failed} of ${finished} measured requests failed (${pct(share)}), over --max-error-rate ${limit} (${pct(limit)})`;
}

/**
 * The images in the order the run requests them: workload order, or for a repeat (`--repeat`) a shuffle seeded by
 * the repeat, so each repeat meets the images in a fresh order and an effect of the order (a slow image first, a
 * cache warmed by its neighbour) averages out over the repeats instead of repeating in every one.
 */
export function imageOrder(spec: Pick<RunSpec, 'group'>, workload: Workload): number[] {
  // Images whose header could not be read were listed up front and are skipped (all of them: every request fails).
  const usable = usableImageIndices(workload);
  const order = usable.length ? [...usable] : workload.images.map((_, i) => i);
  const seed = spec.group?.repeat?.orderSeed;
  if (seed !== undefined) {
    const rand = prng(seed);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
  }
  return order;
}

/** Request number `seq` of the run: images in imageOrder, then the next prompt, round and round. */
function requestPlanner(spec: RunSpec, workload: Workload): (seq: number, warmup: boolean) => PlannedRequest {
  const { images, prompts } = workload;
  const order = imageOrder(spec, workload);
  const preprocess = preprocessSettings(spec);
  return (seq, warmup) => {
    const imageIndex = order[seq % order.length];
    const promptIndex = Math.floor(seq / order.length) % prompts.length;
    const img = images[imageIndex];
    return {
      id: seq,
      imagePath: img.path,
      prompt: prompts[promptIndex],
      maxNewTokens: spec.maxNewTokens,
      preprocess,
      imageIndex,
      promptIndex,
      crops: img.crops.length,
      imageTokens: img.imageTokens,
      promptTokens: img.promptTokens[promptIndex] ?? 0,
      warmup,
    };
  };
}

/** Emits run-finished with the complete run file, or with none when nothing ran (the backend could not load). */
function finish(spec: RunSpec, settings: RunSettings, h: RunHandles, st: RunState, emit: (e: EngineEvent) => void, at: () => number, commit: string | null): void {
  const telemetry = runTelemetry(st);
  const counted = st.acc.summary();
  const summary = { ...counted, roofline: runRoofline(spec, h, st, telemetry, counted) };
  for (const [note, n] of st.requestNotes) st.notes.push(`${n} request${n === 1 ? '' : 's'}: ${note}`);
  const parity = summary.promptTokenParity;
  if (parity && parity.mismatched > 0) {
    st.notes.push(`pan-and-scan parity: ${parity.mismatched} of ${parity.checked} completed requests got a prompt token count other than this run's pan-and-scan settings give: the backend did not apply them (a server ignoring mm_processor_kwargs, or with other defaults)`);
  }
  if (st.status === 'completed' && summary.completed === 0 && summary.failed > 0) {
    st.status = 'failed';
    st.notes.push('failed: no measured request completed');
  }
  const nothingRan = st.records.length === 0 && st.status === 'failed';
  if (nothingRan) st.notes.push('not saved: no request ran');
  const run: RunFile | null = nothingRan
    ? null
    : {
        schemaVersion: RUN_SCHEMA_VERSION,
        id: st.runId,
        name: spec.name,
        status: st.status,
        notes: st.notes,
        startedAt: st.startedAt.toISOString(),
        endedAt: new Date().toISOString(),
        group: spec.group,
        preset: effectivePreset(spec),
        settings,
        backend: st.backendInfo,
        environment: collectEnvironment(st.gpus, commit),
        workload: h.workload,
        requests: st.records,
        summary,
        telemetry,
      };
  emit({ type: 'run-finished', at: at(), runId: st.runId, status: st.status, summary, run, file: null, notes: st.notes });
}

/**
 * The run's roofline (src/engine/roofline.ts): the GPUs its replicas owned (nvidia-smi's names; for servers, their
 * DCGM exporters' or the user's --gpu-name), the backend's model cost, and the completed measured requests.
 */
function runRoofline(spec: RunSpec, h: RunHandles, st: RunState, telemetry: RunTelemetry, summary: RunSummary): RunRoofline {
  const cost = h.backend.costModel?.() ?? null;
  const owned = new Set(st.replicas.flatMap((r) => r.gpuIndices));
  let gpuNames: string[] = [];
  let gpusPerReplica = Math.max(1, ...st.replicas.map((r) => r.gpuIndices.length));
  if (owned.size > 0) {
    gpuNames = distinct(st.gpus.filter((g) => owned.has(g.index)).map((g) => g.name));
    // Telemetry off: the names the backend saw (the transformers workers report torch's device names, nvidia-smi's).
    if (gpuNames.length === 0) gpuNames = distinct(String(st.backendInfo.model.details.gpuNames ?? '').split(', '));
  } else if (telemetry.remoteGpus?.summary.length) {
    const remote = telemetry.remoteGpus.summary;
    gpuNames = distinct(remote.map((g) => g.name));
    const perEndpoint = new Map<string, number>();
    for (const g of remote) perEndpoint.set(g.endpoint, (perEndpoint.get(g.endpoint) ?? 0) + 1);
    gpusPerReplica = Math.max(1, ...perEndpoint.values());
  } else if (cost?.declaredGpu) {
    gpuNames = [cost.declaredGpu];
    gpusPerReplica = spec.topology.gpusPerReplica;
  }
  const done = st.records.filter((r) => r.status === 'ok' && !r.warmup);
  return computeRoofline({
    cost,
    gpuNames,
    cpu: h.backend.telemetry === 'cpu',
    gpusPerReplica,
    pipelineSharded: cost?.pipelineSharded ?? false,
    records: done,
    ttftP50Ms: summary.metrics.ttftMs.p50,
    tpotP50Ms: summary.metrics.tpotMs.p50,
  });
}

function distinct(names: readonly (string | null | undefined)[]): string[] {
  return [...new Set(names.filter((n): n is string => typeof n === 'string' && n.trim() !== ''))];
}

/** What the run file keeps of the samples: every one was kept, so summaries are derived once, here. */
function runTelemetry(st: RunState): RunTelemetry {
  const local = st.samples.filter((s): s is LocalTelemetrySample => s.source === 'nvidia-smi' || s.source === 'cpu');
  const servers = st.samples.filter((s): s is ServerTelemetrySample => s.source === 'server');
  const dcgm = st.samples.filter((s): s is DcgmTelemetrySample => s.source === 'dcgm');
  return {
    source: st.telemetry?.source ?? null,
    fallbackReason: st.telemetry?.fallbackReason ?? null,
    gpus: st.gpus,
    summary: summarizeTelemetry(local, st.replicaOfGpu ? { replicaOfGpu: st.replicaOfGpu } : {}),
    samples: downsample(local, TELEMETRY_SAVED_POINTS_MAX),
    ...(servers.length ? { servers: { summary: summarizeServers(servers), samples: downsampleServers(servers, TELEMETRY_SAVED_POINTS_MAX) } } : {}),
    ...(dcgm.length ? { remoteGpus: { summary: summarizeRemoteGpus(dcgm), samples: downsampleDcgm(dcgm, TELEMETRY_SAVED_POINTS_MAX) } } : {}),
  };
}

/** How many requests of the run will name each image (null for a run bound by time), in workload order. */
function imagePlan(spec: RunSpec, w: Workload): { path: string; requests: number | null }[] {
  const total = spec.stop.kind === 'requests' ? spec.stop.count + spec.warmup : null;
  // In request order, so the partial last round counts the images it reaches (none at all when none is usable).
  const usable = usableImageIndices(w).length ? imageOrder(spec, w).map((i) => w.images[i]) : [];
  return usable.map((img, i) => ({ path: img.path, requests: total === null ? null : Math.floor(total / usable.length) + (i < total % usable.length ? 1 : 0) }));
}

function backendInfoOf(backend: Backend, replicas: readonly Replica[]): BackendInfo {
  return { name: backend.name, model: backend.model(), replicas: replicas.map((r) => ({ replica: r.id, devices: r.devices })) };
}

function overviewOf(w: Workload): WorkloadOverview {
  return { source: w.source, images: w.images.length, prompts: w.prompts.length, skipped: w.skipped, cropsHistogram: workloadCropsHistogram(w), setHash: w.setHash };
}

/** Seconds left: from the request budget and the measured pace, or from the duration. */
function eta(spec: RunSpec, records: readonly RequestRecord[], elapsedMs: number): number | null {
  if (spec.stop.kind === 'duration') {
    const measuredStart = records.find((r) => !r.warmup)?.enqueuedAtMs;
    return measuredStart === undefined ? null : Math.max(0, spec.stop.seconds - (elapsedMs - measuredStart) / 1000);
  }
  const total = spec.stop.count + spec.warmup;
  const done = records.length;
  if (done === 0) return null;
  const first = records[0].enqueuedAtMs;
  const pace = (elapsedMs - first) / done;
  return Math.max(0, ((total - done) * pace) / 1000);
}
