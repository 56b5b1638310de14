// What the server says about the model it serves: the name requests must use (vLLM: the --model argument as
// given, e.g. "tiny"), its path, its context length (vLLM's max_model_len: the text config's
// max_position_embeddings unless --max-model-len says less) and the token ids that end generation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServeConfigError } from './errors.js';

/**
 * Gemma 3's end tokens: <eos> (1) and <end_of_turn> (106), the eos_token_id list of the instruction-tuned
 * checkpoints' generation_config.json, which vLLM adds to the stop tokens. Used when the model directory says
 * nothing (the built-in tiny model has no generation_config.json).
 */
export const GEMMA3_STOP_TOKEN_IDS: readonly number[] = [1, 106];
/** The tokenizer's own EOS: vLLM reports stop_reason null for it and the token id for the other stop tokens. */
export const GEMMA3_EOS_TOKEN_ID = 1;
/** Gemma 3's text_config.max_position_embeddings (4B/12B/27B and the tiny model alike). */
export const GEMMA3_CONTEXT_TOKENS = 131_072;

export interface ServedModel {
  readonly id: string;
  readonly root: string;
  readonly label: string;
  readonly maxModelLen: number;
  readonly stopTokenIds: readonly number[];
  /** Unix seconds: when the server loaded it (vLLM's ModelCard.created). */
  readonly created: number;
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

const ids = (v: unknown): number[] | null => (typeof v === 'number' ? [v] : Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : null);

/** Reads the context length and stop tokens from the model directory, with Gemma 3's values where it is silent. */
export function describeServedModel(o: { id: string; dir: string; label: string; maxModelLen?: number; created: number }): ServedModel {
  const config = readJson(join(o.dir, 'config.json'));
  const text = (config?.text_config ?? {}) as Record<string, unknown>;
  const context = typeof text.max_position_embeddings === 'number' ? text.max_position_embeddings : GEMMA3_CONTEXT_TOKENS;
  const generation = readJson(join(o.dir, 'generation_config.json'));
  const stop = ids(generation?.eos_token_id) ?? GEMMA3_STOP_TOKEN_IDS;
  if (o.maxModelLen !== undefined && o.maxModelLen > context) {
    throw new ServeConfigError(`--max-model-len ${o.maxModelLen} is longer than the model's context (${context} tokens, max_position_embeddings in ${join(o.dir, 'config.json')})`);
  }
  return { id: o.id, root: o.dir, label: o.label, maxModelLen: o.maxModelLen ?? context, stopTokenIds: stop, created: o.created };
}
