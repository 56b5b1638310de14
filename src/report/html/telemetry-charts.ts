// The telemetry charts of a run report: per-GPU utilisation, memory and power over the run, one row of charts
// per replica (local GPUs from nvidia-smi, or the GPUs behind each endpoint from DCGM); the CPU and memory when
// telemetry fell back to the CPU; and each serving endpoint's /metrics (requests running and waiting, KV-cache
// use, generation rate). Times are seconds from the run's start. Pure.
import type { RunFile } from '../../engine/types.js';
import type { DcgmTelemetrySample, GpuSample, GpuTelemetrySample, ServerTelemetrySample } from '../../telemetry/types.js';
import { round2, round2OrNull } from './distributions.js';
import { seriesStyle } from './palette.js';
import type { ChartSpec, SeriesSpec } from './spec.js';

export interface ChartGroup {
  /** A sub-heading (e.g. "Replica 0: cuda:0, cuda:1"), or null for none. */
  readonly heading: string | null;
  readonly charts: readonly ChartSpec[];
}

const MIB_PER_GIB = 1024;
/** Above this, a stored time is a wall-clock epoch (older runs), not an offset from the run's start. */
const EPOCH_MS_FLOOR = 1e11;
/** Per-core lines are drawn up to this many cores (past it only the all-cores line). */
const PER_CORE_LINES_MAX = 16;

/** Seconds from the run's start for a sample time (an offset in ms, or an epoch from older files). */
function secondsFrom(run: RunFile): (atMs: number) => number {
  const start = Date.parse(run.startedAt);
  return (atMs) => round2((atMs > EPOCH_MS_FLOOR && Number.isFinite(start) ? atMs - start : atMs) / 1000);
}

const idPart = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

type GpuMetric = { key: 'util' | 'mem' | 'power'; title: string; unit: string; get: (g: GpuSample) => number | null; range?: readonly [number | null, number | null] };

const GPU_METRICS: readonly GpuMetric[] = [
  { key: 'util', title: 'GPU utilisation', unit: '%', get: (g) => g.utilPct, range: [0, 100] },
  { key: 'mem', title: 'GPU memory used', unit: 'GiB', get: (g) => (g.memUsedMiB === null ? null : g.memUsedMiB / MIB_PER_GIB), range: [0, null] },
  { key: 'power', title: 'GPU power', unit: 'W', get: (g) => g.powerW, range: [0, null] },
];

/** One chart per metric for a set of GPUs sampled at the same ticks. */
function gpuCharts(idBase: string, what: string, x: number[], gpuIds: readonly number[], ticks: readonly (readonly GpuSample[])[], nameOf: (i: number) => string, styleIndex: (i: number) => number): ChartSpec[] {
  const charts: ChartSpec[] = [];
  for (const m of GPU_METRICS) {
    const series: SeriesSpec[] = gpuIds.map((gi) => ({
      label: nameOf(gi),
      values: ticks.map((gpus) => {
        const g = gpus.find((s) => s.index === gi);
        return g && g.state === 'ok' ? round2OrNull(m.get(g)) : null;
      }),
      kind: 'line',
      ...seriesStyle(styleIndex(gi)),
    }));
    if (!series.some((s) => s.values.some((v) => v !== null))) continue;
    charts.push({ id: `${idBase}-${m.key}`, title: `${what}: ${m.title} (${m.unit})`, xLabel: 'time since start (s)', yLabel: m.unit, x, series, ...(m.range ? { yRange: m.range } : {}) });
  }
  return charts;
}

/** Local GPUs (nvidia-smi), grouped by the replica that owned them; GPUs of no replica last. */
function localGpuGroups(run: RunFile, sec: (ms: number) => number): ChartGroup[] {
  const samples = run.telemetry.samples.filter((s): s is GpuTelemetrySample => s.source === 'nvidia-smi');
  if (!samples.length) return [];
  const x = samples.map((s) => sec(s.atMs));
  const ticks = samples.map((s) => s.gpus);
  const all = [...new Set(samples.flatMap((s) => s.gpus.map((g) => g.index)))].sort((a, b) => a - b);
  const replicaOf = new Map<number, number>();
  for (const g of run.telemetry.summary.gpus) if (g.replica !== undefined) replicaOf.set(g.index, g.replica);
  if (!replicaOf.size) {
    for (const r of run.backend.replicas) for (const d of r.devices) {
      const m = /^cuda:(\d+)$/.exec(d);
      if (m) replicaOf.set(Number(m[1]), r.replica);
    }
  }
  const names = new Map<number, string>();
  for (const s of samples) for (const g of s.gpus) if (g.name && !names.has(g.index)) names.set(g.index, g.name);
  const nameOf = (i: number) => `GPU ${i}${names.get(i) ? ` (${names.get(i)!.replace(/^NVIDIA /, '')})` : ''}`;
  const order = (i: number) => all.indexOf(i);
  const replicas = [...new Set(all.map((i) => replicaOf.get(i)).filter((r): r is number => r !== undefined))].sort((a, b) => a - b);
  const groups: ChartGroup[] = replicas.map((r) => {
    const ids = all.filter((i) => replicaOf.get(i) === r);
    return { heading: `Replica ${r}: GPU ${ids.join(', ')}`, charts: gpuCharts(`gpu-r${r}`, `Replica ${r}`, x, ids, ticks, nameOf, order) };
  });
  const loose = all.filter((i) => !replicaOf.has(i));
  if (loose.length) groups.push({ heading: replicas.length ? `GPUs of no replica: ${loose.join(', ')}` : null, charts: gpuCharts('gpu-other', replicas.length ? 'No replica' : 'GPUs', x, loose, ticks, nameOf, order) });
  return groups.filter((g) => g.charts.length);
}

