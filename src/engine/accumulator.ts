// Run-level statistics built up one RequestRecord at a time (DESIGN.md §5): the live progress snapshot and the
// final RunSummary come from the same code over the same streaming histograms, so the percentiles a user watches
// are the ones that get saved. Pure: no clock, no I/O; times come from the records, "now" from the caller.
import { LatencyStats } from './stats.js';
import { LATENCY_METRICS, type GpuPeakMemory, type LatencyMetric, type MetricSummary, type PromptTokenParity, type ReplicaSummary, type RequestRecord, type RunSummary } from './types.js';

/** How many recent errors a snapshot carries. */
export const RECENT_ERRORS_MAX = 5;

export interface RecentError {
  readonly id: number;
  readonly warmup: boolean;
  readonly error: string;
}

/** What the live view shows, cheap to build several times a second. Shared fields equal RunSummary's. */
export interface ProgressSnapshot {
  /** Measured (non-warmup) requests that completed. */
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Warmup requests finished (any status); never in the statistics. */
  readonly warmupDone: number;
  /** Requests dispatched and not finished, as the caller counts them. */
  readonly inFlight: number;
  /** Seconds since the run started, as the caller's clock says. */
  readonly elapsedS: number;
  /** First measured enqueue -> last measured finish so far, seconds. */
  readonly measuredWallS: number;
  readonly metrics: Readonly<Record<LatencyMetric, MetricSummary>>;
  readonly throughputReqS: number | null;
  readonly outputTokensPerS: number | null;
  readonly tokensPerSMean: number | null;
  readonly promptTokensPerS: number | null;
  readonly cropsHistogram: Readonly<Record<string, number>>;
  readonly perReplica: readonly ReplicaSummary[];
  readonly promptTokenParity?: PromptTokenParity;
  /** The last few errors, oldest first, warmup ones included (flagged). */
  readonly recentErrors: readonly RecentError[];
}

/** Per-request metrics taken straight from the record (itlMs is derived from tokenTimesMs). */
const RECORD_METRICS = LATENCY_METRICS.filter((m): m is Exclude<LatencyMetric, 'itlMs'> => m !== 'itlMs');

interface ReplicaState {
  readonly replica: number;
  devices: readonly string[];
  completed: number;
  failed: number;
  outputTokens: number;
  died: string | null;
  readonly e2e: LatencyStats;
  readonly ttft: LatencyStats;
  /** Highest peak memory per GPU (in the order the backend first named them). */
  readonly peaks: Map<string, { allocatedMiB: number; reservedMiB: number | null }>;
}

export class RunAccumulator {
  private readonly stats = Object.fromEntries(LATENCY_METRICS.map((m) => [m, new LatencyStats()])) as Record<LatencyMetric, LatencyStats>;
  private readonly replicas = new Map<number, ReplicaState>();
  private readonly crops = new Map<number, number>();
  private readonly errors: RecentError[] = [];
  private completed = 0;
  private failed = 0;
  private cancelled = 0;
  private warmup = 0;
  private outputTokens = 0;
  private promptTokens = 0;
  private parityChecked = 0;
  private parityMismatched = 0;
  private tokensPerSSum = 0;
  private tokensPerSCount = 0;
  private windowStartMs = Infinity;
  private windowEndMs = -Infinity;
  /** Bumped by every change; the cached core is reused while it stands still. */
  private version = 0;
  private cached: { version: number; core: RunSummary } | null = null;

  /** Declares a replica and its devices up front, so it is listed even before (or without) finishing a request. */
  addReplica(replica: number, devices: readonly string[]): void {
    const r = this.replica(replica);
    r.devices = [...devices];
    this.version++;
  }

  /** Marks a replica as stopped early; the reason is kept in its summary. */
  markReplicaDied(replica: number, reason: string): void {
    this.replica(replica).died = reason;
    this.version++;
  }

  /** Adds one finished request (any status). Cost: O(output tokens) histogram records, no allocation. */
  add(rec: RequestRecord): void {
    this.version++;
    if (rec.error !== null || rec.status === 'failed') {
      this.errors.push({ id: rec.id, warmup: rec.warmup, error: rec.error ?? 'failed (no error message)' });
      if (this.errors.length > RECENT_ERRORS_MAX) this.errors.shift();
    }
    if (rec.warmup) {
      this.warmup++;
      return;
    }
    // The measured window spans every measured request, whatever its fate: failures took wall time too.
    if (rec.enqueuedAtMs < this.windowStartMs) this.windowStartMs = rec.enqueuedAtMs;
    if (rec.finishedAtMs !== null && rec.finishedAtMs > this.windowEndMs) this.windowEndMs = rec.finishedAtMs;
    const rep = rec.replica === null ? null : this.replica(rec.replica);
    if (rec.status === 'cancelled') {
      this.cancelled++;
      return;
    }
    if (rec.status === 'failed') {
      this.failed++;
      if (rep) rep.failed++;
      return;
    }

    this.completed++;
    this.outputTokens += rec.outputTokens;
    this.promptTokens += rec.promptTokens;
    if (rec.promptTokensExpected !== undefined) {
      this.parityChecked++;
      if (rec.promptTokens !== rec.promptTokensExpected) this.parityMismatched++;
    }
    this.crops.set(rec.crops, (this.crops.get(rec.crops) ?? 0) + 1);
    for (const m of RECORD_METRICS) {
      const v = rec[m];
      if (v !== null) this.stats[m].record(v);
    }
    const times = rec.tokenTimesMs;
    const itl = this.stats.itlMs;
    for (let i = 1; i < times.length; i++) itl.record(times[i] - times[i - 1]);
    if (rec.e2eMs !== null && rec.e2eMs > 0) {
      this.tokensPerSSum += rec.outputTokens / (rec.e2eMs / 1000);
      this.tokensPerSCount++;
    }
    if (rep) {
      rep.completed++;
      rep.outputTokens += rec.outputTokens;
      if (rec.e2eMs !== null) rep.e2e.record(rec.e2eMs);
      if (rec.ttftMs !== null) rep.ttft.record(rec.ttftMs);
      for (const p of rec.peakMemory ?? []) foldPeak(rep.peaks, p);
    }
  }

