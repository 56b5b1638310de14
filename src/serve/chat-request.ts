// POST /v1/chat/completions request body -> a validated ChatRequest, checked in vLLM's order: the request schema
// first (400 "Bad Request", as pydantic would), then the model name (404), then the content (400
// "BadRequestError"). Pure: the image stays encoded bytes here.
//
// What this test server takes (and why it refuses the rest rather than guessing):
//   - exactly one message, role "user", whose content is a list holding exactly one image_url part (a base64 data
//     URL) and at most one text part, in either order. The prompt is always rendered image-first, which is how
//     gemma-bench's token accounting renders it (src/panscan/prompt.ts); vLLM would keep a text-first order.
//   - max_completion_tokens, else max_tokens (vLLM's precedence), at least 1; neither: up to the context length.
//   - ignore_eos (default false): without it generation stops at Gemma 3's end tokens, as in vLLM.
//   - temperature: any value >= 0 is accepted, but decoding is ALWAYS greedy (argmax): the onnx backend has no
//     sampler. With random weights the text is junk either way; speed does not depend on it.
//   - n must be 1; stream_options only with stream=true (vLLM's rule); unknown fields are ignored, as vLLM does.
import type { PanScanOptions } from '../panscan/types.js';
import { badRequest, modelNotFound, schemaError } from './errors.js';
import { parseImageDataUrl, type ImageData } from './image-url.js';
import { panScanFromMmKwargs } from './mm-kwargs.js';

export interface ChatRequest {
  /** The served model name the request asked for (the default when it named none). */
  readonly model: string;
  readonly stream: boolean;
  /** stream_options.include_usage: a last chunk with `choices: []` and `usage`. */
  readonly includeUsage: boolean;
  /** stream_options.continuous_usage_stats: every chunk carries the usage so far. */
  readonly continuousUsage: boolean;
  /** max_completion_tokens ?? max_tokens; null: up to the model's context length. */
  readonly maxTokens: number | null;
  readonly ignoreEos: boolean;
  /** As given; decoding is greedy whatever it is (see the header). */
  readonly temperature: number | null;
  /** The user's text (may be empty). */
  readonly text: string;
  readonly image: ImageData;
  /** From mm_processor_kwargs; null = pan-and-scan off. */
  readonly panScan: PanScanOptions | null;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `served` is the model name this server answers to. */
export function parseChatRequest(body: unknown, served: string): ChatRequest {
  // ---- schema (what pydantic would reject) -------------------------------------------------------------------
  if (!isObject(body)) throw schemaError(['body'], 'model_attributes_type', 'Input should be a valid dictionary or object to extract fields from', body);
  const messages = body.messages;
  if (messages === undefined) throw schemaError(['body', 'messages'], 'missing', 'Field required', undefined);
  if (!Array.isArray(messages)) throw schemaError(['body', 'messages'], 'list_type', 'Input should be a valid list', messages);
  const model = optional(body, 'model', 'string', 'string_type', 'Input should be a valid string');
  const stream = optional(body, 'stream', 'boolean', 'bool_type', 'Input should be a valid boolean');
  const ignoreEos = optional(body, 'ignore_eos', 'boolean', 'bool_type', 'Input should be a valid boolean');
  const maxTokens = optionalInt(body, 'max_tokens');
  const maxCompletionTokens = optionalInt(body, 'max_completion_tokens');
  const n = optionalInt(body, 'n');
  const temperature = optional(body, 'temperature', 'number', 'float_type', 'Input should be a valid number');
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && !isObject(streamOptions)) {
    throw schemaError(['body', 'stream_options'], 'model_type', 'Input should be a valid dictionary or instance of StreamOptions', streamOptions);
  }

  // ---- the model (vLLM's _check_model: a missing name means the served model) --------------------------------
  if (model !== undefined && model !== served) throw modelNotFound(model);

