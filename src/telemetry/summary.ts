// Pure telemetry reductions for saved runs and the UI: a streaming summariser (per-GPU and CPU summaries,
// bounded memory however long the run), downsampling of the sample stream for the run file, and grouping
// of GPUs by the replica that owns them. No I/O.
import type {
  CpuCoreSample,
  CpuSummary,
  CpuTelemetrySample,
  GpuSample,
  GpuState,
  GpuSummary,
  GpuTelemetrySample,
  LocalTelemetrySample,
  ReplicaOfGpu,
  TelemetrySample,
  TelemetrySummary,
} from './types.js';

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Running mean and max over the non-null readings of one metric. */
class Acc {
  private sum = 0;
  private n = 0;
  private hi = Number.NEGATIVE_INFINITY;
  add(v: number | null): void {
    // Guards against NaN/Infinity from a caller that built samples by hand: one would poison the mean forever.
    if (v === null || !Number.isFinite(v)) return;
    this.sum += v;
    this.n += 1;
    if (v > this.hi) this.hi = v;
  }
  get mean(): number | null {
    return this.n > 0 ? round2(this.sum / this.n) : null;
  }
  get max(): number | null {
    return this.n > 0 ? this.hi : null;
  }
}

/** The replica a GPU index belongs to under `map`, if any. */
export function replicaOf(map: ReplicaOfGpu | undefined, index: number): number | undefined {
  if (!map) return undefined;
  if (map instanceof Map) return map.get(index);
  const v = (map as Readonly<Record<number, number>>)[index];
  return typeof v === 'number' ? v : undefined;
}

/** GPU groups in replica order (replica i owns groups[i]) -> the GPU index -> replica id mapping. */
export function replicaOfGpuFromGroups(groups: readonly (readonly number[])[]): Record<number, number> {
  const out: Record<number, number> = {};
  groups.forEach((g, replica) => {
    for (const index of g) {
      if (index in out) throw new RangeError(`GPU ${index} is in two replicas (${out[index]} and ${replica})`);
      out[index] = replica;
    }
  });
  return out;
}

/**
 * Groups GPUs (samples, infos or summaries) by owning replica, replicas ascending and GPUs by index; GPUs no
 * replica owns come last with `replica: null` (other jobs' GPUs, spares), so the UI can show them apart.
 */
export function groupGpusByReplica<T extends { index: number }>(
  gpus: readonly T[],
  replicaOfGpu: ReplicaOfGpu | undefined,
): Array<{ replica: number | null; gpus: T[] }> {
  const groups = new Map<number | null, T[]>();
  for (const g of gpus) {
    const r = replicaOf(replicaOfGpu, g.index) ?? null;
    const list = groups.get(r);
    if (list) list.push(g);
    else groups.set(r, [g]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a - b))
    .map(([replica, list]) => ({ replica, gpus: [...list].sort((x, y) => x.index - y.index) }));
}

interface GpuAcc {
  index: number;
  uuid: string | null;
  name: string | null;
  samples: number;
  missing: number;
  util: Acc;
  mem: Acc;
  memTotal: Acc;
  power: Acc;
  temp: Acc;
}

/** Streaming summariser: feed every sample of a run with add(), read summary() at the end (or any time). */
export class TelemetrySummarizer {
  private readonly gpus = new Map<number, GpuAcc>();
  private cpuSamples = 0;
  private cpuCores = 0;
  private readonly cpuUtil = new Acc();
  private readonly coreUtil = new Map<number, Acc>();
  private readonly rss = new Acc();
  private readonly mem = new Acc();
  private readonly memTotal = new Acc();
  private source: TelemetrySummary['source'] = null;
  private count = 0;
  private firstAtMs: number | null = null;
  private lastAtMs: number | null = null;

  constructor(private readonly opts: { replicaOfGpu?: ReplicaOfGpu } = {}) {}

