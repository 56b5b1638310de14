// GET /metrics: the vLLM metrics a benchmark client polls, with vLLM's names, help texts, labels
// (model_name, engine) and histogram buckets, in Prometheus text format via prom-client (which accepts the
// colons of vLLM's names; a counter's name carries its _total suffix itself). Its own Registry, so several
// servers in one process (tests) do not share counters.
//
// Checked in vllm-project/vllm vllm/v1/metrics/loggers.py (PrometheusStatLogger): labelnames ["model_name",
// "engine"]; the TTFT buckets and request_latency_buckets below; counters vllm:prompt_tokens,
// vllm:generation_tokens, vllm:num_preemptions and vllm:request_success{finished_reason} (exposed with _total).
// This server has one engine (the replica pool), so engine="0". TTFT and e2e latency run from the request's
// arrival, as vLLM's do (queueing included).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FinishReason } from './protocol.js';

export const TTFT_BUCKETS_S = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0];
export const REQUEST_LATENCY_BUCKETS_S = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0];

const LABELS = ['model_name', 'engine'] as const;

export interface QueueCounts {
  readonly running: number;
  readonly waiting: number;
}

export class ServeMetrics {
  private readonly registry = new Registry();
  private readonly labels: { model_name: string; engine: string };
  private readonly promptTokens: Counter<'model_name' | 'engine'>;
  private readonly generationTokens: Counter<'model_name' | 'engine'>;
  private readonly success: Counter<'model_name' | 'engine' | 'finished_reason'>;
  private readonly ttft: Histogram<'model_name' | 'engine'>;
  private readonly e2e: Histogram<'model_name' | 'engine'>;

  constructor(modelName: string, counts: () => QueueCounts) {
    const labels = { model_name: modelName, engine: '0' };
    this.labels = labels;
    const registers = [this.registry];
    const labelNames = LABELS;
    new Gauge({
      name: 'vllm:num_requests_running',
      help: 'Number of requests in model execution batches.',
      labelNames,
      registers,
      collect() {
        this.set(labels, counts().running);
      },
    });
    new Gauge({
      name: 'vllm:num_requests_waiting',
      help: 'Number of requests waiting to be processed.',
      labelNames,
      registers,
      collect() {
        this.set(labels, counts().waiting);
      },
    });
    new Gauge({
      name: 'vllm:kv_cache_usage_perc',
      help: 'KV-cache usage. 1 means 100 percent usage. Always 0 here: the onnx backend has no shared KV-cache pool (each request keeps its own cache only while it generates), so there is nothing to fill.',
      labelNames,
      registers,
    }).set(labels, 0);
    new Counter({
      name: 'vllm:num_preemptions_total',
      help: 'Cumulative number of preemption from the engine. Always 0 here: a request keeps its replica until it finishes.',
      labelNames,
      registers,
    }).inc(labels, 0);
    this.promptTokens = new Counter({ name: 'vllm:prompt_tokens_total', help: 'Number of prefill tokens processed.', labelNames, registers });
    this.generationTokens = new Counter({ name: 'vllm:generation_tokens_total', help: 'Number of generation tokens processed.', labelNames, registers });
    this.success = new Counter({ name: 'vllm:request_success_total', help: 'Count of successfully processed requests.', labelNames: [...LABELS, 'finished_reason'], registers });
    this.ttft = new Histogram({ name: 'vllm:time_to_first_token_seconds', help: 'Histogram of time to first token in seconds.', labelNames, buckets: TTFT_BUCKETS_S, registers });
    this.e2e = new Histogram({ name: 'vllm:e2e_request_latency_seconds', help: 'Histogram of e2e request latency in seconds.', labelNames, buckets: REQUEST_LATENCY_BUCKETS_S, registers });
    // Labelled series appear only once touched: show them at zero from the start, as vLLM does.
    this.promptTokens.inc(labels, 0);
    this.generationTokens.inc(labels, 0);
    for (const reason of ['stop', 'length', 'abort'] as const) this.success.inc({ ...labels, finished_reason: reason }, 0);
    this.ttft.zero(labels);
    this.e2e.zero(labels);
  }

  /** The prompt was prefilled and the first token is out. */
  firstToken(promptTokens: number, sinceArrivalS: number): void {
    this.promptTokens.inc(this.labels, promptTokens);
    this.ttft.observe(this.labels, sinceArrivalS);
  }

  generatedTokens(n: number): void {
    this.generationTokens.inc(this.labels, n);
  }

  /** A request that produced tokens finished (stopped, hit its length, or was aborted). */
  finished(reason: FinishReason, sinceArrivalS: number): void {
    this.success.inc({ ...this.labels, finished_reason: reason });
    this.e2e.observe(this.labels, sinceArrivalS);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