/** GPUs behind remote endpoints (DCGM), one group per endpoint (each endpoint is a replica). */
function remoteGpuGroups(run: RunFile, sec: (ms: number) => number): ChartGroup[] {
  const samples: readonly DcgmTelemetrySample[] = run.telemetry.remoteGpus?.samples ?? [];
  const endpoints = [...new Set(samples.map((s) => s.endpoint))];
  return endpoints
    .map((ep, k): ChartGroup => {
      const mine = samples.filter((s) => s.endpoint === ep);
      const ids = [...new Set(mine.flatMap((s) => s.gpus.map((g) => g.index)))].sort((a, b) => a - b);
      const host = mine.flatMap((s) => s.gpus).find((g) => g.host)?.host ?? null;
      const charts = gpuCharts(`dcgm-${k}-${idPart(ep)}`, `Endpoint ${ep}`, mine.map((s) => sec(s.atMs)), ids, mine.map((s) => s.gpus), (i) => `GPU ${i}${host ? ` on ${host}` : ''}`, (i) => ids.indexOf(i));
      return { heading: `Endpoint ${ep} (DCGM)${host ? `, host ${host}` : ''}`, charts };
    })
    .filter((g) => g.charts.length);
}

/** CPU fallback: all cores (and each core when there are few), and memory. */
function cpuGroup(run: RunFile, sec: (ms: number) => number): ChartGroup[] {
  const samples = run.telemetry.samples.filter((s) => s.source === 'cpu');
  if (!samples.length) return [];
  const x = samples.map((s) => sec(s.atMs));
  const cores = [...new Set(samples.flatMap((s) => s.cpus.map((c) => c.core)))].sort((a, b) => a - b);
  const util: SeriesSpec[] = [{ label: 'all cores', values: samples.map((s) => round2OrNull(s.utilPct)), kind: 'line', ...seriesStyle(0) }];
  if (cores.length <= PER_CORE_LINES_MAX) {
    cores.forEach((c, k) => util.push({ label: `cpu${c}`, values: samples.map((s) => round2OrNull(s.cpus.find((x) => x.core === c)?.utilPct ?? null)), kind: 'line', ...seriesStyle(k + 1), dash: [4, 3] }));
  }
  const mem: SeriesSpec[] = [
    { label: 'gemma-bench process (RSS)', values: samples.map((s) => round2(s.processRssMiB / MIB_PER_GIB)), kind: 'line', ...seriesStyle(0) },
    { label: 'system memory in use', values: samples.map((s) => round2(s.memUsedMiB / MIB_PER_GIB)), kind: 'line', ...seriesStyle(1) },
  ];
  return [
    {
      heading: null,
      charts: [
        { id: 'cpu-util', title: 'CPU utilisation (%)', xLabel: 'time since start (s)', yLabel: '%', x, series: util, yRange: [0, 100] },
        { id: 'cpu-mem', title: 'Memory (GiB)', xLabel: 'time since start (s)', yLabel: 'GiB', x, series: mem, yRange: [0, null] },
      ],
    },
  ];
}

/** Each serving endpoint's /metrics over the run. */
function serverGroups(run: RunFile, sec: (ms: number) => number): ChartGroup[] {
  const samples: readonly ServerTelemetrySample[] = run.telemetry.servers?.samples ?? [];
  const endpoints = [...new Set(samples.map((s) => s.server.endpoint))];
  return endpoints
    .map((ep, k): ChartGroup => {
      const mine = samples.filter((s) => s.server.endpoint === ep);
      const x = mine.map((s) => sec(s.atMs));
      const id = `server-${k}-${idPart(ep)}`;
      const charts: ChartSpec[] = [];
      const queue: SeriesSpec[] = [
        { label: 'running', values: mine.map((s) => s.server.running), kind: 'step', ...seriesStyle(0) },
        { label: 'waiting', values: mine.map((s) => s.server.waiting), kind: 'step', ...seriesStyle(1) },
      ];
      if (queue.some((s) => s.values.some((v) => v !== null))) charts.push({ id: `${id}-queue`, title: `${ep}: requests running and waiting`, xLabel: 'time since start (s)', yLabel: 'requests', x, series: queue, yRange: [0, null] });
      const kv: SeriesSpec[] = [
        { label: 'KV cache in use (%)', values: mine.map((s) => (s.server.kvCacheUsage === null ? null : round2(s.server.kvCacheUsage * 100))), kind: 'line', ...seriesStyle(2) },
        { label: 'generation (tok/s)', values: mine.map((s) => round2OrNull(s.rates?.generationTokensPerS ?? s.server.genThroughputTokS)), kind: 'line', axis: 'y2', ...seriesStyle(3) },
      ];
      if (kv.some((s) => s.values.some((v) => v !== null))) charts.push({ id: `${id}-kv`, title: `${ep}: KV-cache use and generation rate`, xLabel: 'time since start (s)', yLabel: '%', y2Label: 'tok/s', x, series: kv, yRange: [0, 100], y2Range: [0, null] });
      return { heading: `Server ${ep} (${mine[0]?.server.kind ?? 'unknown'} /metrics)`, charts };
    })
    .filter((g) => g.charts.length);
}

/** Every telemetry chart group of the run, GPUs first. */
export function telemetryGroups(run: RunFile): { gpus: ChartGroup[]; servers: ChartGroup[] } {
  const sec = secondsFrom(run);
  return { gpus: [...localGpuGroups(run, sec), ...remoteGpuGroups(run, sec), ...cpuGroup(run, sec)], servers: serverGroups(run, sec) };
}
