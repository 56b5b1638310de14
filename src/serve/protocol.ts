// Response bodies in vLLM's shapes for /v1/models and /v1/chat/completions (streamed chunks and whole responses).
// Pure. Checked in vllm-project/vllm:
//  - vllm/entrypoints/openai/engine/protocol.py: ModelCard/ModelList/ModelPermission, UsageInfo
//    {prompt_tokens, total_tokens, completion_tokens}.
//  - vllm/entrypoints/openai/chat_completion/serving.py, chat_completion_stream_generator(): chunks are dumped with
//    exclude_unset, so a field appears only where vLLM sets it: the first chunk is delta {role: "assistant",
//    content: ""} with logprobs null and finish_reason null, sent when the first output arrives (not when the
//    request does); each token then gives delta {content}; the finishing chunk adds finish_reason and
//    stop_reason; with include_usage a last chunk has choices [] and usage (dumped with exclude_none); then
//    "data: [DONE]". An error after streaming began is sent as one `data: {"error": ...}` event before [DONE].
//  - chat_completion_full_generator(): the whole response, object "chat.completion", with usage.
import { randomUUID } from 'node:crypto';

export type FinishReason = 'stop' | 'length' | 'abort';

export interface Usage {
  readonly prompt_tokens: number;
  readonly total_tokens: number;
  readonly completion_tokens: number;
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, total_tokens: promptTokens + completionTokens, completion_tokens: completionTokens };
}

/** vLLM's request ids: "chatcmpl-" + a uuid4 in hex. */
export const newCompletionId = (): string => `chatcmpl-${randomUUID().replaceAll('-', '')}`;

export const unixSeconds = (ms = Date.now()): number => Math.floor(ms / 1000);

export interface ModelCardInput {
  readonly id: string;
  readonly created: number;
  /** The model's path (vLLM: the --model argument). */
  readonly root: string;
  readonly maxModelLen: number;
}

export function modelList(m: ModelCardInput): object {
  return {
    object: 'list',
    data: [
      {
        id: m.id,
        object: 'model',
        created: m.created,
        owned_by: 'gemma-bench',
        root: m.root,
        parent: null,
        max_model_len: m.maxModelLen,
        permission: [
          {
            id: `modelperm-${randomUUID().replaceAll('-', '')}`,
            object: 'model_permission',
            created: m.created,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: '*',
            group: null,
            is_blocking: false,
          },
        ],
      },
    ],
  };
}

/** What every chunk and response of one request shares. */
export interface CompletionHead {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

interface StreamChoice {
  readonly index: 0;
  readonly delta: { readonly role?: 'assistant'; readonly content: string };
  readonly logprobs: null;
  readonly finish_reason: FinishReason | null;
  readonly stop_reason?: number | string | null;
}

function chunk(head: CompletionHead, choices: readonly StreamChoice[], u?: Usage): object {
  return { id: head.id, object: 'chat.completion.chunk', created: head.created, model: head.model, choices, ...(u ? { usage: u } : {}) };
}

/** The first chunk: the role, with empty content. */
export const roleChunk = (head: CompletionHead, u?: Usage): object => chunk(head, [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }], u);

/** One token's text; the last one also carries why generation finished. */
export function contentChunk(head: CompletionHead, content: string, finish: { reason: FinishReason; stopReason: number | null } | null, u?: Usage): object {
  const choice: StreamChoice = finish
    ? { index: 0, delta: { content }, logprobs: null, finish_reason: finish.reason, stop_reason: finish.stopReason }
    : { index: 0, delta: { content }, logprobs: null, finish_reason: null };
  return chunk(head, [choice], u);
}

/** stream_options.include_usage: the last chunk before [DONE]. */
export const usageChunk = (head: CompletionHead, u: Usage): object => chunk(head, [], u);

export function chatCompletion(head: CompletionHead, content: string, finish: { reason: FinishReason; stopReason: number | null }, u: Usage): object {
  return {
    id: head.id,
    object: 'chat.completion',
    created: head.created,
    model: head.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content, refusal: null, annotations: null, audio: null, function_call: null, tool_calls: [], reasoning_content: null },
        logprobs: null,
        finish_reason: finish.reason,
        stop_reason: finish.stopReason,
      },
    ],
    service_tier: null,
    system_fingerprint: null,
    usage: { ...u, prompt_tokens_details: null },
    prompt_logprobs: null,
    kv_transfer_params: null,
  };
}

/** One server-sent event carrying JSON, or the closing marker. */
export const sseData = (body: object): string => `data: ${JSON.stringify(body)}\n\n`;
export const SSE_DONE = 'data: [DONE]\n\n';