  /** Adds a local sample (nvidia-smi or CPU); remote ones (server, dcgm) are summarised by remote-summary.ts. */
  add(sample: TelemetrySample): void {
    if (sample.source !== 'nvidia-smi' && sample.source !== 'cpu') return;
    this.count += 1;
    this.source ??= sample.source;
    if (this.firstAtMs === null || sample.atMs < this.firstAtMs) this.firstAtMs = sample.atMs;
    if (this.lastAtMs === null || sample.atMs > this.lastAtMs) this.lastAtMs = sample.atMs;
    if (sample.source === 'nvidia-smi') this.addGpu(sample);
    else this.addCpu(sample);
  }

  summary(): TelemetrySummary {
    return {
      source: this.source,
      samples: this.count,
      firstAtMs: this.firstAtMs,
      lastAtMs: this.lastAtMs,
      gpus: this.gpuSummaries(),
      cpu: this.cpuSummary(),
    };
  }

  gpuSummaries(): GpuSummary[] {
    return [...this.gpus.values()]
      .sort((a, b) => a.index - b.index)
      .map((g) => {
        const replica = replicaOf(this.opts.replicaOfGpu, g.index);
        return {
          index: g.index,
          uuid: g.uuid,
          name: g.name,
          ...(replica !== undefined ? { replica } : {}),
          samples: g.samples,
          missingSamples: g.missing,
          utilMeanPct: g.util.mean,
          utilMaxPct: g.util.max,
          memPeakMiB: g.mem.max,
          memTotalMiB: g.memTotal.max,
          powerMeanW: g.power.mean,
          powerMaxW: g.power.max,
          tempMaxC: g.temp.max,
        };
      });
  }

  cpuSummary(): CpuSummary | null {
    if (this.cpuSamples === 0) return null;
    return {
      samples: this.cpuSamples,
      cores: this.cpuCores,
      utilMeanPct: this.cpuUtil.mean,
      utilMaxPct: this.cpuUtil.max,
      perCore: [...this.coreUtil.entries()]
        .sort(([a], [b]) => a - b)
        .map(([core, acc]) => ({ core, utilMeanPct: acc.mean, utilMaxPct: acc.max })),
      rssPeakMiB: this.rss.max,
      memPeakMiB: this.mem.max,
      memTotalMiB: this.memTotal.max,
    };
  }

  private addGpu(sample: GpuTelemetrySample): void {
    for (const g of sample.gpus) {
      let a = this.gpus.get(g.index);
      if (!a) {
        a = { index: g.index, uuid: g.uuid, name: g.name, samples: 0, missing: 0, util: new Acc(), mem: new Acc(), memTotal: new Acc(), power: new Acc(), temp: new Acc() };
        this.gpus.set(g.index, a);
      }
      a.uuid ??= g.uuid;
      a.name ??= g.name;
      if (g.state !== 'ok') {
        a.missing += 1;
        continue;
      }
      a.samples += 1;
      a.util.add(g.utilPct);
      a.mem.add(g.memUsedMiB);
      a.memTotal.add(g.memTotalMiB);
      a.power.add(g.powerW);
      a.temp.add(g.tempC);
    }
  }

  private addCpu(sample: CpuTelemetrySample): void {
    this.cpuSamples += 1;
    this.cpuCores = Math.max(this.cpuCores, sample.cpus.length);
    this.cpuUtil.add(sample.utilPct);
    for (const c of sample.cpus) {
      let acc = this.coreUtil.get(c.core);
      if (!acc) this.coreUtil.set(c.core, (acc = new Acc()));
      acc.add(c.utilPct);
    }
    this.rss.add(sample.processRssMiB);
    this.mem.add(sample.memUsedMiB);
    this.memTotal.add(sample.memTotalMiB);
  }
}

/** One-call form of TelemetrySummarizer. */
export function summarizeTelemetry(samples: Iterable<TelemetrySample>, opts: { replicaOfGpu?: ReplicaOfGpu } = {}): TelemetrySummary {
  const s = new TelemetrySummarizer(opts);
  for (const x of samples) s.add(x);
  return s.summary();
}

// ---------------------------------------------------------------------------------------------------------
// Downsampling

const meanOf = (values: Array<number | null>): number | null => {
  const a = new Acc();
  for (const v of values) a.add(v);
  return a.mean;
};

