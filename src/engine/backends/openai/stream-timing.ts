// Pure: folds one request's timestamped SSE payloads into its measurement, with vLLM's definitions
// (vllm-project/vllm vllm/benchmarks/lib/endpoint_request_func.py, async_request_openai_chat_completions, and
// vllm/benchmarks/serve.py, calculate_metrics):
//   - the clock starts just before the POST is written (the body is already built): `startMs`;
//   - TTFT ends at the first payload whose `choices` is non-empty, even if its delta is only the role
//     (mode "choices", vLLM's), or at the first non-empty `delta.content`/`text` (mode "first-content", for
//     servers such as transformers serve that send the role chunk before generating);
//   - ITL is the gap between consecutive payloads with choices after the TTFT one, one sample per chunk (a chunk
//     may carry several tokens);
//   - E2E ends at the last payload with choices (the trailing usage-only chunk does not count);
//   - output tokens are `usage.completion_tokens`, prompt tokens `usage.prompt_tokens`, read from any payload, with
//     or without choices (vLLM reads usage only from choice-less chunks; transformers serve puts it on the final
//     chunk with choices, so reading it anywhere is a superset that agrees wherever vLLM finds it);
//   - TPOT = (E2E - TTFT) / (out - 1) is computed by the engine from `tokenTimes` (see tokenTimesFor below).
// Failures, each with a reason: an `error` object mid-stream, a payload that is not JSON, a stream that ends with
// no payload carrying choices (or, in first-content mode, no content), and a stream cut off before it finished
// (neither `[DONE]` nor a `finish_reason`; see `requireDone`).

export type TtftMode = 'choices' | 'first-content';

export interface TimedPayload {
  /** nowMs() (src/util/clock.ts) when the network chunk carrying this SSE event arrived. */
  readonly atMs: number;
  /** The event's data field, unparsed (JSON or "[DONE]"). */
  readonly data: string;
}

export interface FoldOptions {
  readonly mode: TtftMode;
  /**
   * true: a stream must end with `data: [DONE]`. false (default): a stream that reached a `finish_reason` but closed
   * without `[DONE]` is complete (transformers serve never sends `[DONE]`: src/transformers/cli/serving/
   * chat_completion.py); one that closed with neither was cut off and fails.
   */
  readonly requireDone?: boolean;
}

export interface ChunkRecord {
  /** Arrival (nowMs) of a payload with non-empty choices. */
  readonly atMs: number;
  /** Text it carried (delta.content, or text for the completions API); "" for role-only / finish-only chunks. */
  readonly text: string;
  /** Cumulative usage.completion_tokens carried by this very payload (continuous_usage_stats), else null. */
  readonly cumulativeCompletionTokens: number | null;
}

export interface StreamMeasurement {
  readonly ok: true;
  readonly mode: TtftMode;
  readonly startMs: number;
  /** nowMs of the payload that ended TTFT. */
  readonly firstTokenAtMs: number;
  /** nowMs of the last payload with choices (E2E end). */
  readonly lastTokenAtMs: number;
  readonly ttftMs: number;
  readonly e2eMs: number;
  /** vLLM's ITL samples for this request: gaps between consecutive payloads with choices after the TTFT one. */
  readonly itlMs: readonly number[];
  /** Every payload with choices from the TTFT one on (the ones before it in first-content mode are left out). */
  readonly chunks: readonly ChunkRecord[];
  /** Payloads with choices that arrived before the TTFT one (first-content mode: the role chunk). */
  readonly chunksBeforeFirst: number;
  readonly text: string;
  /** usage.completion_tokens (last seen); null when the server sent no usage. */
  readonly completionTokens: number | null;
  readonly promptTokens: number | null;
  /** Where usage was found: a payload without choices (OpenAI/vLLM style), one with choices, or nowhere. */
  readonly usageSource: 'usage-chunk' | 'choices-chunk' | null;
  readonly finishReason: string | null;
  readonly doneSeen: boolean;
  readonly payloads: number;
}

export interface StreamFailure {
  readonly ok: false;
  readonly reason: string;
  /** What had arrived before it failed (for the record and for tests). */
  readonly payloads: number;
  readonly chunksWithChoices: number;
}

export type FoldResult = StreamMeasurement | StreamFailure;

const ERROR_SNIPPET_CHARS = 200;

function snippet(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > ERROR_SNIPPET_CHARS ? `${t.slice(0, ERROR_SNIPPET_CHARS)}...` : t;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The message of an OpenAI-style error object, a TGI/transformers-style string error, or whatever is there. */
export function errorMessage(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object') {
    const o = err as Record<string, unknown>;
    const msg = typeof o.message === 'string' ? o.message : null;
    const type = typeof o.type === 'string' ? o.type : typeof o.error_type === 'string' ? o.error_type : null;
    const code = typeof o.code === 'string' || typeof o.code === 'number' ? String(o.code) : null;
    const parts = [msg ?? snippet(JSON.stringify(err))];
    const tags = [type, code].filter((x): x is string => x !== null);
    if (tags.length > 0) parts.push(`(${tags.join(', ')})`);
    return parts.join(' ');
  }
  return String(err);
}

