// Pure: one endpoint's serving-engine state from one /metrics scrape, and rates between two scrapes.
// vLLM v1 names (vllm/v1/metrics/loggers.py; counters carry _total in the text format): vllm:num_requests_running,
// vllm:num_requests_waiting, vllm:kv_cache_usage_perc (older releases: vllm:gpu_cache_usage_perc),
// vllm:prefix_cache_{queries,hits}_total, vllm:mm_cache_{queries,hits}_total, vllm:num_preemptions_total,
// vllm:{prompt,generation}_tokens_total. SGLang names (docs/references/production_metrics.md, server started with
// --enable-metrics): sglang:num_running_reqs, sglang:num_queue_reqs, sglang:token_usage, sglang:cache_hit_rate,
// sglang:gen_throughput, sglang:{prompt,generation}_tokens_total. Several label sets of one name (data-parallel
// engines, tp ranks, models) are summed, except the KV usage and cache-hit gauges, which are averaged.
import { meanOf, sumOf, type PromPage } from './prometheus.js';

export type ServerKind = 'vllm' | 'sglang' | 'unknown';

/** One scrape of one endpoint. Every field is null when the server does not expose it. */
export interface ServerMetricsSample {
  /** nowMs() when the scrape's answer arrived. */
  readonly atMs: number;
  /** The endpoint's display URL (never with credentials). */
  readonly endpoint: string;
  readonly kind: ServerKind;
  readonly running: number | null;
  readonly waiting: number | null;
  /** KV-cache blocks in use, 0..1 (vLLM kv_cache_usage_perc, SGLang token_usage). */
  readonly kvCacheUsage: number | null;
  readonly prefixCacheQueriesTotal: number | null;
  readonly prefixCacheHitsTotal: number | null;
  readonly mmCacheQueriesTotal: number | null;
  readonly mmCacheHitsTotal: number | null;
  readonly preemptionsTotal: number | null;
  readonly promptTokensTotal: number | null;
  readonly generationTokensTotal: number | null;
  /** SGLang's own cache-hit gauge, 0..1. */
  readonly cacheHitRate: number | null;
  /** SGLang's own generation-throughput gauge, tokens/s. */
  readonly genThroughputTokS: number | null;
}

/** What changed between two scrapes of one endpoint (counter deltas over the interval). */
export interface ServerMetricsRates {
  readonly endpoint: string;
  readonly intervalS: number;
  readonly promptTokensPerS: number | null;
  readonly generationTokensPerS: number | null;
  /** prefix-cache hits / queries over the interval; null without queries. */
  readonly prefixCacheHitRate: number | null;
  readonly mmCacheHitRate: number | null;
  readonly prefixCacheQueries: number | null;
  readonly mmCacheQueries: number | null;
  readonly preemptions: number | null;
  /** A counter went down: the server restarted between the scrapes (its rates are then null). */
  readonly counterReset: boolean;
}

function kindOf(page: PromPage): ServerKind {
  let vllm = false;
  let sglang = false;
  for (const s of page.samples) {
    if (s.name.startsWith('vllm:')) vllm = true;
    else if (s.name.startsWith('sglang:')) sglang = true;
    if (vllm) break;
  }
  return vllm ? 'vllm' : sglang ? 'sglang' : 'unknown';
}

const counter = (base: string) => [`${base}_total`, base];

export function serverSample(page: PromPage, endpoint: string, atMs: number): ServerMetricsSample {
  const kind = kindOf(page);
  if (kind === 'sglang') {
    return {
      atMs,
      endpoint,
      kind,
      running: sumOf(page, ['sglang:num_running_reqs']),
      waiting: sumOf(page, ['sglang:num_queue_reqs']),
      kvCacheUsage: meanOf(page, ['sglang:token_usage']),
      prefixCacheQueriesTotal: null,
      prefixCacheHitsTotal: null,
      mmCacheQueriesTotal: null,
      mmCacheHitsTotal: null,
      preemptionsTotal: null,
      promptTokensTotal: sumOf(page, counter('sglang:prompt_tokens')),
      generationTokensTotal: sumOf(page, counter('sglang:generation_tokens')),
      cacheHitRate: meanOf(page, ['sglang:cache_hit_rate']),
      genThroughputTokS: sumOf(page, ['sglang:gen_throughput']),
    };
  }
  return {
    atMs,
    endpoint,
    kind,
    running: sumOf(page, ['vllm:num_requests_running']),
    waiting: sumOf(page, ['vllm:num_requests_waiting']),
    kvCacheUsage: meanOf(page, ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc']),
    prefixCacheQueriesTotal: sumOf(page, counter('vllm:prefix_cache_queries')),
    prefixCacheHitsTotal: sumOf(page, counter('vllm:prefix_cache_hits')),
    mmCacheQueriesTotal: sumOf(page, counter('vllm:mm_cache_queries')),
    mmCacheHitsTotal: sumOf(page, counter('vllm:mm_cache_hits')),
    preemptionsTotal: sumOf(page, counter('vllm:num_preemptions')),
    promptTokensTotal: sumOf(page, counter('vllm:prompt_tokens')),
    generationTokensTotal: sumOf(page, counter('vllm:generation_tokens')),
    cacheHitRate: null,
    genThroughputTokS: null,
  };
}

function delta(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : b - a;
}

/** Rates between an earlier and a later scrape of the same endpoint. */
export function ratesBetween(a: ServerMetricsSample, b: ServerMetricsSample): ServerMetricsRates {
  const intervalS = (b.atMs - a.atMs) / 1000;
  const d = {
    prompt: delta(a.promptTokensTotal, b.promptTokensTotal),
    gen: delta(a.generationTokensTotal, b.generationTokensTotal),
    pq: delta(a.prefixCacheQueriesTotal, b.prefixCacheQueriesTotal),
    ph: delta(a.prefixCacheHitsTotal, b.prefixCacheHitsTotal),
    mq: delta(a.mmCacheQueriesTotal, b.mmCacheQueriesTotal),
    mh: delta(a.mmCacheHitsTotal, b.mmCacheHitsTotal),
    pre: delta(a.preemptionsTotal, b.preemptionsTotal),
  };
  const counterReset = Object.values(d).some((x) => x !== null && x < 0);
  const ok = (x: number | null) => (counterReset || x === null ? null : x);
  const perS = (x: number | null) => (ok(x) === null || !(intervalS > 0) ? null : x! / intervalS);
  const hitRate = (hits: number | null, queries: number | null) => (ok(hits) === null || ok(queries) === null || queries! <= 0 ? null : hits! / queries!);
  return {
    endpoint: b.endpoint,
    intervalS,
    promptTokensPerS: perS(d.prompt),
    generationTokensPerS: perS(d.gen),
    prefixCacheHitRate: hitRate(d.ph, d.pq),
    mmCacheHitRate: hitRate(d.mh, d.mq),
    prefixCacheQueries: ok(d.pq),
    mmCacheQueries: ok(d.mq),
    preemptions: ok(d.pre),
    counterReset,
  };
}
