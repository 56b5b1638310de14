// Batch sending: a micro-batch goes to the worker only while its replica is ready, and the worker's answer comes
// back as the engine's InferResults on the engine's clock (recvTime and the relative times shifted by the clock
// offset). With --preprocess hf the requests travel as they are and the worker preprocesses; ts-pipeline.ts
// is the other path.
import { failedResult, type InferRequest, type InferResult } from '../../backend.js';
import type { PreparedItem } from './preprocess-protocol.js';
import type { RequestMessage, ResultMessage, WorkerRequestResult } from './protocol.js';
import { batchLimitMs, batchTimeoutReason } from './timeouts.js';
import type { BatchLimit, WorkerChannel } from './worker-channel.js';

/** What the batch paths read of their replica, live. */
export interface BatchTarget {
  /** The replica takes work (started, neither dead nor closed). */
  readonly ready: boolean;
  /** Why the replica died, once it did. */
  readonly deathReason: string | null;
  /** Worker clock minus nowMs(), in ms. */
  readonly clockOffsetMs: number;
  readonly channel: WorkerChannel;
  /** --worker-timeout in seconds (0: no limit). */
  readonly workerTimeoutS: number;
}

/** Sends one micro-batch; rejects with the death reason (or "closed") when the replica takes no work. */
export function sendBatch(r: BatchTarget, batchId: number, requests: readonly RequestMessage[]): Promise<ResultMessage> {
  if (!r.ready) return Promise.reject(new Error(r.deathReason ?? 'the replica is closed'));
  return r.channel.send(batchId, requests, () => r.deathReason ?? 'the worker no longer accepts input', batchLimit(r.workerTimeoutS, requests));
}

/** The time limit of a micro-batch: --worker-timeout per 256 of the most new tokens any of its requests asks for. */
export function batchLimit(timeoutS: number, requests: readonly RequestMessage[]): BatchLimit | null {
  const newTokens = Math.max(0, ...requests.map((q) => q.maxNewTokens));
  const ms = batchLimitMs(timeoutS, newTokens);
  return ms === null ? null : { ms, reason: batchTimeoutReason(timeoutS, ms, requests.length, newTokens) };
}

/** Maps one worker result onto the engine's InferResult, on the engine's clock. */
export function toInferResult(req: InferRequest, r: WorkerRequestResult | undefined, msg: ResultMessage, clockOffsetMs: number, prep: PreparedItem | undefined): InferResult {
  if (!r) return failedResult(req.id, msg.batchError ?? 'the worker returned no result for this request');
  if (!r.ok) return failedResult(req.id, r.error ?? msg.batchError ?? 'failed');
  const base = msg.recvTime * 1000 - clockOffsetMs;
  const ts = prep !== undefined && prep.ok ? prep : null;
  return {
    id: req.id,
    ok: true,
    error: null,
    crops: r.crops,
    imageTokens: r.imageTokens,
    promptTokens: r.promptTokens,
    outputTokens: r.outputTokens,
    preprocessMs: ts ? ts.preprocessMs : r.preprocessMs,
    visionMs: r.visionMs,
    startedAt: ts ? ts.startedAt : base,
    tokenTimes: r.tokenMs.map((ms) => base + ms),
    tokenIds: r.tokenIds,
    ...(msg.peakMemory ? { peakMemory: msg.peakMemory.map((p) => ({ gpu: p.gpu ?? `cuda:${p.ordinal}`, allocatedMiB: p.allocatedMiB, reservedMiB: p.reservedMiB })) } : {}),
  };
}

/** --preprocess hf: the image path, prompt and preprocessing knobs go to the worker, which does the rest. */
export async function inferHf(r: BatchTarget, batchId: number, batch: readonly InferRequest[]): Promise<InferResult[]> {
  const msg = await sendBatch(
    r,
    batchId,
    batch.map((q) => ({
      id: q.id,
      maxNewTokens: q.maxNewTokens,
      imagePath: q.imagePath,
      prompt: q.prompt,
      panScan: q.preprocess.panScan,
      exifOrientation: q.preprocess.exifOrientation,
      pixelLimit: q.preprocess.pixelLimit,
    })),
  );
  const byId = new Map(msg.results.map((x) => [x.id, x]));
  return batch.map((q) => toInferResult(q, byId.get(q.id), msg, r.clockOffsetMs, undefined));
}
