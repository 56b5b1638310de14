// OpenAIBackend (DESIGN.md §4: "one replica per endpoint URL"): benchmarks OpenAI-compatible serving engines
// (vLLM, SGLang, TGI, llama.cpp server, transformers serve) the way `vllm bench serve` does, over many endpoints.
// This file owns the backend's typed options, the start-up checks (every endpoint's /v1/models answers and serves
// the model, before anything runs), one Replica per endpoint, turning one request into one streamed HTTP request
// and its measurement into an InferResult, noticing an endpoint that stops answering, and the model description.
// Timing definitions are in stream-timing.ts, HTTP in client.ts, bodies in request-body.ts, images in
// unique-images.ts, URLs and keys in models.ts.
import { failedResult, type Backend, type BackendStartOptions, type InferRequest, type InferResult, type LogFn, type Replica } from '../../backend.js';
import type { RemoteTargets } from '../../../telemetry/telemetry.js';
import type { ScrapeTarget } from '../../../telemetry/remote-sampler.js';
import { GEMMA3_TEXT, gemma3SizeFromName, type ModelCostInfo } from '../../roofline.js';
import type { ModelDescription } from '../../types.js';
import { createAgents, destroyAgents, type Agents } from '../../../util/http-get.js';
import { DEFAULT_REQUEST_TIMEOUT_S, streamPost } from './client.js';
import { authHeaders, DEFAULT_API_KEY_ENV, EndpointError, fetchServedModel, normalizeEndpoint, Redactor, v1Url, type Endpoint, type ServedModel } from './models.js';
import { chatBodyTemplate, dataUrlPrefix, type BodyOptions, type MaxTokensField } from './request-body.js';
import { tokenTimesFor, vllmTpotMs, type TtftMode } from './stream-timing.js';
import { ImageStore } from './unique-images.js';

/**
 * A replica's capacity in micro-batches. An HTTP server batches requests itself (continuous batching), so the
 * client must not hold requests back: the load generator's concurrency or rate is what reaches the server, and
 * the server's own queue (visible in TTFT and in vllm:num_requests_waiting) is what gets measured. A small
 * capacity would move that queue into the client and report it as gemma-bench queueMs instead.
 */
export const ENDPOINT_CAPACITY = 1_000_000;
/** Variants per image when images were not prepared before the run (prepared on first use, noted). */
export const LAZY_VARIANTS_PER_IMAGE = 64;
/** How long the liveness probe of a refusing endpoint waits. */
export const PROBE_TIMEOUT_MS = 2_000;

export class OpenAIBackendError extends Error {
  override name = 'OpenAIBackendError';
  constructor(
    message: string,
    readonly stage: 'configuration' | 'loading' = 'configuration',
  ) {
    super(message);
  }
}

export interface OpenAIBackendOptions {
  /** Server base URLs, with or without /v1; one replica each. */
  readonly endpoints: readonly string[];
  /** Served model name; default the first id the first endpoint lists. */
  readonly model?: string;
  /** Environment variable holding the API key (default OPENAI_API_KEY); unset or empty sends no key. */
  readonly apiKeyEnv?: string;
  /** "choices" (vLLM's TTFT, default) or "first-content" (transformers serve sends its role chunk before generating). */
  readonly ttftMode?: TtftMode;
  readonly ignoreEos?: boolean;
  readonly maxTokensField?: MaxTokensField;
  readonly includeUsage?: boolean;
  /** Send per-request mm_processor_kwargs (default true; false for servers that reject unknown fields). */
  readonly mmProcessorKwargs?: boolean;
  readonly extraBody?: Readonly<Record<string, unknown>>;
  /** Per-request timeout, seconds (default 600). */
  readonly requestTimeoutS?: number;
  /** Fail streams that close without [DONE] even after a finish_reason (default false; see stream-timing.ts). */
  readonly requireDone?: boolean;
  /** One-bit-different image per request (default true). */
  readonly uniqueImages?: boolean;
  /** Process environment to read the API key from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  readonly log: LogFn;
  /** Token count of generated text when the server sends no usage (default: the Gemma 3 tokenizer). */
  readonly retokenize?: (text: string) => number | Promise<number>;
  /** /v1/models timeout, seconds (default 10). */
  readonly modelsTimeoutS?: number;
  /** Scrape each endpoint's /metrics during the run (default true). */
  readonly serverMetrics?: boolean;
  /** Metrics page per endpoint, in endpoint order (default {base}/metrics). */
  readonly metricsUrls?: readonly string[];
  /** DCGM exporter per endpoint, in endpoint order (usually http://host:9400/metrics). */
  readonly dcgmUrls?: readonly string[];
  /** The servers' GPU model (nvidia-smi's name), for the roofline where no DCGM exporter names it. */
  readonly gpuName?: string;
}

