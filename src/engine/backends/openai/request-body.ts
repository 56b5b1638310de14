// The /v1/chat/completions request body, as vLLM expects it for a Gemma 3 pan-and-scan request (and as
// `vllm bench serve` sends it: vllm/benchmarks/lib/endpoint_request_func.py builds model, messages,
// max_completion_tokens, stream, stream_options.include_usage, then merges ignore_eos and --extra-body last).
// Image first, then the text; mm_processor_kwargs carry the request's own pan-and-scan settings (vLLM merges them
// over the server's --mm-processor-kwargs). Pure: no I/O.
//
// The body is produced as a prefix and a suffix around the image URL so that a multi-megabyte base64 data URL is
// never copied through JSON.stringify on the request's clock: the caller writes prefix, URL bytes, suffix.
import type { PreprocessSettings } from '../../../panscan/preprocess.js';

export type MaxTokensField = 'max_completion_tokens' | 'max_tokens';

export interface BodyOptions {
  /** Send `ignore_eos: true` (fixed output length, as vllm bench serve --ignore-eos). false drops the field. */
  readonly ignoreEos: boolean;
  /** vLLM and OpenAI take max_completion_tokens; transformers serve answers 422 to it and wants max_tokens. */
  readonly maxTokensField: MaxTokensField;
  /** stream_options.include_usage (transformers serve answers 422 to stream_options: false drops it). */
  readonly includeUsage: boolean;
  /** Send mm_processor_kwargs (servers that reject unknown fields need false; pan-and-scan is then the server's). */
  readonly mmProcessorKwargs: boolean;
  /** Merged into the body last (shallow), like vllm bench serve's --extra-body. */
  readonly extraBody?: Readonly<Record<string, unknown>>;
}

export const DEFAULT_BODY_OPTIONS: BodyOptions = { ignoreEos: true, maxTokensField: 'max_completion_tokens', includeUsage: true, mmProcessorKwargs: true };

export interface BodyRequest {
  readonly model: string;
  readonly prompt: string;
  readonly maxNewTokens: number;
  readonly preprocess: PreprocessSettings;
}

/** Gemma 3's processor kwargs for one request (HF names; vLLM passes them to Gemma3Processor). */
export function mmProcessorKwargs(settings: PreprocessSettings): Record<string, number | boolean> {
  const ps = settings.panScan;
  if (ps === null) return { do_pan_and_scan: false };
  return {
    do_pan_and_scan: true,
    pan_and_scan_min_crop_size: ps.minCropSize,
    pan_and_scan_max_num_crops: ps.maxNumCrops,
    pan_and_scan_min_ratio_to_activate: ps.minRatioToActivate,
  };
}

const URL_MARK = 'gemma-bench-image-url-placeholder-7f3a';

/** The body as an object, with `imageUrl` in place (tests and small bodies). */
export function chatBodyObject(req: BodyRequest, imageUrl: string, opts: BodyOptions = DEFAULT_BODY_OPTIONS): Record<string, unknown> {
  const body: Record<string, unknown> = { model: req.model, stream: true };
  if (opts.includeUsage) body.stream_options = { include_usage: true };
  body[opts.maxTokensField] = req.maxNewTokens;
  if (opts.ignoreEos) body.ignore_eos = true;
  body.temperature = 0;
  body.messages = [
    {
      role: 'user',
      content: [
        { type: 'image_url', image_url: { url: imageUrl } },
        { type: 'text', text: req.prompt },
      ],
    },
  ];
  if (opts.mmProcessorKwargs) body.mm_processor_kwargs = mmProcessorKwargs(req.preprocess);
  if (opts.extraBody) Object.assign(body, opts.extraBody);
  return body;
}

export interface BodyTemplate {
  /** JSON text up to (excluding) the image URL. */
  readonly prefix: string;
  /** JSON text after the image URL. */
  readonly suffix: string;
}

/**
 * prefix + URL + suffix is exactly JSON.stringify(chatBodyObject(req, URL, opts)) for a URL that needs no JSON
 * escaping (data: URLs with base64, http(s) URLs without quotes, backslashes or control characters).
 */
export function chatBodyTemplate(req: BodyRequest, opts: BodyOptions = DEFAULT_BODY_OPTIONS): BodyTemplate {
  const json = JSON.stringify(chatBodyObject(req, URL_MARK, opts));
  const at = json.indexOf(URL_MARK);
  if (at < 0 || json.indexOf(URL_MARK, at + 1) >= 0) throw new Error('extraBody must not replace or repeat the image URL');
  return { prefix: json.slice(0, at), suffix: json.slice(at + URL_MARK.length) };
}

/** Whether a URL can go between prefix and suffix unescaped. */
export function urlNeedsNoEscape(url: string): boolean {
  return JSON.stringify(url).length === url.length + 2;
}

/** The data: URL prefix for an image's MIME type. */
export function dataUrlPrefix(mime: string): string {
  return `data:${mime};base64,`;
}
