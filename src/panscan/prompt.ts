// Prompt text exactly as Gemma3Processor builds it (panscan-spec.md §3): the Gemma 3 chat template for one user
// turn (the image, then the text) with the generation prompt, and each <start_of_image> expanded into the image
// sequence, or, with crops, the "Here is the original image ..." wrapper. Pure string work; tokenizing is in
// tokenizer.ts, and is done on the whole string at once because adjacent newlines merge into single tokens.
import { TOKENS_PER_IMAGE } from './types.js';

export const BOS = '<bos>';
export const BOI = '<start_of_image>';
export const EOI = '<end_of_image>';
export const IMAGE_SOFT_TOKEN = '<image_soft_token>';
export const IMAGE_SOFT_TOKEN_ID = 262144;
export const BOI_TOKEN_ID = 255999;
export const EOI_TOKEN_ID = 256000;

/** The default question when the user gives no prompt: a document-understanding request. */
export const DEFAULT_PROMPT = 'Extract all the text in this document and summarise what it is about.';

/** HF's `full_image_sequence`. */
export const FULL_IMAGE_SEQUENCE = `\n\n${BOI}${IMAGE_SOFT_TOKEN.repeat(TOKENS_PER_IMAGE)}${EOI}\n\n`;

/** What replaces one <start_of_image> for an image with numCrops crops. */
export function expandedImageText(numCrops: number): string {
  if (numCrops === 0) return FULL_IMAGE_SEQUENCE;
  return (
    `Here is the original image ${FULL_IMAGE_SEQUENCE} and here are some crops to help you see better ` +
    Array.from({ length: numCrops }, () => FULL_IMAGE_SEQUENCE).join(' ')
  );
}

/** Thrown when a user prompt would corrupt the image placeholders. */
export class PromptError extends Error {
  override name = 'PromptError';
}

const RESERVED = [BOI, EOI, IMAGE_SOFT_TOKEN, '<start_of_turn>', '<end_of_turn>', BOS];

/**
 * The Gemma 3 chat template (as on the Hub) rendered for one user message whose content is
 * [{type: image}, {type: text, text}], with add_generation_prompt=True. The template trims the text.
 */
export function renderChatTemplate(text: string): string {
  const bad = RESERVED.find((t) => text.includes(t));
  if (bad) throw new PromptError(`the prompt contains the reserved token ${bad}; remove it (gemma-bench inserts the image itself)`);
  return `${BOS}<start_of_turn>user\n${BOI}${text.trim()}<end_of_turn>\n<start_of_turn>model\n`;
}

/** The full prompt string the tokenizer sees for one image with numCrops crops. */
export function buildPrompt(text: string, numCrops: number): string {
  return renderChatTemplate(text).replace(BOI, expandedImageText(numCrops));
}