/** The expected counts the engine's planned requests carry (src/engine/scheduler.ts PlannedRequest). */
interface Expected {
  readonly crops?: number;
  readonly imageTokens?: number;
  readonly promptTokens?: number;
}

/** What the openai backend adds to each InferResult (the engine ignores it; the lead may record it). */
export interface HttpDetails {
  readonly endpoint: string;
  /** HTTP status of the answer, when one came. */
  readonly status: number | null;
  /** From the POST (vLLM's definitions), ms. */
  readonly ttftMs: number | null;
  readonly e2eMs: number | null;
  readonly tpotMs: number | null;
  /** vLLM's per-chunk ITL samples. */
  readonly itlMs: readonly number[];
  readonly chunks: number;
  readonly usagePromptTokens: number | null;
  readonly usageCompletionTokens: number | null;
  readonly expectedPromptTokens: number | null;
  /** usage.prompt_tokens == the prompt gemma-bench expected (null when either is unknown). */
  readonly panScanMatch: boolean | null;
  readonly finishReason: string | null;
  readonly doneSeen: boolean;
  readonly imageVariant: number | null;
  /** From dispatch to the POST (reading the prepared image, building the body), ms. */
  readonly bodyPrepMs: number;
  readonly notes: readonly string[];
}

export interface OpenAIInferResult extends InferResult {
  readonly http: HttpDetails;
}

/** Whether the server applied the pan-and-scan gemma-bench planned: its prompt token count equals ours. */
export function panScanParity(expectedPromptTokens: number | null | undefined, usagePromptTokens: number | null | undefined): boolean | null {
  if (expectedPromptTokens === null || expectedPromptTokens === undefined || usagePromptTokens === null || usagePromptTokens === undefined) return null;
  return expectedPromptTokens === usagePromptTokens;
}

/** Share of requests (with both counts known) whose prompt tokens differ: a server that ignored mm_processor_kwargs shows here. */
export function panScanMismatchShare(pairs: readonly { expected: number | null; usage: number | null }[]): { compared: number; mismatched: number; share: number | null } {
  let compared = 0;
  let mismatched = 0;
  for (const p of pairs) {
    const m = panScanParity(p.expected, p.usage);
    if (m === null) continue;
    compared++;
    if (!m) mismatched++;
  }
  return { compared, mismatched, share: compared === 0 ? null : mismatched / compared };
}

async function defaultRetokenize(text: string): Promise<number> {
  const { encode } = await import('../../../panscan/tokenizer.js');
  return encode(text).length;
}

interface Shared {
  readonly opts: OpenAIBackendOptions;
  readonly bodyOpts: BodyOptions;
  readonly apiKey: string | null;
  readonly redactor: Redactor;
  readonly model: ServedModel;
  images: ImageStore | null;
  readonly lazyPrepared: Map<string, Promise<ImageStore>>;
}

class EndpointReplica implements Replica {
  readonly devices: readonly string[];
  readonly gpuIndices: readonly number[] = [];
  readonly capacity = ENDPOINT_CAPACITY;
  readonly died: Promise<string>;
  private resolveDied!: (reason: string) => void;
  private dead = false;
  private probing = false;
  private readonly agents: Agents = createAgents();
  private readonly headers: Record<string, string>;

  constructor(
    readonly id: number,
    private readonly ep: Endpoint,
    readonly loadMs: number,
    private readonly shared: Shared,
  ) {
    this.devices = [ep.display];
    this.headers = authHeaders(ep, shared.apiKey);
    this.died = new Promise((resolve) => (this.resolveDied = resolve));
  }

  infer(batch: readonly InferRequest[]): Promise<InferResult[]> {
    return Promise.all(batch.map((r) => this.one(r)));
  }

  private async image(path: string): Promise<{ base64: Buffer; mime: string; variant: number | null; repeated: boolean; note: string | null }> {
    const s = this.shared;
    if (s.images?.has(path)) return { ...(await s.images.take(path)), note: null };
    let p = s.lazyPrepared.get(path);
    if (!p) {
      s.opts.log('warn', `images were not prepared before the run: encoding ${path} on first use (its first request waits for it)`);
      p = ImageStore.prepare({ sources: [path], unique: s.opts.uniqueImages ?? true, variantsPerImage: LAZY_VARIANTS_PER_IMAGE, log: s.opts.log });
      s.lazyPrepared.set(path, p);
    }
    const store = await p;
    return { ...(await store.take(path)), note: 'image prepared on first use, not before the run' };
  }