/** Incremental fold: push payloads as they arrive, then finish() when the connection closes. */
export class StreamFold {
  private payloads = 0;
  private chunks: ChunkRecord[] = [];
  private before = 0;
  private firstIndex = -1;
  private completionTokens: number | null = null;
  private promptTokens: number | null = null;
  private usageSource: StreamMeasurement['usageSource'] = null;
  private finishReason: string | null = null;
  private done = false;
  private failure: string | null = null;

  constructor(
    readonly startMs: number,
    private readonly opts: FoldOptions,
  ) {}

  /** The failure so far, if any (the caller may stop reading). */
  get failed(): string | null {
    return this.failure;
  }

  get doneSeen(): boolean {
    return this.done;
  }

  /** Returns the failure reason once the stream has failed, else null. */
  push(p: TimedPayload): string | null {
    if (this.failure !== null || this.done) return this.failure;
    const data = p.data.trim();
    if (data === '[DONE]') {
      this.done = true;
      return null;
    }
    if (data.length === 0) return null;
    this.payloads++;
    let obj: unknown;
    try {
      obj = JSON.parse(data);
    } catch {
      this.failure = `malformed chunk (not JSON) after ${this.payloads - 1} chunk(s): ${snippet(data)}`;
      return this.failure;
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
      this.failure = `malformed chunk (not a JSON object): ${snippet(data)}`;
      return this.failure;
    }
    const o = obj as Record<string, unknown>;
    if (o.error !== undefined && o.error !== null) {
      this.failure = `server error mid-stream after ${this.chunks.length + this.before} chunk(s): ${errorMessage(o.error)}`;
      return this.failure;
    }
    if (o.object === 'error' && typeof o.message === 'string') {
      this.failure = `server error mid-stream: ${errorMessage(o)}`;
      return this.failure;
    }
    const usage = o.usage && typeof o.usage === 'object' ? (o.usage as Record<string, unknown>) : null;
    const choices = Array.isArray(o.choices) ? o.choices : null;
    const hasChoices = choices !== null && choices.length > 0;
    if (usage) {
      const ct = num(usage.completion_tokens);
      const pt = num(usage.prompt_tokens);
      if (ct !== null) this.completionTokens = ct;
      if (pt !== null) this.promptTokens = pt;
      if (ct !== null || pt !== null) this.usageSource = hasChoices ? 'choices-chunk' : 'usage-chunk';
    }
    if (!hasChoices) return null;
    const c0 = choices[0] as Record<string, unknown> | null;
    let text = '';
    if (c0 && typeof c0 === 'object') {
      const delta = c0.delta && typeof c0.delta === 'object' ? (c0.delta as Record<string, unknown>) : null;
      const content = delta ? delta.content : c0.text;
      if (typeof content === 'string') text = content;
      if (typeof c0.finish_reason === 'string' && c0.finish_reason.length > 0) this.finishReason = c0.finish_reason;
    }
    const rec: ChunkRecord = { atMs: p.atMs, text, cumulativeCompletionTokens: usage ? num(usage.completion_tokens) : null };
    if (this.firstIndex < 0) {
      const starts = this.opts.mode === 'choices' || text.length > 0;
      if (!starts) {
        this.before++;
        return null;
      }
      this.firstIndex = 0;
    }
    this.chunks.push(rec);
    return null;
  }

  finish(): FoldResult {
    const fail = (reason: string): StreamFailure => ({ ok: false, reason, payloads: this.payloads, chunksWithChoices: this.chunks.length + this.before });
    if (this.failure !== null) return fail(this.failure);
    if (this.chunks.length === 0) {
      if (this.opts.mode === 'first-content' && this.before > 0) {
        return fail(`no chunk with content in the stream (${this.before} chunk(s) with choices but empty content${this.done ? '' : ', and no [DONE]'})`);
      }
      return fail(`no chunk with choices in the stream (${this.payloads} payload(s)${this.done ? ', then [DONE]' : ', no [DONE]'}): nothing to time a first token on`);
    }
    if (!this.done && (this.opts.requireDone || this.finishReason === null)) {
      return fail(
        this.finishReason === null
          ? `stream ended before [DONE] and without a finish_reason after ${this.chunks.length + this.before} chunk(s) with choices: the response was cut off`
          : `stream ended without [DONE] (finish_reason "${this.finishReason}" was seen; requireDone is on)`,
      );
    }
    const first = this.chunks[0];
    const last = this.chunks[this.chunks.length - 1];
    const itl: number[] = [];
    for (let i = 1; i < this.chunks.length; i++) itl.push(this.chunks[i].atMs - this.chunks[i - 1].atMs);
    return {
      ok: true,
      mode: this.opts.mode,
      startMs: this.startMs,
      firstTokenAtMs: first.atMs,
      lastTokenAtMs: last.atMs,
      ttftMs: first.atMs - this.startMs,
      e2eMs: last.atMs - this.startMs,
      itlMs: itl,
      chunks: this.chunks,
      chunksBeforeFirst: this.before,
      text: this.chunks.map((c) => c.text).join(''),
      completionTokens: this.completionTokens,
      promptTokens: this.promptTokens,
      usageSource: this.usageSource,
      finishReason: this.finishReason,
      doneSeen: this.done,
      payloads: this.payloads,
    };
  }
}

