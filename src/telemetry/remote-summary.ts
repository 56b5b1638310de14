// Pure reductions of remote telemetry for a saved run: per-endpoint summaries of serving engines' /metrics scrapes
// (peaks of running/waiting, KV-cache use, cache hit rates and token rates over the whole run) and of the GPUs
// behind them (DCGM), and downsampling of both, endpoint by endpoint, so every endpoint keeps its own curve.
import { mergeGpuRows, summarizeTelemetry } from './summary.js';
import type { DcgmTelemetrySample, RemoteGpuSummary, ServerSummary, ServerTelemetrySample } from './types.js';
import type { RemoteGpuSample } from './dcgm.js';

const round2 = (x: number): number => Math.round(x * 100) / 100;

function byKey<T>(items: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of items) {
    const k = key(x);
    const list = out.get(k);
    if (list) list.push(x);
    else out.set(k, [x]);
  }
  return out;
}

function stats(values: readonly (number | null)[]): { mean: number | null; max: number | null } {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return { mean: null, max: null };
  return { mean: round2(v.reduce((a, b) => a + b, 0) / v.length), max: Math.max(...v) };
}

/** A counter's growth from the first to the last scrape; null when unknown or when it went down (a restart). */
function growth(first: number | null, last: number | null): number | null {
  return first === null || last === null || last < first ? null : last - first;
}

export function summarizeServers(samples: readonly ServerTelemetrySample[]): ServerSummary[] {
  return [...byKey(samples, (s) => s.server.endpoint).entries()].map(([endpoint, list]) => {
    const sorted = [...list].sort((a, b) => a.atMs - b.atMs);
    const first = sorted[0]!.server;
    const last = sorted[sorted.length - 1]!.server;
    const spanS = (last.atMs - first.atMs) / 1000;
    const hitRate = (h0: number | null, h1: number | null, q0: number | null, q1: number | null) => {
      const q = growth(q0, q1);
      const h = growth(h0, h1);
      return q === null || h === null || q <= 0 ? null : round2(h / q);
    };
    const perS = (x: number | null) => (x === null || !(spanS > 0) ? null : round2(x / spanS));
    const kv = stats(sorted.map((s) => s.server.kvCacheUsage));
    return {
      endpoint,
      kind: last.kind,
      samples: sorted.length,
      runningMax: stats(sorted.map((s) => s.server.running)).max,
      waitingMax: stats(sorted.map((s) => s.server.waiting)).max,
      kvCacheUsageMean: kv.mean,
      kvCacheUsageMax: kv.max,
      prefixCacheHitRate: last.kind === 'sglang' ? stats(sorted.map((s) => s.server.cacheHitRate)).mean : hitRate(first.prefixCacheHitsTotal, last.prefixCacheHitsTotal, first.prefixCacheQueriesTotal, last.prefixCacheQueriesTotal),
      mmCacheHitRate: hitRate(first.mmCacheHitsTotal, last.mmCacheHitsTotal, first.mmCacheQueriesTotal, last.mmCacheQueriesTotal),
      preemptions: growth(first.preemptionsTotal, last.preemptionsTotal),
      promptTokensPerS: perS(growth(first.promptTokensTotal, last.promptTokensTotal)),
      generationTokensPerS: perS(growth(first.generationTokensTotal, last.generationTokensTotal)),
    };
  });
}

/** Evenly spaced indices: at most `max` of `n`, always the first and the last. */
function evenPick<T>(list: readonly T[], max: number): T[] {
  if (list.length <= max) return [...list];
  return Array.from({ length: max }, (_, i) => list[Math.round((i * (list.length - 1)) / (max - 1))]!);
}

/**
 * At most `maxPerEndpoint` scrapes per endpoint, evenly spaced. Scrapes carry counters (totals), so they are
 * picked, not averaged: rates between any two kept scrapes stay exact.
 */
export function downsampleServers(samples: readonly ServerTelemetrySample[], maxPerEndpoint: number): ServerTelemetrySample[] {
  const out: ServerTelemetrySample[] = [];
  for (const list of byKey(samples, (s) => s.server.endpoint).values()) out.push(...evenPick([...list].sort((a, b) => a.atMs - b.atMs), maxPerEndpoint));
  return out.sort((a, b) => a.atMs - b.atMs);
}

/** Per-GPU summaries of each endpoint's DCGM scrapes (the same statistics as local GPUs). */
export function summarizeRemoteGpus(samples: readonly DcgmTelemetrySample[]): RemoteGpuSummary[] {
  const out: RemoteGpuSummary[] = [];
  for (const [endpoint, list] of byKey(samples, (s) => s.endpoint)) {
    const local = summarizeTelemetry(list.map((s) => ({ atMs: s.atMs, source: 'nvidia-smi' as const, gpus: s.gpus })));
    const hostOf = new Map(list.flatMap((s) => s.gpus.map((g) => [g.index, g.host] as const)));
    for (const g of local.gpus) out.push({ ...g, endpoint, host: hostOf.get(g.index) ?? null });
  }
  return out;
}

/** At most `maxPerEndpoint` points per endpoint, each the mean of consecutive scrapes, GPU by GPU. */
export function downsampleDcgm(samples: readonly DcgmTelemetrySample[], maxPerEndpoint: number): DcgmTelemetrySample[] {
  const out: DcgmTelemetrySample[] = [];
  for (const [endpoint, list] of byKey(samples, (s) => s.endpoint)) {
    const sorted = [...list].sort((a, b) => a.atMs - b.atMs);
    const n = sorted.length;
    const points = Math.min(n, maxPerEndpoint);
    for (let i = 0; i < points; i++) {
      const bucket = sorted.slice(Math.floor((i * n) / points), Math.floor(((i + 1) * n) / points));
      const rows = byKey(bucket.flatMap((s) => s.gpus), (g) => String(g.index));
      const gpus: RemoteGpuSample[] = [...rows.values()]
        .map((r) => ({ ...mergeGpuRows(r), endpoint, host: r[0]!.host, migInstances: r[0]!.migInstances }))
        .sort((a, b) => a.index - b.index);
      out.push({ atMs: bucket.reduce((t, s) => t + s.atMs, 0) / bucket.length, source: 'dcgm', endpoint, gpus });
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}