  private async one(req: InferRequest): Promise<InferResult> {
    const s = this.shared;
    const t0 = performance.now();
    const expected = req as InferRequest & Expected;
    const redact = (m: string) => s.redactor.redact(m);
    let img: Awaited<ReturnType<EndpointReplica['image']>>;
    try {
      img = await this.image(req.imagePath);
    } catch (e) {
      return failedResult(req.id, redact(`image ${req.imagePath}: ${(e as Error).message}`));
    }
    let template;
    try {
      template = chatBodyTemplate({ model: s.model.id, prompt: req.prompt, maxNewTokens: req.maxNewTokens, preprocess: req.preprocess }, s.bodyOpts);
    } catch (e) {
      return failedResult(req.id, redact((e as Error).message));
    }
    const bodyPrepMs = performance.now() - t0;
    const timeoutMs = (s.opts.requestTimeoutS ?? DEFAULT_REQUEST_TIMEOUT_S) * 1000;
    const r = await streamPost({
      url: v1Url(this.ep, 'chat/completions'),
      headers: this.headers,
      body: [template.prefix, dataUrlPrefix(img.mime), img.base64, template.suffix],
      timeoutMs,
      fold: { mode: s.opts.ttftMode ?? 'choices', requireDone: s.opts.requireDone ?? false },
      agents: this.agents,
    });
    if (!r.ok) {
      if (r.kind === 'refused') void this.probe();
      return { ...failedResult(req.id, redact(`${this.ep.display}: ${r.reason}`)), startedAt: r.startMs, sentAt: r.startMs };
    }
    const m = r.measurement;
    const notes: string[] = [];
    if (img.note) notes.push(img.note);
    if (img.repeated) notes.push(`image variant ${img.variant} repeated: the server may have served it from its cache`);
    let out = m.completionTokens;
    if (out === null) {
      const retok = s.opts.retokenize ?? defaultRetokenize;
      out = await retok(m.text);
      notes.push('no usage in the stream: output tokens re-tokenized from the generated text with the Gemma tokenizer');
    }
    if (m.promptTokens === null) notes.push('no usage.prompt_tokens in the stream: prompt tokens are gemma-bench\'s own count');
    if (!m.doneSeen) notes.push('stream closed after its finish_reason without [DONE]');
    const promptTokens = m.promptTokens ?? expected.promptTokens ?? 0;
    const tokenTimes = tokenTimesFor(m, out);
    const http: HttpDetails = {
      endpoint: this.ep.display,
      status: 200,
      ttftMs: m.ttftMs,
      e2eMs: m.e2eMs,
      tpotMs: vllmTpotMs(m, out),
      itlMs: m.itlMs,
      chunks: m.chunks.length,
      usagePromptTokens: m.promptTokens,
      usageCompletionTokens: m.completionTokens,
      expectedPromptTokens: expected.promptTokens ?? null,
      panScanMatch: panScanParity(expected.promptTokens, m.promptTokens),
      finishReason: m.finishReason,
      doneSeen: m.doneSeen,
      imageVariant: img.variant,
      bodyPrepMs,
      notes,
    };
    const result: OpenAIInferResult = {
      id: req.id,
      ok: true,
      error: null,
      crops: expected.crops ?? 0,
      imageTokens: expected.imageTokens ?? 0,
      promptTokens,
      outputTokens: out,
      preprocessMs: null,
      visionMs: null,
      startedAt: r.startMs,
      sentAt: r.startMs,
      tokenTimes,
      tokenIds: [],
      notes,
      http,
    };
    return result;
  }

  /** A request was refused: if /v1/models is refused too, the endpoint went away after it was up. */
  private async probe(): Promise<void> {
    if (this.dead || this.probing) return;
    this.probing = true;
    try {
      const r = await fetchServedModel(this.ep, this.headers, this.shared.model.id, PROBE_TIMEOUT_MS / 1000, this.agents);
      if (!r.ok && r.refused && !this.dead) {
        this.dead = true;
        this.resolveDied(this.shared.redactor.redact(`endpoint ${this.ep.display} stopped answering: connection refused (it answered /v1/models at start)`));
      }
    } finally {
      this.probing = false;
    }
  }

  async close(): Promise<void> {
    destroyAgents(this.agents);
  }
}

