// The queue in front of the replicas: requests wait in arrival order (FIFO) and each goes to a free replica as soon
// as one is free. Micro-batches are of size 1: an onnx replica decodes one batch at a time and shares one decode
// loop (and one maxNewTokens) across a batch, so batching would make short requests wait for long ones; vLLM's
// continuous batching has no such cost, this test server does not try to imitate it. Tracks what /metrics reports
// as running and waiting. A replica that dies is dropped; when none is left, every request fails. No I/O of its
// own: it only calls Replica.infer, so it runs on fake replicas in tests.
import type { InferHooks, InferRequest, InferResult, LogFn, Replica } from '../engine/backend.js';

/** The request never ran or was cut off because of the replicas, not because of the request. */
export class ReplicaUnavailableError extends Error {
  override name = 'ReplicaUnavailableError';
}

/** The request was withdrawn (its signal aborted) while it waited for a replica. */
export class WithdrawnError extends Error {
  override name = 'WithdrawnError';
}

interface Waiting {
  readonly request: InferRequest;
  readonly hooks: InferHooks;
  readonly resolve: (r: InferResult) => void;
  readonly reject: (e: Error) => void;
  readonly detach: () => void;
}

export class ReplicaPool {
  private readonly free: Replica[];
  private readonly alive = new Set<Replica>();
  private readonly queue: Waiting[] = [];
  private inFlight = 0;
  private closed = false;

  constructor(
    replicas: readonly Replica[],
    private readonly log: LogFn,
  ) {
    this.free = [...replicas];
    for (const r of replicas) {
      this.alive.add(r);
      void r.died.then((reason) => this.drop(r, reason));
    }
  }

  /** Requests on a replica now. */
  get running(): number {
    return this.inFlight;
  }

  /** Requests queued for a replica. */
  get waiting(): number {
    return this.queue.length;
  }

  get replicasAlive(): number {
    return this.alive.size;
  }

  /**
   * Runs one request on the next free replica. Aborting hooks.signal while it waits withdraws it (WithdrawnError);
   * once it runs, the signal goes to the replica, which stops it early (the result holds the tokens made so far).
   */
  run(request: InferRequest, hooks: InferHooks = {}): Promise<InferResult> {
    return new Promise<InferResult>((resolve, reject) => {
      if (this.closed) return reject(new ReplicaUnavailableError('the server is shutting down'));
      if (this.alive.size === 0) return reject(new ReplicaUnavailableError('no replica is left: every replica has stopped (see the server log)'));
      const signal = hooks.signal;
      if (signal?.aborted) return reject(new WithdrawnError('withdrawn before it was queued'));
      const onAbort = () => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) {
          this.queue.splice(i, 1);
          reject(new WithdrawnError('withdrawn while waiting for a replica'));
        }
      };
      const entry: Waiting = { request, hooks, resolve, reject, detach: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
      this.dispatch();
    });
  }

  /** Fails the waiting requests and closes every replica (in-flight requests end when their replica closes). */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.queue.splice(0)) {
      w.detach();
      w.reject(new ReplicaUnavailableError('the server is shutting down'));
    }
    const all = [...this.alive];
    this.alive.clear();
    this.free.length = 0;
    await Promise.all(all.map((r) => r.close()));
  }

  private dispatch(): void {
    while (this.queue.length > 0 && this.free.length > 0) {
      const w = this.queue.shift()!;
      const replica = this.free.shift()!;
      w.detach();
      this.inFlight++;
      replica.infer([w.request], w.hooks).then(
        ([result]) => {
          this.inFlight--;
          if (this.alive.has(replica)) this.free.push(replica);
          w.resolve(result);
          this.dispatch();
        },
        (err: Error) => {
          this.inFlight--;
          this.drop(replica, err.message);
          w.reject(new ReplicaUnavailableError(`replica ${replica.id} stopped while running this request: ${err.message}`));
          this.dispatch();
        },
      );
    }
  }

  private drop(replica: Replica, reason: string): void {
    if (!this.alive.delete(replica)) return;
    const i = this.free.indexOf(replica);
    if (i >= 0) this.free.splice(i, 1);
    if (this.closed) return;
    this.log('error', `replica ${replica.id} stopped: ${reason}; ${this.alive.size} replica(s) left`);
    if (this.alive.size === 0) {
      for (const w of this.queue.splice(0)) {
        w.detach();
        w.reject(new ReplicaUnavailableError(`no replica is left: replica ${replica.id} stopped (${reason})`));
      }
    }
  }
}
