// The preprocessing pipeline of --preprocess ts: the replica's preprocessing thread decodes, crops and tokenizes a
// micro-batch into pixel files, the requests it prepared go to the worker as input ids and a pixel file each, and
// every request comes back as a result: the worker's, or the preprocessing error that kept it from the GPU. The
// pixel files the worker never read (failure, death) are deleted here.
import { rm } from 'node:fs/promises';
import { failedResult, type InferRequest, type InferResult } from '../../backend.js';
import { sendBatch, toInferResult, type BatchTarget } from './batches.js';
import type { PreprocessClient } from './preprocess-client.js';
import type { PreparedItem } from './preprocess-protocol.js';
import type { ResultMessage } from './protocol.js';

/** A replica in ts mode: its preprocessing thread is there once it is ready. */
export interface TsBatchTarget extends BatchTarget {
  readonly prep: PreprocessClient | null;
}

export async function inferTs(r: TsBatchTarget, batchId: number, batch: readonly InferRequest[]): Promise<InferResult[]> {
  const items = await r.prep!.prepare(batchId, batch).catch((e: Error) => {
    throw new Error(r.deathReason ?? e.message);
  });
  const byId = new Map(items.map((x) => [x.id, x]));
  const ready = items.filter((x): x is Extract<PreparedItem, { ok: true }> => x.ok);
  try {
    if (!r.ready) throw new Error(r.deathReason ?? 'the replica is closed');
    let msg: ResultMessage | null = null;
    if (ready.length > 0) {
      const reqOf = new Map(batch.map((q) => [q.id, q]));
      msg = await sendBatch(
        r,
        batchId,
        ready.map((x) => ({ id: x.id, maxNewTokens: reqOf.get(x.id)!.maxNewTokens, inputIds: x.inputIds, pixels: { path: x.path, shape: x.shape, dtype: 'float32' as const } })),
      );
    }
    const results = new Map(msg?.results.map((x) => [x.id, x]) ?? []);
    return batch.map((q) => {
      const item = byId.get(q.id);
      if (!item) return failedResult(q.id, 'preprocessing returned nothing for this request');
      if (!item.ok) return failedResult(q.id, item.error);
      return toInferResult(q, results.get(q.id), msg!, r.clockOffsetMs, item);
    });
  } finally {
    // The worker deletes each file once read; these are the ones it never got to (failure, death).
    await Promise.all(ready.map((x) => rm(x.path, { force: true }).catch(() => undefined)));
  }
}