export class OpenAIBackend implements Backend {
  readonly name = 'openai' as const;
  /** Local GPUs are watched as usual (a server on this machine shows there); remote ones through remoteTelemetry(). */
  readonly telemetry = 'gpu' as const;
  private replicas: EndpointReplica[] = [];

  private constructor(
    private readonly shared: Shared,
    private readonly endpoints: readonly { ep: Endpoint; loadMs: number; model: ServedModel }[],
  ) {}

  /** Validates options and checks every endpoint's /v1/models (a configuration error naming each failing URL). */
  static async create(opts: OpenAIBackendOptions): Promise<OpenAIBackend> {
    if (opts.endpoints.length === 0) throw new OpenAIBackendError('the openai backend needs at least one endpoint URL');
    const env = opts.env ?? process.env;
    const keyVar = opts.apiKeyEnv ?? DEFAULT_API_KEY_ENV;
    const apiKey = env[keyVar] && env[keyVar]!.length > 0 ? env[keyVar]! : null;
    const redactor = new Redactor([apiKey]);
    if (opts.requestTimeoutS !== undefined && !(opts.requestTimeoutS > 0)) throw new OpenAIBackendError(`request timeout must be a positive number of seconds, got ${opts.requestTimeoutS}`);
    let eps: Endpoint[];
    try {
      eps = opts.endpoints.map(normalizeEndpoint);
    } catch (e) {
      throw new OpenAIBackendError(redactor.redact((e as EndpointError).message));
    }
    const dup = eps.find((e, i) => eps.findIndex((x) => x.base === e.base) !== i);
    if (dup) throw new OpenAIBackendError(`endpoint ${dup.display} is listed twice`);
    const checks = await Promise.all(
      eps.map(async (ep) => {
        const t0 = performance.now();
        const r = await fetchServedModel(ep, authHeaders(ep, apiKey), opts.model, opts.modelsTimeoutS);
        return { ep, r, loadMs: performance.now() - t0 };
      }),
    );
    const bad = checks.filter((c) => !c.r.ok);
    if (bad.length > 0) {
      const lines = bad.map((c) => `  ${redactor.redact((c.r as { error: string }).error)}`);
      throw new OpenAIBackendError(`${bad.length} of ${eps.length} endpoint(s) failed the /v1/models check:\n${lines.join('\n')}`);
    }
    const first = (checks[0].r as { ok: true; model: ServedModel }).model;
    const wanted = opts.model ?? first.id;
    const missing: string[] = [];
    const resolved = checks.map((c) => {
      const m = (c.r as { ok: true; model: ServedModel }).model;
      if (!m.ids.includes(wanted)) missing.push(`${c.ep.display} serves ${m.ids.map((i) => `"${i}"`).join(', ')}`);
      const entry = m.ids.includes(wanted) ? { ...m, id: wanted } : m;
      return { ep: c.ep, loadMs: c.loadMs, model: entry };
    });
    if (missing.length > 0) throw new OpenAIBackendError(`model "${wanted}" is not served by every endpoint: ${missing.join('; ')}`);
    const bodyOpts: BodyOptions = {
      ignoreEos: opts.ignoreEos ?? true,
      maxTokensField: opts.maxTokensField ?? 'max_completion_tokens',
      includeUsage: opts.includeUsage ?? true,
      mmProcessorKwargs: opts.mmProcessorKwargs ?? true,
      ...(opts.extraBody ? { extraBody: opts.extraBody } : {}),
    };
    if (opts.extraBody) {
      try {
        chatBodyTemplate({ model: wanted, prompt: '', maxNewTokens: 1, preprocess: { panScan: null, exifOrientation: 'ignore', pixelLimit: 1 } }, bodyOpts);
      } catch (e) {
        throw new OpenAIBackendError(`--extra-body: ${(e as Error).message}`);
      }
    }
    const shared: Shared = { opts, bodyOpts, apiKey, redactor, model: { ...first, id: wanted }, images: null, lazyPrepared: new Map() };
    return new OpenAIBackend(shared, resolved);
  }

  /** One replica per endpoint, whatever the preset's topology says. */
  async resolveReplicas(): Promise<number> {
    return this.endpoints.length;
  }

  /** The engine's hook: every image encoded before the run (for a run bound by time, as many variants as on first use). */
  async prepareRequests(plan: readonly { readonly path: string; readonly requests: number | null }[], o: { readonly log: LogFn }): Promise<void> {
    await this.prepareImages(plan.map((p) => ({ path: p.path, requests: p.requests ?? LAZY_VARIANTS_PER_IMAGE })), o.log);
  }