  // ---- sampling parameters (vLLM's SamplingParams / request validators) --------------------------------------
  if (isObject(streamOptions) && stream !== true) throw badRequest('Stream options can only be defined when `stream=True`.', 'stream_options');
  if (n !== undefined && n !== 1) throw badRequest(`n must be 1 on this test server (got ${n}): it returns one choice per request`, 'n');
  const max = maxCompletionTokens ?? maxTokens;
  if (max !== undefined && max < 1) throw badRequest(`max_tokens must be at least 1, got ${max}.`, maxCompletionTokens !== undefined ? 'max_completion_tokens' : 'max_tokens');
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= 0)) throw badRequest(`temperature must be non-negative, got ${temperature}.`, 'temperature');

  // ---- content ----------------------------------------------------------------------------------------------
  const { text, image } = userTurn(messages);
  const panScan = panScanFromMmKwargs(body.mm_processor_kwargs);
  // StreamOptions.include_usage defaults to true in vLLM when stream_options is given at all.
  const includeUsage = isObject(streamOptions) && (streamOptions.include_usage === undefined || streamOptions.include_usage === true);
  const continuousUsage = includeUsage && isObject(streamOptions) && streamOptions.continuous_usage_stats === true;
  return {
    model: model ?? served,
    stream: stream === true,
    includeUsage,
    continuousUsage,
    maxTokens: max ?? null,
    ignoreEos: ignoreEos === true,
    temperature: temperature ?? null,
    text,
    image,
    panScan,
  };
}

type TypeName = 'string' | 'boolean' | 'number';
type TypeOf<T extends TypeName> = T extends 'string' ? string : T extends 'boolean' ? boolean : number;

/** A field that may be absent or null; present, it must have the type. */
function optional<T extends TypeName>(body: Json, key: string, type: T, kind: string, msg: string): TypeOf<T> | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== type) throw schemaError(['body', key], kind, msg, v);
  return v as TypeOf<T>;
}

function optionalInt(body: Json, key: string): number | undefined {
  const v = optional(body, key, 'number', 'int_type', 'Input should be a valid integer');
  if (v !== undefined && !Number.isInteger(v)) throw schemaError(['body', key], 'int_from_float', 'Input should be a valid integer, got a number with a fractional part', v);
  return v;
}

/** The one user message: its text and its one image. */
function userTurn(messages: readonly unknown[]): { text: string; image: ImageData } {
  if (messages.length !== 1) {
    throw badRequest(
      `this test server takes exactly one message (role "user", with one image and its question); got ${messages.length}. System prompts and earlier turns are not supported: gemma-bench's token accounting renders a single user turn.`,
      'messages',
    );
  }
  const m = messages[0];
  if (!isObject(m)) throw schemaError(['body', 'messages', '0'], 'model_type', 'Input should be a valid dictionary', m);
  if (m.role !== 'user') throw badRequest(`the message must have role "user" (got ${JSON.stringify(m.role)})`, 'messages.role');
  const content = m.content;
  if (typeof content === 'string' || content === undefined || content === null) {
    throw badRequest('exactly one image is required per request: give the message content as a list with one {"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}} part and one {"type": "text", "text": "..."} part', 'messages.content');
  }
  if (!Array.isArray(content)) throw badRequest('the message content must be a string or a list of parts', 'messages.content');
  const images: string[] = [];
  const texts: string[] = [];
  for (const part of content) {
    if (!isObject(part) || typeof part.type !== 'string') throw badRequest('each content part must be an object with a "type"', 'messages.content');
    if (part.type === 'text') {
      if (typeof part.text !== 'string') throw badRequest('a text part needs a string "text"', 'messages.content.text');
      texts.push(part.text);
    } else if (part.type === 'image_url') {
      // OpenAI's {"url": "..."} object, or vLLM's shorthand of a bare string.
      const iu = part.image_url;
      const url = typeof iu === 'string' ? iu : isObject(iu) && typeof iu.url === 'string' ? iu.url : undefined;
      if (url === undefined) throw badRequest('an image_url part needs "image_url": {"url": "data:image/...;base64,..."}', 'messages.content.image_url');
      images.push(url);
    } else {
      throw badRequest(`content part type "${part.type}" is not supported here; use "text" and "image_url"`, 'messages.content');
    }
  }
  if (images.length === 0) throw badRequest('exactly one image is required per request; the message has none', 'messages.content');
  // vLLM's wording when --limit-mm-per-prompt is exceeded.
  if (images.length > 1) throw badRequest(`At most 1 image(s) may be provided in one prompt (got ${images.length}).`, 'messages.content');
  if (texts.length > 1) throw badRequest(`at most one text part per message (got ${texts.length}); put the whole question in one`, 'messages.content');
  return { text: texts[0] ?? '', image: parseImageDataUrl(images[0]) };
}
