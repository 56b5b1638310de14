// Token accounting of one request before it is queued: the image's size (its header only; the replica decodes the
// pixels) -> the crop plan -> the prompt's length -> how many tokens may be generated. It uses gemma-bench's own
// functions (src/panscan), the same the onnx replica runs, so the count is what the replica will report; vLLM
// needs the prompt length at this point too, for its default max_tokens and its context-length checks.
import sharp, { type Metadata } from 'sharp';
import { planCrops } from '../panscan/plan.js';
import { PromptError } from '../panscan/prompt.js';
import { promptInputIds } from '../panscan/tokenizer.js';
import { DEFAULT_PIXEL_LIMIT, type PanScanOptions } from '../panscan/types.js';
import { badRequest } from './errors.js';

export interface PromptPlan {
  readonly width: number;
  readonly height: number;
  readonly crops: number;
  readonly promptTokens: number;
}

const IMAGE_PARAM = 'messages.content.image_url';

/** Width and height from the image's header; a 400 when the bytes are not an image sharp can read. */
export async function imageSize(bytes: Buffer, pixelLimit = DEFAULT_PIXEL_LIMIT): Promise<{ width: number; height: number }> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw badRequest(`the image could not be read: ${(err as Error).message.replace(/^Input buffer /, '')}. Send a PNG, JPEG or WebP file's bytes, base64-encoded.`, IMAGE_PARAM);
  }
  const { width, height } = meta;
  if (!width || !height) throw badRequest('the image has no size in its header', IMAGE_PARAM);
  if (width * height > pixelLimit) {
    throw badRequest(`the image is ${width}x${height} = ${width * height} pixels, over the ${pixelLimit}-pixel limit (Pillow's decompression-bomb guard)`, IMAGE_PARAM);
  }
  return { width, height };
}

/** Crops and prompt tokens for this image size, text and pan-and-scan setting (pure apart from the tokenizer). */
export function planPrompt(text: string, width: number, height: number, panScan: PanScanOptions | null): PromptPlan {
  const crops = panScan ? planCrops(width, height, panScan).length : 0;
  let promptTokens: number;
  try {
    promptTokens = promptInputIds(text, crops).length;
  } catch (err) {
    if (err instanceof PromptError) throw badRequest(err.message, 'messages.content.text');
    throw err;
  }
  return { width, height, crops, promptTokens };
}

/**
 * vLLM's checks and default (vllm/entrypoints/openai/engine/serving.py _validate_input, and get_max_tokens): the
 * prompt must leave room for at least one token, a requested max_tokens must fit, and none requested means
 * "up to the context length".
 */
export function resolveMaxTokens(requested: number | null, promptTokens: number, maxModelLen: number): number {
  if (promptTokens >= maxModelLen) {
    throw badRequest(
      `This model's maximum context length is ${maxModelLen} tokens. However, your request has ${promptTokens} input tokens. Please reduce the length of the input messages.`,
      'input_tokens',
    );
  }
  if (requested === null) return maxModelLen - promptTokens;
  if (promptTokens + requested > maxModelLen) {
    throw badRequest(
      `'max_tokens' or 'max_completion_tokens' is too large: ${requested}. This model's maximum context length is ${maxModelLen} tokens and your request has ${promptTokens} input tokens (${requested} > ${maxModelLen} - ${promptTokens}).`,
      'max_tokens',
    );
  }
  return requested;
}