  /** Each endpoint's /metrics (unless turned off) and the DCGM exporters given, in endpoint order. */
  remoteTelemetry(): RemoteTargets {
    const o = this.shared.opts;
    const eps = this.endpoints.map((e) => e.ep);
    const page = (raw: string, ep: Endpoint): ScrapeTarget => {
      const n = normalizeEndpoint(raw);
      const url = new URL(n.base);
      if (url.pathname === '/' || url.pathname === '') url.pathname = '/metrics';
      return { url, display: ep.display, headers: authHeaders(n, this.shared.apiKey) };
    };
    const servers = o.serverMetrics === false ? [] : eps.map((ep, i) => (o.metricsUrls?.[i] ? page(o.metricsUrls[i], ep) : { url: new URL(`${ep.base}/metrics`), display: ep.display, headers: authHeaders(ep, this.shared.apiKey) }));
    const dcgm = (o.dcgmUrls ?? []).map((raw, i) => ({ target: { ...page(raw, eps[i]!), display: normalizeEndpoint(raw).display }, endpoint: eps[i]!.display }));
    return { servers, dcgm };
  }

  /**
   * Encodes every image the run will send, before it starts (unique variants per request by default). Call with
   * each image path and how many requests will name it; without it images are encoded on first use (noted).
   */
  async prepareImages(sources: readonly { path: string; requests: number }[], log: LogFn = this.shared.opts.log): Promise<ImageStore> {
    const counts = new Map<string, number>();
    for (const s of sources) counts.set(s.path, (counts.get(s.path) ?? 0) + Math.max(1, s.requests));
    await this.shared.images?.close();
    const store = await ImageStore.prepare({
      sources: [...counts.keys()],
      unique: this.shared.opts.uniqueImages ?? true,
      variantsPerImage: (p) => counts.get(p) ?? 1,
      log,
    });
    this.shared.images = store;
    log('info', `images prepared: ${store.stats.files} file(s), ${(store.stats.base64Bytes / 1048576).toFixed(1)} MiB base64, ${Math.round(store.stats.prepareMs)} ms`);
    return store;
  }

  /** The served model's architecture when its id names a Gemma 3 size (google/gemma-3-27b-it), bf16 weights. */
  costModel(): ModelCostInfo | null {
    const size = gemma3SizeFromName(this.shared.model.id);
    return size ? { name: this.shared.model.id, arch: GEMMA3_TEXT[size], bytesPerParam: 2, declaredGpu: this.shared.opts.gpuName ?? null } : null;
  }

  model(): ModelDescription {
    const m = this.shared.model;
    const eps = this.endpoints.map((e) => e.ep.display);
    const entry = m.entry;
    const random = entry.random_weights === true || entry.randomWeights === true;
    const details: Record<string, string | number | boolean | null> = {
      backend: 'openai',
      servedModel: m.id,
      endpoints: eps.join(' '),
      endpointCount: eps.length,
      ttftMode: this.shared.opts.ttftMode ?? 'choices',
      ignoreEos: this.shared.bodyOpts.ignoreEos,
      maxTokensField: this.shared.bodyOpts.maxTokensField,
      includeUsage: this.shared.bodyOpts.includeUsage,
      mmProcessorKwargs: this.shared.bodyOpts.mmProcessorKwargs,
      uniqueImages: this.shared.opts.uniqueImages ?? true,
      apiKey: this.shared.apiKey ? `from $${this.shared.opts.apiKeyEnv ?? DEFAULT_API_KEY_ENV}` : 'none',
    };
    for (const [k, v] of Object.entries(entry)) {
      if (k === 'id' || k === 'object') continue;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) details[`models.${k}`] = typeof v === 'string' ? this.shared.redactor.redact(v) : v;
    }
    return {
      name: m.id,
      label: `${m.id} via ${eps.length === 1 ? eps[0] : `${eps.length} endpoints`}${random ? ', random weights: speed only' : ''}`,
      path: null,
      randomWeights: random,
      details,
    };
  }

  async start(opts: BackendStartOptions): Promise<Replica[]> {
    if (opts.replicas !== this.endpoints.length) opts.log('info', `openai backend: one replica per endpoint (${this.endpoints.length}), not ${opts.replicas}`);
    this.replicas = this.endpoints.map((e, i) => new EndpointReplica(i, e.ep, e.loadMs, this.shared));
    return this.replicas;
  }

  /** Closes every replica's connections and removes the prepared images. */
  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.close()));
    await this.shared.images?.close();
    for (const p of this.shared.lazyPrepared.values()) await (await p.catch(() => null))?.close();
  }
}
