// Test helper: runs for the HTML reports: a run with per-GPU telemetry over two replicas, and a sweep whose points
// trade latency for throughput (so its Pareto frontier has several points and some points lie off it).
import type { RunFile } from '../../src/engine/types.js';
import { summarizeTelemetry } from '../../src/telemetry/summary.js';
import type { GpuSample, GpuTelemetrySample, LocalTelemetrySample, ServerTelemetrySample } from '../../src/telemetry/types.js';
import { fakeRun, prng, type FakeRunOptions } from './fake-run.js';

/** `run` with nvidia-smi samples every 250 ms for 4 GPUs, GPUs 0-1 owned by replica 0 and 2-3 by replica 1. */
export function withGpuTelemetry(run: RunFile): RunFile {
  const rnd = prng(99);
  const endMs = Math.max(...run.requests.map((r) => r.finishedAtMs ?? 0));
  const samples: GpuTelemetrySample[] = [];
  for (let t = 0; t <= endMs + 250; t += 250) {
    const gpus: GpuSample[] = [0, 1, 2, 3].map((index) => ({
      index,
      uuid: `GPU-000${index}`,
      name: 'NVIDIA A100-SXM4-40GB',
      utilPct: Math.round(55 + 40 * rnd() - (index >= 2 ? 15 : 0)),
      memUsedMiB: Math.round(30_000 + 4000 * rnd()),
      memTotalMiB: 40_960,
      powerW: Math.round(180 + 150 * rnd()),
      tempC: 60,
      smClockMHz: 1410,
      state: 'ok',
    }));
    samples.push({ atMs: t, source: 'nvidia-smi', gpus });
  }
  const replicaOfGpu = { 0: 0, 1: 0, 2: 1, 3: 1 };
  return {
    ...run,
    telemetry: {
      source: 'nvidia-smi',
      fallbackReason: null,
      gpus: [0, 1, 2, 3].map((index) => ({ index, uuid: `GPU-000${index}`, name: 'NVIDIA A100-SXM4-40GB', memTotalMiB: 40_960, driverVersion: '550.54.15', pciBusId: `00000000:0${index}:00.0` })),
      summary: summarizeTelemetry(samples, { replicaOfGpu }),
      samples,
    },
  };
}

export const SWEEP_ID = 'sweep-20261125-160000-ab12';

/**
 * A 2 x 3 sweep (max-crops x concurrency): more concurrency gives more throughput and more latency, more crops
 * more latency and less throughput, so some points are on the frontier and some are not.
 */
export function fakeSweep(o: Pick<FakeRunOptions, 'requests'> = {}): RunFile[] {
  const points: { 'max-crops': number; concurrency: number }[] = [];
  for (const crops of [4, 6]) for (const concurrency of [1, 2, 4]) points.push({ 'max-crops': crops, concurrency });
  return points.map((p, i) => {
    const crops = p['max-crops'] === 6 ? 1.3 : 1;
    return fakeRun({
      id: `20261125-16000${i}-balanced-${p['max-crops']}-${p.concurrency}-a${i}0${i}`,
      name: `balanced-${p['max-crops']}-${p.concurrency}`,
      startedAt: `2026-11-25T16:00:0${i}.000Z`,
      seed: 11 + i,
      requests: o.requests ?? 48,
      latencyScale: crops * (1 + 0.45 * (p.concurrency - 1)),
      intervalMs: (crops * 60) / p.concurrency,
      panScan: { maxNumCrops: p['max-crops'] },
      group: { id: SWEEP_ID, kind: 'sweep', point: p, index: i, total: points.length },
    });
  });
}

/**
 * `run` as an openai-backend run sees itself: CPU samples locally, and two vLLM endpoints' /metrics every 500 ms
 * (running and waiting requests, KV-cache use, the generation rate between scrapes).
 */
export function withCpuAndServerTelemetry(run: RunFile): RunFile {
  const rnd = prng(7);
  const endMs = Math.max(...run.requests.map((r) => r.finishedAtMs ?? 0));
  const cpu: LocalTelemetrySample[] = [];
  const servers: ServerTelemetrySample[] = [];
  const endpoints = ['http://127.0.0.1:8001', 'http://127.0.0.1:8002'];
  for (let t = 0; t <= endMs + 500; t += 500) {
    const cores = [0, 1].map((core) => ({ core, utilPct: Math.round(60 + 35 * rnd()) }));
    cpu.push({ atMs: t, source: 'cpu', cpus: cores, utilPct: (cores[0].utilPct! + cores[1].utilPct!) / 2, processRssMiB: 900 + Math.round(200 * rnd()), memUsedMiB: 9000, memTotalMiB: 24_000 });
    endpoints.forEach((endpoint, k) => {
      const running = 4 + Math.round(4 * rnd());
      servers.push({
        atMs: t,
        source: 'server',
        server: { atMs: t, endpoint, kind: 'vllm', running, waiting: Math.round(3 * rnd()), kvCacheUsage: 0.2 + 0.5 * rnd(), prefixCacheQueriesTotal: null, prefixCacheHitsTotal: null, mmCacheQueriesTotal: null, mmCacheHitsTotal: null, preemptionsTotal: 0, promptTokensTotal: null, generationTokensTotal: null, cacheHitRate: null, genThroughputTokS: null },
        rates: t === 0 ? null : { endpoint, intervalS: 0.5, promptTokensPerS: null, generationTokensPerS: 800 + 400 * rnd() + 100 * k, prefixCacheHitRate: null, mmCacheHitRate: null, prefixCacheQueries: null, mmCacheQueries: null, preemptions: 0, counterReset: false },
      });
    });
  }
  return {
    ...run,
    telemetry: {
      source: 'cpu',
      fallbackReason: 'no GPU telemetry: the GPUs are behind the servers',
      gpus: [],
      summary: summarizeTelemetry(cpu),
      samples: cpu,
      servers: { summary: [], samples: servers },
    },
  };
}