/** Folds a whole recorded stream (tests, replayed fixtures). */
export function foldStream(startMs: number, payloads: readonly TimedPayload[], opts: FoldOptions): FoldResult {
  const f = new StreamFold(startMs, opts);
  for (const p of payloads) if (f.push(p) !== null) break;
  return f.finish();
}

/** TPOT exactly as vllm/benchmarks/serve.py computes it: (latency - ttft) / (output_len - 1), or null for <= 1 token. */
export function vllmTpotMs(m: Pick<StreamMeasurement, 'ttftMs' | 'e2eMs'>, outputTokens: number): number | null {
  return outputTokens > 1 ? (m.e2eMs - m.ttftMs) / (outputTokens - 1) : null;
}

/**
 * The InferResult's tokenTimes for a measured stream (absolute nowMs, one entry per output token).
 *
 * The engine derives TTFT from tokenTimes[0], E2E and TPOT from tokenTimes[n-1] and n, and ITL from neighbouring
 * gaps. vLLM's TPOT is per token ((E2E - TTFT) / (out - 1)) while its ITL is per chunk, and one array cannot be
 * both when a chunk carries more or fewer tokens than one. We make TTFT, E2E and TPOT exact and keep ITL as close
 * as the chunk data allows:
 *   1. one entry per output token (n = out), so the engine's TPOT divides by vLLM's out - 1;
 *   2. entry 0 is the TTFT instant and entry out-1 the E2E instant (the last chunk with choices), so the engine's
 *      TTFT, E2E and TPOT equal vLLM's (TTFT relative to whatever start the engine uses; see backend.ts);
 *   3. interior tokens carry the arrival time of the chunk that delivered them: with continuous usage stats the
 *      exact per-chunk token counts, otherwise one token per chunk with non-empty content after the TTFT chunk; if
 *      that count differs from out, the extra tokens are stamped at the last chunk (or surplus chunks dropped).
 * In vLLM's usual chat stream (role chunk at the first token's instant, then one chunk per token) this gives the
 * engine's ITL = vLLM's ITL minus its near-zero role-chunk sample (vllm-project/vllm PR #46652 discusses that
 * sample). The exact per-chunk list is kept beside it (StreamMeasurement.itlMs) for anyone who wants vLLM's ITL.
 * For out = 1 the single entry is the TTFT instant (the engine then has no E2E beyond it; the measurement does).
 */
export function tokenTimesFor(m: StreamMeasurement, outputTokens: number): number[] {
  const out = Math.max(0, Math.floor(outputTokens));
  if (out === 0) return [];
  if (out === 1) return [m.firstTokenAtMs];
  const arrivals: number[] = [];
  // Continuous usage stats put cumulative usage on every chunk; usage on the last chunk only (transformers serve,
  // SGLang's finishing chunk) is a total and says nothing about how tokens were spread.
  const haveCounts = m.chunks.length > 1 && m.chunks.every((c) => c.cumulativeCompletionTokens !== null);
  if (haveCounts) {
    let prev = 0;
    for (const c of m.chunks) {
      if (c.cumulativeCompletionTokens === null) continue;
      const k = Math.max(0, c.cumulativeCompletionTokens - prev);
      prev = Math.max(prev, c.cumulativeCompletionTokens);
      for (let i = 0; i < k; i++) arrivals.push(c.atMs);
    }
  } else {
    for (const c of m.chunks) if (c.text.length > 0) arrivals.push(c.atMs);
  }
  const times = arrivals.slice(0, out);
  while (times.length < out) times.push(m.lastTokenAtMs);
  times[0] = m.firstTokenAtMs;
  times[out - 1] = m.lastTokenAtMs;
  // Arrival order is monotone by construction; the forced ends keep it so (first <= any chunk <= last).
  return times;
}
