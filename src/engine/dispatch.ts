// Pure scheduling decisions: which queued requests form the next micro-batch, and which replica gets it.
// Crop grouping keeps requests with the same crop count together, so a 6-crop panorama does not make four
// 0-crop photos wait on its vision pass and pad their prompts to its length.

export type BatchPolicy = 'crop' | 'fifo';

export interface Batchable {
  readonly crops: number;
}

/** Removes and returns the next micro-batch from the queue (oldest first). */
export function takeBatch<T extends Batchable>(queue: T[], batchSize: number, policy: BatchPolicy): T[] {
  if (queue.length === 0) return [];
  if (policy === 'fifo') return queue.splice(0, batchSize);
  const crops = queue[0].crops;
  const batch: T[] = [];
  for (let i = 0; i < queue.length && batch.length < batchSize; ) {
    if (queue[i].crops === crops) batch.push(...queue.splice(i, 1));
    else i++;
  }
  return batch;
}

export interface ReplicaLoad {
  readonly id: number;
  readonly alive: boolean;
  /** Batches it can run at once (1 for a worker thread or a Python process). */
  readonly capacity: number;
  readonly inFlightBatches: number;
  readonly inFlightRequests: number;
  readonly dispatched: number;
}

/** Least-loaded dispatch: the live replica with free capacity and the fewest requests in flight; ties go to the one given the least work so far, then the lowest id. */
export function pickReplica(replicas: readonly ReplicaLoad[]): number | null {
  let best: ReplicaLoad | null = null;
  for (const r of replicas) {
    if (!r.alive || r.inFlightBatches >= r.capacity) continue;
    if (
      best === null ||
      r.inFlightRequests < best.inFlightRequests ||
      (r.inFlightRequests === best.inFlightRequests && (r.dispatched < best.dispatched || (r.dispatched === best.dispatched && r.id < best.id)))
    ) {
      best = r;
    }
  }
  return best ? best.id : null;
}

/** Exponential inter-arrival gap (ms) for a Poisson process at rateRps, from a uniform draw in [0, 1). */
export function poissonGapMs(rateRps: number, uniform: number): number {
  return (-Math.log(1 - uniform) / rateRps) * 1000;
}
