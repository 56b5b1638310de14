// Greedy generation for one micro-batch on the three onnx-community Gemma 3 graphs: vision encoder over every
// entry of every request -> token embeddings -> image features scattered into the image-soft-token positions ->
// prefill -> decode with the KV cache for exactly maxNewTokens (EOS ignored so runs compare). Each token is
// stamped as soon as its argmax is known. Requests are left-padded to a common length. Float I/O follows each
// graph's declared element type (float32, or float16 in fp16 exports), converting only where two graphs disagree.
import * as ort from 'onnxruntime-node';
import { nowMs } from '../../../util/clock.js';
import { argmax, convertFloats, toFloat16, type FloatData, type FloatType } from './float16.js';
import type { DecoderShape } from './protocol.js';

/** The float element type of each tensor generate.ts passes between graphs. */
export interface FloatIoTypes {
  readonly pixelValues: FloatType;
  readonly imageFeatures: FloatType;
  readonly embedsOut: FloatType;
  readonly embedsIn: FloatType;
  readonly pastKv: FloatType;
  readonly logits: FloatType;
}

export interface OnnxSessions {
  readonly vision: ort.InferenceSession;
  readonly embed: ort.InferenceSession;
  readonly decoder: ort.InferenceSession;
  readonly hasLogitsToKeep: boolean;
  readonly io: FloatIoTypes;
}

type Meta = readonly ort.InferenceSession.ValueMetadata[];
const floatTypeOf = (meta: Meta, name: string): FloatType => {
  const m = meta.find((x) => x.name === name);
  return m?.isTensor && m.type === 'float16' ? 'float16' : 'float32';
};

/** Reads the element types from the sessions' metadata (float32 where a graph does not say). */
export function floatIoTypes(vision: ort.InferenceSession, embed: ort.InferenceSession, decoder: ort.InferenceSession): FloatIoTypes {
  return {
    pixelValues: floatTypeOf(vision.inputMetadata, 'pixel_values'),
    imageFeatures: floatTypeOf(vision.outputMetadata, 'image_features'),
    embedsOut: floatTypeOf(embed.outputMetadata, 'inputs_embeds'),
    embedsIn: floatTypeOf(decoder.inputMetadata, 'inputs_embeds'),
    pastKv: floatTypeOf(decoder.inputMetadata, 'past_key_values.0.key'),
    logits: floatTypeOf(decoder.outputMetadata, 'logits'),
  };
}

const newFloats = (type: FloatType, n: number): FloatData => (type === 'float16' ? new Uint16Array(n) : new Float32Array(n));

export interface GenerationInput {
  /** [entries, 3, 896, 896] for this request. */
  readonly pixelValues: Float32Array;
  readonly entries: number;
  readonly inputIds: readonly number[];
}

export interface GenerationOutput {
  readonly visionMs: number;
  /** Per request: token ids and nowMs() stamps (the same stamps for every member of the batch). */
  readonly tokenIds: number[][];
  readonly tokenTimes: number[];
}

const ENTRY_PX = 896;

/** Entries per vision_encoder run on CPU; the CUDA EP can take more. */
export const VISION_CHUNK_ENTRIES = 4;

function concatPixels(inputs: readonly GenerationInput[], elements: number): Float32Array {
  const out = new Float32Array(elements);
  let off = 0;
  for (const x of inputs) {
    const n = x.entries * 3 * ENTRY_PX * ENTRY_PX;
    out.set(x.pixelValues.subarray(0, n), off);
    off += n;
  }
  return out;
}

function floatTensor(type: FloatType, data: FloatData, dims: readonly number[]): ort.Tensor {
  return type === 'float16' ? new ort.Tensor('float16', data as Uint16Array, dims) : new ort.Tensor('float32', data as Float32Array, dims);
}

function emptyKv(type: FloatType, b: number, shape: DecoderShape): ort.Tensor {
  return floatTensor(type, newFloats(type, 0), [b, shape.numKeyValueHeads, 0, shape.headDim]);
}

/** Optional: see each step's tokens as they are produced, and stop early (the serve command streams and cancels). */
export interface GenerationHooks {
  /** tokenIds[r]: request r's token at this step. */
  onStep?(step: number, tokenIds: readonly number[]): void;
  /** Checked after each step: true stops the loop, so fewer than maxNewTokens tokens come back. */
  shouldStop?(): boolean;
}

