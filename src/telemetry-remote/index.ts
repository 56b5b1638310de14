// Server metrics and remote GPUs (the lead moves this folder next to src/engine/telemetry): a Prometheus text
// parser, per-endpoint serving-engine samples and rates (vLLM, SGLang), DCGM exporter pages as per-GPU samples, and
// the interval sampler that scrapes them.
export { dcgmGpuSamples, DCGM_FIELDS, type RemoteGpuSample } from './dcgm.js';
export { meanOf, parsePrometheusText, samplesOf, sumOf, type PromPage, type PromProblem, type PromSample } from './prometheus.js';
export { DEFAULT_SCRAPE_INTERVAL_MS, PageSampler, type PageSamplerOptions, type ScrapeProblem, type ScrapeTarget } from './sampler.js';
export { ratesBetween, serverSample, type ServerKind, type ServerMetricsRates, type ServerMetricsSample } from './server-metrics.js';
