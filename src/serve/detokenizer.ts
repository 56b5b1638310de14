// Incremental detokenization: the text each new output token adds, as vLLM streams it (one delta per token,
// special tokens skipped, which is vLLM's skip_special_tokens=True default). A token that ends in the middle of a
// UTF-8 character (Gemma's byte-fallback tokens) adds nothing until the character is complete, the way vLLM's
// detokenize_incrementally holds back a trailing U+FFFD. Pure apart from the tokenizer it is given.

export interface TokenDecoder {
  decode(ids: number[], options: { skip_special_tokens: boolean }): string;
}

const REPLACEMENT_CHAR = '\uFFFD';

export class IncrementalDetokenizer {
  private readonly ids: number[] = [];
  /** Tokens before prefixOffset are settled; [prefixOffset, readOffset) is context already emitted. */
  private prefixOffset = 0;
  private readOffset = 0;

  constructor(private readonly tokenizer: TokenDecoder) {}

  /** Adds one token; returns the text it completes ("" while a character is unfinished). `last` flushes. */
  push(id: number, last = false): string {
    this.ids.push(id);
    const prefix = this.decode(this.prefixOffset, this.readOffset);
    const text = this.decode(this.prefixOffset, this.ids.length);
    if (text.length > prefix.length && (last || !text.endsWith(REPLACEMENT_CHAR))) {
      this.prefixOffset = this.readOffset;
      this.readOffset = this.ids.length;
      return text.slice(prefix.length);
    }
    return '';
  }

  private decode(from: number, to: number): string {
    return from === to ? '' : this.tokenizer.decode(this.ids.slice(from, to), { skip_special_tokens: true });
  }
}