export async function generateBatch(s: OnnxSessions, shape: DecoderShape, inputs: readonly GenerationInput[], maxNewTokens: number, visionChunk = VISION_CHUNK_ENTRIES, hooks?: GenerationHooks): Promise<GenerationOutput> {
  const b = inputs.length;
  // Vision over all entries of the batch, in request order (features are consumed in that order), in chunks
  // of at most visionChunk entries: full attention over 4096 patches needs ~256 MB of scratch per entry on CPU.
  const totalEntries = inputs.reduce((n, x) => n + x.entries, 0);
  const entryElems = 3 * ENTRY_PX * ENTRY_PX;
  const H = shape.hiddenSize;
  const io = s.io;
  // Features are kept in the decoder's embedding type, ready to be scattered into the prompt embeddings.
  const features = newFloats(io.embedsIn, totalEntries * 256 * H);
  const tVision = nowMs();
  if (totalEntries > 0) {
    const all = b === 1 ? inputs[0].pixelValues.subarray(0, totalEntries * entryElems) : concatPixels(inputs, totalEntries * entryElems);
    for (let start = 0; start < totalEntries; start += visionChunk) {
      const n = Math.min(visionChunk, totalEntries - start);
      const chunk = all.subarray(start * entryElems, (start + n) * entryElems);
      const pixels = io.pixelValues === 'float16' ? new ort.Tensor('float16', toFloat16(chunk), [n, 3, ENTRY_PX, ENTRY_PX]) : new ort.Tensor('float32', chunk, [n, 3, ENTRY_PX, ENTRY_PX]);
      const out = await s.vision.run({ pixel_values: pixels });
      const feats = convertFloats(out.image_features.data as FloatData, io.imageFeatures, io.embedsIn);
      (features as Float32Array).set(feats as Float32Array, start * 256 * H);
    }
  }
  const visionMs = nowMs() - tVision;

  // Prompt embeddings, left padded.
  const L = Math.max(...inputs.map((x) => x.inputIds.length));
  const ids = new BigInt64Array(b * L).fill(BigInt(shape.padTokenId));
  const mask = new BigInt64Array(b * L);
  const pos = new BigInt64Array(b * L);
  for (let r = 0; r < b; r++) {
    const seq = inputs[r].inputIds;
    const pad = L - seq.length;
    for (let i = 0; i < seq.length; i++) {
      ids[r * L + pad + i] = BigInt(seq[i]);
      mask[r * L + pad + i] = 1n;
      pos[r * L + pad + i] = BigInt(i);
    }
  }
  const eOut = await s.embed.run({ input_ids: new ort.Tensor('int64', ids, [b, L]) });
  const embeds = convertFloats(eOut.inputs_embeds.data as FloatData, io.embedsOut, io.embedsIn) as Float32Array;
  // Scatter image features into the image-soft-token rows, request by request, entry by entry.
  let featRow = 0;
  for (let r = 0; r < b; r++) {
    const want = inputs[r].entries * 256;
    let got = 0;
    for (let t = 0; t < L; t++) {
      if (ids[r * L + t] !== BigInt(shape.imageTokenId)) continue;
      if (got === want) throw new Error(`request ${r}: more image tokens in the prompt than image features (${want})`);
      embeds.set((features as Float32Array).subarray((featRow + got) * H, (featRow + got + 1) * H), (r * L + t) * H);
      got++;
    }
    if (got !== want) throw new Error(`request ${r}: ${got} image tokens in the prompt but ${want} image features`);
    featRow += want;
  }

  const tokenIds: number[][] = inputs.map(() => []);
  const tokenTimes: number[] = [];
  let past: Record<string, ort.Tensor> = {};
  for (let l = 0; l < shape.numLayers; l++) {
    past[`past_key_values.${l}.key`] = emptyKv(io.pastKv, b, shape);
    past[`past_key_values.${l}.value`] = emptyKv(io.pastKv, b, shape);
  }
  let stepEmbeds: ort.Tensor = floatTensor(io.embedsIn, embeds, [b, L, H]);
  let stepMask = mask;
  let stepPos = new ort.Tensor('int64', pos, [b, L]);
  let seqLen = L;
  const nextPos = inputs.map((x) => BigInt(x.inputIds.length));
  for (let step = 0; step < maxNewTokens; step++) {
    const feeds: Record<string, ort.Tensor> = {
      inputs_embeds: stepEmbeds,
      attention_mask: new ort.Tensor('int64', stepMask, [b, seqLen]),
      position_ids: stepPos,
      ...past,
    };
    if (s.hasLogitsToKeep) feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.of(1n), []);
    const out = await s.decoder.run(feeds);
    const logits = out.logits;
    const [, kept, vocab] = logits.dims as number[];
    const data = logits.data as FloatData;
    const next = new BigInt64Array(b);
    for (let r = 0; r < b; r++) {
      const best = argmax(data, io.logits, (r * kept + (kept - 1)) * vocab, vocab);
      tokenIds[r].push(best);
      next[r] = BigInt(best);
    }
    tokenTimes.push(nowMs());
    hooks?.onStep?.(step, tokenIds.map((t) => t[step]));
    if (step === maxNewTokens - 1 || hooks?.shouldStop?.()) break;
    // Next step: the new token's embedding, the mask grown by one, the cache from this step.
    const nextPast: Record<string, ort.Tensor> = {};
    for (let l = 0; l < shape.numLayers; l++) {
      nextPast[`past_key_values.${l}.key`] = out[`present.${l}.key`];
      nextPast[`past_key_values.${l}.value`] = out[`present.${l}.value`];
    }
    past = nextPast;
    const e = await s.embed.run({ input_ids: new ort.Tensor('int64', next, [b, 1]) });
    stepEmbeds = io.embedsOut === io.embedsIn ? e.inputs_embeds : floatTensor(io.embedsIn, convertFloats(e.inputs_embeds.data as FloatData, io.embedsOut, io.embedsIn), [b, 1, H]);
    const grown = new BigInt64Array(b * (seqLen + 1));
    for (let r = 0; r < b; r++) {
      grown.set(stepMask.subarray(r * seqLen, (r + 1) * seqLen), r * (seqLen + 1));
      grown[r * (seqLen + 1) + seqLen] = 1n;
    }
    stepMask = grown;
    seqLen += 1;
    const p = new BigInt64Array(b);
    for (let r = 0; r < b; r++) p[r] = nextPos[r]++;
    stepPos = new ort.Tensor('int64', p, [b, 1]);
  }
  return { visionMs, tokenIds, tokenTimes };
}