/** The mean of consecutive GPU ticks, GPU by GPU (exported for remote GPUs, which are merged the same way). */
export function mergeGpuRows<T extends GpuSample>(rows: readonly T[]): GpuSample {
  const ok = rows.filter((r) => r.state === 'ok');
  const state: GpuState = ok.length > 0 ? 'ok' : rows.some((r) => r.state === 'lost') ? 'lost' : 'missing';
  const pick = <K extends 'utilPct' | 'memUsedMiB' | 'memTotalMiB' | 'powerW' | 'tempC' | 'smClockMHz'>(k: K) => meanOf(ok.map((r) => r[k]));
  return {
    index: rows[0]!.index,
    uuid: rows.find((r) => r.uuid !== null)?.uuid ?? null,
    name: rows.find((r) => r.name !== null)?.name ?? null,
    utilPct: pick('utilPct'),
    memUsedMiB: pick('memUsedMiB'),
    memTotalMiB: pick('memTotalMiB'),
    powerW: pick('powerW'),
    tempC: pick('tempC'),
    smClockMHz: pick('smClockMHz'),
    state,
  };
}

function mergeGpuBucket(bucket: GpuTelemetrySample[], atMs: number): GpuTelemetrySample {
  const byIndex = new Map<number, GpuSample[]>();
  for (const s of bucket) {
    for (const g of s.gpus) {
      const list = byIndex.get(g.index);
      if (list) list.push(g);
      else byIndex.set(g.index, [g]);
    }
  }
  // Averages come from rows that reported; a GPU that reported at all in the bucket counts as ok.
  const gpus: GpuSample[] = [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, rows]) => mergeGpuRows(rows));
  return { atMs, source: 'nvidia-smi', gpus };
}

function mergeCpuBucket(bucket: CpuTelemetrySample[], atMs: number): CpuTelemetrySample {
  const byCore = new Map<number, Array<number | null>>();
  for (const s of bucket) {
    for (const c of s.cpus) {
      const list = byCore.get(c.core);
      if (list) list.push(c.utilPct);
      else byCore.set(c.core, [c.utilPct]);
    }
  }
  const cpus: CpuCoreSample[] = [...byCore.entries()].sort(([a], [b]) => a - b).map(([core, v]) => ({ core, utilPct: meanOf(v) }));
  return {
    atMs,
    source: 'cpu',
    cpus,
    utilPct: meanOf(bucket.map((s) => s.utilPct)),
    processRssMiB: meanOf(bucket.map((s) => s.processRssMiB)) ?? 0,
    memUsedMiB: meanOf(bucket.map((s) => s.memUsedMiB)) ?? 0,
    memTotalMiB: meanOf(bucket.map((s) => s.memTotalMiB)) ?? 0,
  };
}

/**
 * Reduces a run's samples to at most `maxPoints` for the run file by averaging consecutive buckets of
 * near-equal size (null readings are left out of a mean; a metric with only nulls stays null). Each point's
 * timestamp is its bucket's mean time, so timestamps stay in order. Input is sorted by time first (stable).
 * A run has one source; should a bucket mix sources, it takes the first sample's and drops the others.
 * Peaks are smoothed away here by design: the summaries keep the true maxima.
 */
export function downsample(samples: readonly LocalTelemetrySample[], maxPoints: number): LocalTelemetrySample[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 1) throw new RangeError(`maxPoints must be an integer >= 1 (got ${maxPoints})`);
  const sorted = [...samples].sort((a, b) => a.atMs - b.atMs);
  if (sorted.length <= maxPoints) return sorted;
  const n = sorted.length;
  const out: LocalTelemetrySample[] = [];
  for (let i = 0; i < maxPoints; i++) {
    const from = Math.floor((i * n) / maxPoints);
    const to = Math.floor(((i + 1) * n) / maxPoints);
    const bucket = sorted.slice(from, to);
    const source = bucket[0]!.source;
    const same = bucket.filter((s) => s.source === source);
    const atMs = same.reduce((t, s) => t + s.atMs, 0) / same.length;
    out.push(
      source === 'nvidia-smi'
        ? mergeGpuBucket(same as GpuTelemetrySample[], atMs)
        : mergeCpuBucket(same as CpuTelemetrySample[], atMs),
    );
  }
  return out;
}
