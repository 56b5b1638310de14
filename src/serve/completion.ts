// One chat completion from a validated request to its end, independent of HTTP: spool the image, queue it for a
// replica, turn each token the replica reports into its text as it is generated, decide when and why generation
// finishes (a stop token unless ignore_eos, max tokens, or an abort), count it in /metrics, and tell a sink
// (the SSE writer or the JSON collector) what happened. The replica's own prompt-token count goes into usage.
import { performance } from 'node:perf_hooks';
import type { InferRequest, LogFn } from '../engine/backend.js';
import type { PreprocessSettings } from '../panscan/preprocess.js';
import { DEFAULT_PIXEL_LIMIT } from '../panscan/types.js';
import type { ChatRequest } from './chat-request.js';
import { IncrementalDetokenizer, type TokenDecoder } from './detokenizer.js';
import { ApiError, badRequest, internalError, unavailable } from './errors.js';
import type { ImageSpool } from './image-spool.js';
import type { ServeMetrics } from './metrics.js';
import type { PromptPlan } from './prompt-plan.js';
import { usage, type FinishReason, type Usage } from './protocol.js';
import { ReplicaUnavailableError, WithdrawnError, type ReplicaPool } from './replica-pool.js';
import { GEMMA3_EOS_TOKEN_ID } from './served-model.js';

export interface Finish {
  readonly reason: FinishReason;
  /** vLLM's stop_reason: the stop token id, or null (EOS, length, abort). */
  readonly stopReason: number | null;
}

/** Where a completion's events go. No method may throw. */
export interface CompletionSink {
  /** The first token is out (vLLM sends the role chunk now, not on arrival). */
  start(promptTokens: number): void;
  /** One token's text; `finish` on the last one. `completionTokens` counts this one. */
  token(delta: string, completionTokens: number, finish: Finish | null): void;
  /** After the last token (or an abort): the final usage. */
  end(u: Usage, finish: Finish): void;
  /** The request failed, before or after start. */
  fail(err: ApiError): void;
}

/** Why a running completion is being stopped from outside. */
export type StopCause = 'client-gone' | 'shutdown';

export interface CompletionDeps {
  readonly pool: ReplicaPool;
  readonly spool: ImageSpool;
  readonly tokenizer: TokenDecoder;
  readonly metrics: ServeMetrics;
  readonly stopTokenIds: readonly number[];
  readonly log: LogFn;
  /** Images with more pixels are refused (default DEFAULT_PIXEL_LIMIT, Pillow's). */
  readonly pixelLimit?: number;
  /** A numeric id per request, for the replica. */
  nextRequestId(): number;
}

export interface CompletionJob {
  readonly request: ChatRequest;
  readonly plan: PromptPlan;
  readonly maxTokens: number;
  /** performance.now() when the request arrived (TTFT and e2e run from here, queueing included, as in vLLM). */
  readonly arrivedAtMs: number;
  /** Aborted with a StopCause as its reason to stop the completion from outside. */
  readonly signal: AbortSignal;
}

export async function runCompletion(deps: CompletionDeps, job: CompletionJob, sink: CompletionSink): Promise<void> {
  const { request: req, plan, maxTokens } = job;
  let path: string;
  try {
    path = await deps.spool.write(req.image.bytes, req.image.mime);
  } catch (err) {
    sink.fail(internalError(`could not store the request's image: ${(err as Error).message}`));
    return;
  }
  const replicaSignal = new AbortController();
  const stopFromOutside = () => replicaSignal.abort(job.signal.reason);
  if (job.signal.aborted) stopFromOutside();
  else job.signal.addEventListener('abort', stopFromOutside, { once: true });

  const detok = new IncrementalDetokenizer(deps.tokenizer);
  let started = false;
  let count = 0;
  let finish: Finish | null = null;
  const onToken = (_id: number, _index: number, tokenId: number) => {
    if (finish || job.signal.aborted) return;
    if (!started) {
      started = true;
      deps.metrics.firstToken(plan.promptTokens, (performance.now() - job.arrivedAtMs) / 1000);
      sink.start(plan.promptTokens);
    }
    count++;
    deps.metrics.generatedTokens(1);
    const stops = !req.ignoreEos && deps.stopTokenIds.includes(tokenId);
    if (stops) finish = { reason: 'stop', stopReason: tokenId === GEMMA3_EOS_TOKEN_ID ? null : tokenId };
    else if (count >= maxTokens) finish = { reason: 'length', stopReason: null };
    sink.token(detok.push(tokenId, finish !== null), count, finish);
    // Free the replica at once instead of letting it run on to maxTokens.
    if (stops) replicaSignal.abort('stop');
  };

  const preprocess: PreprocessSettings = { panScan: req.panScan, exifOrientation: 'ignore', pixelLimit: deps.pixelLimit ?? DEFAULT_PIXEL_LIMIT };
  const inferRequest: InferRequest = { id: deps.nextRequestId(), imagePath: path, prompt: req.text, maxNewTokens: maxTokens, preprocess };
  try {
    const result = await deps.pool.run(inferRequest, { onToken, signal: replicaSignal.signal });
    if (!result.ok) {
      const message = result.error ?? 'inference failed';
      // The worker's image errors name the file: that is the request's image, so the request is at fault.
      if (message.startsWith(path)) sink.fail(badRequest(`the image could not be decoded: ${message.slice(path.length + 2)}`, 'messages.content.image_url'));
      else sink.fail(internalError(message));
      return;
    }
    if (result.promptTokens !== plan.promptTokens) {
      deps.log('warn', `request ${inferRequest.id}: the replica counted ${result.promptTokens} prompt tokens, the server planned ${plan.promptTokens}; usage reports the replica's`);
    }
    if (!started) {
      // Stopped from outside before its first token: nothing was sent yet.
      if (job.signal.reason === 'shutdown') sink.fail(unavailable('the server is shutting down'));
      else sink.fail(internalError('the request ended before its first token'));
      return;
    }
    if (!finish) {
      finish = { reason: 'abort', stopReason: null };
      sink.token('', count, finish);
    }
    deps.metrics.finished(finish.reason, (performance.now() - job.arrivedAtMs) / 1000);
    sink.end(usage(result.promptTokens, count), finish);
  } catch (err) {
    if (err instanceof WithdrawnError) sink.fail(job.signal.reason === 'shutdown' ? unavailable('the server is shutting down') : internalError('the request was withdrawn'));
    else if (err instanceof ReplicaUnavailableError) sink.fail(/shutting down/.test(err.message) ? unavailable(err.message) : internalError(err.message));
    else sink.fail(internalError((err as Error).message ?? String(err)));
  } finally {
    job.signal.removeEventListener('abort', stopFromOutside);
    await deps.spool.remove(path).catch(() => undefined);
  }
}
