// Test helpers for the tiny model: sessions, left-padded batches, decoder feeds and greedy decoding with
// and without the KV cache. Kept out of src/ because the onnx backend owns the production versions.
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';

export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };

export interface Sessions {
  readonly vision: ort.InferenceSession;
  readonly embed: ort.InferenceSession;
  readonly decoder: ort.InferenceSession;
}

export interface TextDims {
  readonly numLayers: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
}

export async function loadSessions(dir: string): Promise<Sessions> {
  const [vision, embed, decoder] = await Promise.all([
    ort.InferenceSession.create(join(dir, 'vision_encoder.onnx'), SESSION_OPTIONS),
    ort.InferenceSession.create(join(dir, 'embed_tokens.onnx'), SESSION_OPTIONS),
    ort.InferenceSession.create(join(dir, 'decoder_model_merged.onnx'), SESSION_OPTIONS),
  ]);
  return { vision, embed, decoder };
}

export async function releaseSessions(s: Sessions | undefined): Promise<void> {
  if (!s) return;
  await Promise.all([s.vision.release(), s.embed.release(), s.decoder.release()]);
}

const i64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map((x) => BigInt(x))), [rows.length, rows[0].length]);

/** Left-pads prompts with token 0; positions count only real tokens (HF: cumsum(mask) - 1, pads get 1). */
export function leftPad(prompts: number[][]): { ids: number[][]; mask: number[][]; positions: number[][] } {
  const len = Math.max(...prompts.map((p) => p.length));
  const ids = prompts.map((p) => [...Array<number>(len - p.length).fill(0), ...p]);
  const mask = prompts.map((p) => [...Array<number>(len - p.length).fill(0), ...Array<number>(p.length).fill(1)]);
  const positions = mask.map((row) => {
    let c = -1;
    return row.map((m) => (m ? ++c : 1));
  });
  return { ids, mask, positions };
}

export async function embedIds(s: Sessions, ids: number[][]): Promise<ort.Tensor> {
  return (await s.embed.run({ input_ids: i64(ids) })).inputs_embeds as ort.Tensor;
}

export type Present = Record<string, ort.Tensor>;

export function emptyPast(d: TextDims, batch: number): Present {
  const past: Present = {};
  for (let i = 0; i < d.numLayers; i++) {
    for (const kv of ['key', 'value']) {
      past[`present.${i}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [batch, d.numKvHeads, 0, d.headDim]);
    }
  }
  return past;
}

export interface DecoderCall {
  readonly embeds: ort.Tensor;
  readonly mask: number[][];
  readonly positions: number[][];
  /** The previous call's outputs (present.*), or emptyPast(). */
  readonly past: Present;
  readonly keep: number;
}

export async function runDecoder(s: Sessions, d: TextDims, call: DecoderCall): Promise<ort.InferenceSession.OnnxValueMapType> {
  const feeds: Record<string, ort.Tensor> = {
    inputs_embeds: call.embeds,
    attention_mask: i64(call.mask),
    position_ids: i64(call.positions),
    num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([BigInt(call.keep)]), []),
  };
  for (let i = 0; i < d.numLayers; i++) {
    feeds[`past_key_values.${i}.key`] = call.past[`present.${i}.key`];
    feeds[`past_key_values.${i}.value`] = call.past[`present.${i}.value`];
  }
  return s.decoder.run(feeds);
}

/** Argmax over the vocabulary at the last kept position of each batch row; also returns that row of logits. */
export function lastArgmax(logits: ort.Tensor): { tokens: number[]; rows: Float32Array[] } {
  const [b, k, v] = logits.dims;
  const data = logits.data as Float32Array;
  const tokens: number[] = [];
  const rows: Float32Array[] = [];
  for (let r = 0; r < b; r++) {
    const off = (r * k + (k - 1)) * v;
    const row = data.subarray(off, off + v);
    let best = 0;
    for (let i = 1; i < v; i++) if (row[i] > row[best]) best = i;
    tokens.push(best);
    rows.push(Float32Array.from(row));
  }
  return { tokens, rows };
}

export interface GreedyResult {
  /** tokens[step][row] */
  readonly tokens: number[][];
  /** lastLogits[step][row] */
  readonly logits: Float32Array[][];
}

/** Greedy decoding with the KV cache: one prefill, then one token per step. */
export async function greedyWithCache(s: Sessions, d: TextDims, prompts: number[][], steps: number): Promise<GreedyResult> {
  const { ids, mask, positions } = leftPad(prompts);
  const out: GreedyResult = { tokens: [], logits: [] };
  let past = emptyPast(d, prompts.length);
  let curIds = ids;
  let curMask = mask;
  let curPos = positions;
  for (let step = 0; step < steps; step++) {
    const r = await runDecoder(s, d, { embeds: await embedIds(s, curIds), mask: curMask, positions: curPos, past, keep: 1 });
    const { tokens, rows } = lastArgmax(r.logits as ort.Tensor);
    out.tokens.push(tokens);
    out.logits.push(rows);
    past = r as Present;
    curIds = tokens.map((t) => [t]);
    curMask = curMask.map((m) => [...m, 1]);
    curPos = curPos.map((p) => [p[p.length - 1] + 1]);
  }
  return out;
}

/** Greedy decoding that re-runs the whole sequence every step with no cache. */
export async function greedyWithoutCache(s: Sessions, d: TextDims, prompts: number[][], steps: number): Promise<GreedyResult> {
  const seqs = prompts.map((p) => [...p]);
  const out: GreedyResult = { tokens: [], logits: [] };
  for (let step = 0; step < steps; step++) {
    const { ids, mask, positions } = leftPad(seqs);
    const r = await runDecoder(s, d, { embeds: await embedIds(s, ids), mask, positions, past: emptyPast(d, seqs.length), keep: 1 });
    const { tokens, rows } = lastArgmax(r.logits as ort.Tensor);
    out.tokens.push(tokens);
    out.logits.push(rows);
    tokens.forEach((t, i) => seqs[i].push(t));
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Deterministic pseudo-random pixels in roughly the normalized range [-1, 1]. */
export function testPixels(numImages: number, sizePx = 896): Float32Array {
  const px = new Float32Array(numImages * 3 * sizePx * sizePx);
  for (let i = 0; i < px.length; i++) px[i] = 0.6 * Math.sin(i * 0.0137) + 0.4 * Math.cos(i * 0.00071 + (i % 7));
  return px;
}

/** Deterministic token ids in [3, 256000), avoiding the special ones. */
export function testTokens(n: number, salt = 1): number[] {
  return Array.from({ length: n }, (_, i) => 3 + ((i * 7919 + salt * 104729) % 255_990));
}