  /** Live view. `inFlight` and `nowMs` (ms since run start) come from the caller, which owns the clock. */
  snapshot(o: { inFlight?: number; nowMs?: number } = {}): ProgressSnapshot {
    const core = this.core();
    return {
      completed: core.completed,
      failed: core.failed,
      cancelled: core.cancelled,
      warmupDone: core.warmup,
      inFlight: o.inFlight ?? 0,
      elapsedS: (o.nowMs ?? 0) / 1000,
      measuredWallS: core.measuredWallS,
      metrics: core.metrics,
      throughputReqS: core.throughputReqS,
      outputTokensPerS: core.outputTokensPerS,
      tokensPerSMean: core.tokensPerSMean,
      promptTokensPerS: core.promptTokensPerS,
      cropsHistogram: core.cropsHistogram,
      perReplica: core.perReplica,
      ...(core.promptTokenParity ? { promptTokenParity: core.promptTokenParity } : {}),
      recentErrors: [...this.errors],
    };
  }

  /** The run's summary as it stands (call at the end for the saved one). */
  summary(): RunSummary {
    return this.core();
  }

  /** Everything that only changes when a record arrives; cached between snapshots. */
  private core(): RunSummary {
    if (this.cached && this.cached.version === this.version) return this.cached.core;
    const wallS = this.windowEndMs > this.windowStartMs ? (this.windowEndMs - this.windowStartMs) / 1000 : 0;
    const perS = (n: number): number | null => (wallS > 0 ? n / wallS : null);
    const metrics = Object.fromEntries(LATENCY_METRICS.map((m) => [m, this.stats[m].summary()])) as Record<LatencyMetric, MetricSummary>;
    const cropsHistogram: Record<string, number> = {};
    for (const k of [...this.crops.keys()].sort((a, b) => a - b)) cropsHistogram[String(k)] = this.crops.get(k)!;
    const perReplica: ReplicaSummary[] = [...this.replicas.values()]
      .sort((a, b) => a.replica - b.replica)
      .map((r) => ({
        replica: r.replica,
        devices: r.devices,
        completed: r.completed,
        failed: r.failed,
        // Over the run's measured window, so replica throughputs add up to the run's.
        throughputReqS: perS(r.completed),
        outputTokensPerS: perS(r.outputTokens),
        e2eMs: r.e2e.summary(),
        ttftMs: r.ttft.summary(),
        died: r.died,
        ...(r.peaks.size > 0 ? { peakMemory: [...r.peaks].map(([gpu, p]): GpuPeakMemory => ({ gpu, ...p })) } : {}),
      }));
    const core: RunSummary = {
      completed: this.completed,
      failed: this.failed,
      cancelled: this.cancelled,
      warmup: this.warmup,
      measuredWallS: wallS,
      throughputReqS: perS(this.completed),
      outputTokensPerS: perS(this.outputTokens),
      tokensPerSMean: this.tokensPerSCount ? this.tokensPerSSum / this.tokensPerSCount : null,
      promptTokensPerS: perS(this.promptTokens),
      metrics,
      cropsHistogram,
      perReplica,
      promptTokenParity: { checked: this.parityChecked, mismatched: this.parityMismatched },
    };
    this.cached = { version: this.version, core };
    return core;
  }

  private replica(replica: number): ReplicaState {
    let r = this.replicas.get(replica);
    if (!r) {
      r = { replica, devices: [], completed: 0, failed: 0, outputTokens: 0, died: null, e2e: new LatencyStats(), ttft: new LatencyStats(), peaks: new Map() };
      this.replicas.set(replica, r);
    }
    return r;
  }
}

/** Keeps the higher of a GPU's peaks (allocated and reserved each on its own). */
function foldPeak(peaks: Map<string, { allocatedMiB: number; reservedMiB: number | null }>, p: GpuPeakMemory): void {
  const had = peaks.get(p.gpu);
  if (!had) {
    peaks.set(p.gpu, { allocatedMiB: p.allocatedMiB, reservedMiB: p.reservedMiB });
    return;
  }
  had.allocatedMiB = Math.max(had.allocatedMiB, p.allocatedMiB);
  if (p.reservedMiB !== null) had.reservedMiB = had.reservedMiB === null ? p.reservedMiB : Math.max(had.reservedMiB, p.reservedMiB);
}

/** Summarises finished records in one go (tests, and recomputing a saved run's summary). */
export function summarizeRecords(
  records: Iterable<RequestRecord>,
  replicas: readonly { readonly replica: number; readonly devices: readonly string[]; readonly died?: string | null }[] = [],
): RunSummary {
  const acc = new RunAccumulator();
  for (const r of replicas) {
    acc.addReplica(r.replica, r.devices);
    if (r.died) acc.markReplicaDied(r.replica, r.died);
  }
  for (const rec of records) acc.add(rec);
  return acc.summary();
}
