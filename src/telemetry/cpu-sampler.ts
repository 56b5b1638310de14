// The CPU fallback sampler for machines without GPUs (or without nvidia-smi): per-core utilisation from
// os.cpus() time deltas, this process's RSS and system memory, every interval. The delta math is the pure
// function cpuUtilisation(); startCpuSampler() only reads the OS on a timer. Readers are injectable so tests
// drive it with synthetic snapshots.
import { cpus as osCpus, freemem, totalmem } from 'node:os';
import { nowMs } from '../util/clock.js';
import type { CpuCoreSample, CpuTelemetrySample, TelemetryProblem } from './types.js';

/** Default sampling interval (same cadence as the GPU sampler). */
export const CPU_TELEMETRY_INTERVAL_MS = 500;
/** Below this os.cpus()' tick granularity (10 ms per core on Linux) makes percentages coarse noise. */
export const CPU_TELEMETRY_MIN_INTERVAL_MS = 50;

const BYTES_PER_MIB = 1024 * 1024;

/** The cumulative per-core counters os.cpus() reports, in ms. */
export interface CpuTimes {
  user: number;
  nice: number;
  sys: number;
  idle: number;
  irq: number;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const clampPct = (x: number): number => Math.min(100, Math.max(0, x));

/**
 * Utilisation between two snapshots of per-core counters: busy (user + nice + sys + irq) over total time.
 * Cores are matched by position; a core missing from either snapshot is left out. A core whose counters did
 * not advance (or went backwards, e.g. after a counter reset) reads null rather than 0 or NaN.
 */
export function cpuUtilisation(
  prev: readonly CpuTimes[],
  next: readonly CpuTimes[],
): { cores: CpuCoreSample[]; utilPct: number | null } {
  const cores: CpuCoreSample[] = [];
  let busyAll = 0;
  let totalAll = 0;
  const n = Math.min(prev.length, next.length);
  for (let core = 0; core < n; core++) {
    const a = prev[core]!;
    const b = next[core]!;
    const busy = b.user - a.user + (b.nice - a.nice) + (b.sys - a.sys) + (b.irq - a.irq);
    const total = busy + (b.idle - a.idle);
    if (!(total > 0) || busy < 0) {
      cores.push({ core, utilPct: null });
      continue;
    }
    busyAll += busy;
    totalAll += total;
    cores.push({ core, utilPct: round1(clampPct((100 * busy) / total)) });
  }
  return { cores, utilPct: totalAll > 0 ? round1(clampPct((100 * busyAll) / totalAll)) : null };
}

export interface CpuSamplerReaders {
  cpuTimes: () => CpuTimes[];
  rssBytes: () => number;
  totalMemBytes: () => number;
  freeMemBytes: () => number;
  nowMs: () => number;
}

export const SYSTEM_CPU_READERS: CpuSamplerReaders = {
  cpuTimes: () => osCpus().map((c) => c.times),
  rssBytes: () => process.memoryUsage.rss(),
  totalMemBytes: totalmem,
  freeMemBytes: freemem,
  nowMs,
};

/** Builds one sample from two counter snapshots and the memory readings (pure). */
export function cpuSampleFrom(
  prev: readonly CpuTimes[],
  next: readonly CpuTimes[],
  mem: { atMs: number; rssBytes: number; totalMemBytes: number; freeMemBytes: number },
): CpuTelemetrySample {
  const { cores, utilPct } = cpuUtilisation(prev, next);
  return {
    atMs: mem.atMs,
    source: 'cpu',
    cpus: cores,
    utilPct,
    processRssMiB: round1(mem.rssBytes / BYTES_PER_MIB),
    memUsedMiB: round1(Math.max(0, mem.totalMemBytes - mem.freeMemBytes) / BYTES_PER_MIB),
    memTotalMiB: round1(mem.totalMemBytes / BYTES_PER_MIB),
  };
}

export interface CpuSamplerOptions {
  intervalMs?: number;
  onSample: (sample: CpuTelemetrySample) => void;
  onProblem?: (problem: TelemetryProblem) => void;
  readers?: Partial<CpuSamplerReaders>;
}

export interface CpuSampler {
  stop(): Promise<void>;
}

/** Starts sampling; the first sample arrives one interval after start (a delta needs two snapshots). */
export function startCpuSampler(opts: CpuSamplerOptions): CpuSampler {
  const intervalMs = opts.intervalMs ?? CPU_TELEMETRY_INTERVAL_MS;
  if (!Number.isFinite(intervalMs) || intervalMs < CPU_TELEMETRY_MIN_INTERVAL_MS) {
    throw new RangeError(`telemetry interval must be >= ${CPU_TELEMETRY_MIN_INTERVAL_MS} ms (got ${intervalMs})`);
  }
  const r: CpuSamplerReaders = { ...SYSTEM_CPU_READERS, ...opts.readers };
  let prev = r.cpuTimes();
  let stopped = false;
  let failedOnce = false;
  const timer = setInterval(() => {
    if (stopped) return;
    let sample: CpuTelemetrySample;
    try {
      const next = r.cpuTimes();
      sample = cpuSampleFrom(prev, next, {
        atMs: r.nowMs(),
        rssBytes: r.rssBytes(),
        totalMemBytes: r.totalMemBytes(),
        freeMemBytes: r.freeMemBytes(),
      });
      prev = next;
    } catch (e) {
      // Telemetry must never take the run down; say so once and keep trying.
      if (!failedOnce) {
        failedOnce = true;
        opts.onProblem?.({ atMs: nowMs(), source: 'cpu', kind: 'parse', level: 'warn', message: `CPU telemetry failed: ${(e as Error).message}` });
      }
      return;
    }
    opts.onSample(sample);
  }, intervalMs);
  // A forgotten stop() must not keep the CLI alive after a run.
  timer.unref();
  return {
    stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      return Promise.resolve();
    },
  };
}
