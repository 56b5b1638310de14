// The load generator and dispatcher: closed loop (N in flight) or open loop (Poisson arrivals at R req/s), stop
// after N measured requests or T seconds, warmup first (kept, but out of the statistics), micro-batches formed by
// dispatch.ts onto the least-loaded live replica. It turns backend results into RequestRecords. A replica that
// dies fails its in-flight requests with the reason and the run goes on with the others; cancellation stops
// issuing, cancels what is queued and gives in-flight work a grace period.
import { failedResult, type InferRequest, type InferResult, type Replica } from './backend.js';
import { nowMs } from '../util/clock.js';
import { pickReplica, poissonGapMs, takeBatch, type BatchPolicy, type ReplicaLoad } from './dispatch.js';
import { prng } from '../util/prng.js';
import type { RequestRecord } from './types.js';

export interface PlannedRequest extends InferRequest {
  readonly imageIndex: number;
  readonly promptIndex: number;
  readonly crops: number;
  readonly imageTokens: number;
  readonly promptTokens: number;
  readonly warmup: boolean;
}

export type LoadMode = { readonly kind: 'closed'; readonly concurrency: number } | { readonly kind: 'open'; readonly rateRps: number };
export type StopRule = { readonly kind: 'requests'; readonly count: number } | { readonly kind: 'duration'; readonly seconds: number };

export interface ScheduleOptions {
  readonly load: LoadMode;
  readonly stop: StopRule;
  readonly warmup: number;
  readonly batchSize: number;
  readonly policy: BatchPolicy;
  readonly seed: number;
  /** nowMs() of the run's start: record times are offsets from it. */
  readonly t0: number;
  readonly signal?: AbortSignal;
  /**
   * Aborted to give up in-flight work at once (a second Ctrl-C): no grace period, what is in flight is recorded as
   * cancelled and its batches are told to stop (between decode steps: a native call is never interrupted).
   */
  readonly stopNow?: AbortSignal;
  /** How long in-flight work may finish after cancellation before it is marked cancelled. */
  readonly cancelGraceMs?: number;
}

export interface ScheduleHooks {
  /** A finished request, and the notes its backend attached to the measurement (none for most). */
  onRecord(record: RequestRecord, notes: readonly string[]): void;
  onReplicaDied(replica: number, reason: string): void;
  onPhase(phase: 'warmup' | 'measuring' | 'draining'): void;
}

export interface ScheduleOutcome {
  readonly cancelled: boolean;
  /** Why the run was given up early by stopEarly() (too many failures), or null. */
  readonly stoppedEarly: string | null;
  /** Every replica died before the work was done. */
  readonly noReplicaLeft: boolean;
  readonly issued: number;
}

export interface ScheduleState {
  readonly issued: number;
  readonly queued: number;
  readonly inFlight: number;
}

interface Queued {
  readonly req: PlannedRequest;
  readonly crops: number;
  readonly enqueuedAt: number;
}

interface ReplicaState extends ReplicaLoad {
  alive: boolean;
  inFlightBatches: number;
  inFlightRequests: number;
  dispatched: number;
  diedReason: string | null;
}

export const DEFAULT_CANCEL_GRACE_MS = 5_000;

const roundUs = (ms: number) => Math.round(ms * 1000) / 1000;

/** Builds the record of a request from its plan, the times the scheduler saw and the backend's result. */
export function toRecord(req: PlannedRequest, enqueuedAt: number, dispatchedAt: number | null, res: InferResult, t0: number, status: RequestRecord['status'], batchSize: number, replica: number | null): RequestRecord {
  // Microsecond resolution is all a clock stamp carries; rounding halves the size of run files.
  const tokenTimesMs = dispatchedAt === null ? [] : res.tokenTimes.map((t) => roundUs(t - dispatchedAt));
  const n = tokenTimesMs.length;
  const lastAbs = n > 0 ? res.tokenTimes[n - 1] : null;
  const ok = status === 'ok';
  return {
    id: req.id,
    imageIndex: req.imageIndex,
    promptIndex: req.promptIndex,
    warmup: req.warmup,
    status,
    error: ok ? null : (res.error ?? 'failed'),
    replica,
    batchSize,
    crops: ok ? res.crops : req.crops,
    imageTokens: ok ? res.imageTokens : req.imageTokens,
    promptTokens: ok ? res.promptTokens : req.promptTokens,
    promptTokensExpected: req.promptTokens,
    outputTokens: ok ? res.outputTokens : 0,
    enqueuedAtMs: enqueuedAt - t0,
    dispatchedAtMs: dispatchedAt === null ? null : dispatchedAt - t0,
    finishedAtMs: (lastAbs ?? nowMs()) - t0,
    queueMs: dispatchedAt === null ? null : dispatchedAt - enqueuedAt,
    preprocessMs: ok ? res.preprocessMs : null,
    visionMs: ok ? res.visionMs : null,
    // Over HTTP, TTFT counts from the POST (vllm bench serve's definition), not from the dispatch.
    ttftMs: ok && n > 0 ? (res.sentAt !== undefined ? roundUs(res.tokenTimes[0] - res.sentAt) : tokenTimesMs[0]) : null,
    e2eMs: ok && lastAbs !== null ? lastAbs - enqueuedAt : null,
    tpotMs: ok && n >= 2 ? (tokenTimesMs[n - 1] - tokenTimesMs[0]) / (n - 1) : null,
    tokenTimesMs: ok ? tokenTimesMs : [],
    tokenIds: ok ? [...res.tokenIds] : [],
    ...(ok && res.peakMemory ? { peakMemory: res.peakMemory } : {}),
  };
}

export class Scheduler {
  private readonly queue: Queued[] = [];
  private readonly replicas: Map<number, { replica: Replica; state: ReplicaState }> = new Map();
  private readonly inFlight = new Map<number, { replica: number; items: Queued[]; dispatchedAt: number; settled: boolean; readonly abort: AbortController }>();
  private issued = 0;
  private issuedMeasured = 0;
  private batchSeq = 0;
  private phase: 'warmup' | 'measuring' | 'draining' = 'warmup';
  private stopped = false;
  private cancelled = false;
  private stoppedEarly: string | null = null;
  private measureStart = 0;
  private wake: (() => void) | null = null;
  private readonly rand: () => number;

  constructor(
    replicas: readonly Replica[],
    private readonly nextRequest: (seq: number, warmup: boolean) => PlannedRequest,
    private readonly opts: ScheduleOptions,
    private readonly hooks: ScheduleHooks,
  ) {
    for (const r of replicas) {
      this.replicas.set(r.id, { replica: r, state: { id: r.id, alive: true, capacity: r.capacity, inFlightBatches: 0, inFlightRequests: 0, dispatched: 0, diedReason: null } });
      void r.died.then((reason) => this.replicaDied(r.id, reason));
    }
    this.rand = prng(opts.seed ^ 0x5eed);
  }

  state(): ScheduleState {
    let inFlight = 0;
    for (const b of this.inFlight.values()) inFlight += b.items.length;
    return { issued: this.issued, queued: this.queue.length, inFlight };
  }

  async run(): Promise<ScheduleOutcome> {
    const onAbort = () => this.cancel();
    const onStopNow = () => {
      this.cancel();
      this.poke();
    };
    this.opts.signal?.addEventListener('abort', onAbort, { once: true });
    this.opts.stopNow?.addEventListener('abort', onStopNow, { once: true });
    if (this.opts.signal?.aborted || this.opts.stopNow?.aborted) this.cancel();
    try {
      if (this.opts.warmup > 0 && !this.stopped) {
        this.hooks.onPhase('warmup');
        const c = this.opts.load.kind === 'closed' ? this.opts.load.concurrency : this.replicas.size * this.opts.batchSize;
        let left = this.opts.warmup;
        const topUp = () => {
          while (!this.stopped && left > 0 && this.outstanding() < c) {
            left--;
            this.enqueue(true, nowMs());
          }
        };
        await this.until(() => this.stopped || (left === 0 && this.outstanding() === 0), topUp);
      }
      if (!this.stopped) {
        this.phase = 'measuring';
        this.hooks.onPhase('measuring');
        this.measureStart = nowMs();
        if (this.opts.load.kind === 'closed') {
          const c = this.opts.load.concurrency;
          await this.until(() => this.stopped || (!this.canIssue() && this.outstanding() === 0), () => {
            while (this.canIssue() && this.outstanding() < c) this.enqueue(false, nowMs());
          });
        } else {
          await this.openLoop(this.opts.load.rateRps);
        }
      }
      if (this.cancelled || this.stoppedEarly !== null) await this.drainAfterCancel();
    } finally {
      this.opts.signal?.removeEventListener('abort', onAbort);
      this.opts.stopNow?.removeEventListener('abort', onStopNow);
    }
    return { cancelled: this.cancelled, stoppedEarly: this.stoppedEarly, noReplicaLeft: this.aliveCount() === 0, issued: this.issued };
  }

  /**
   * Gives the run up (the caller's reason, e.g. too many failures): nothing more is issued, queued requests are
   * cancelled, in-flight ones may finish within the grace period. The outcome carries the reason.
   */
  stopEarly(reason: string): void {
    if (this.stopped) return;
    this.stoppedEarly = reason;
    this.stopped = true;
    for (const q of this.queue.splice(0)) this.finish(q, null, failedResult(q.req.id, `cancelled before it was dispatched: ${reason}`), 'cancelled', 1, null);
    this.poke();
  }

  private aliveCount(): number {
    let n = 0;
    for (const { state } of this.replicas.values()) if (state.alive) n++;
    return n;
  }

  private outstanding(): number {
    return this.queue.length + this.state().inFlight;
  }

  private canIssue(): boolean {
    if (this.stopped) return false;
    if (this.opts.stop.kind === 'requests') return this.issuedMeasured < this.opts.stop.count;
    return nowMs() < this.measureStart + this.opts.stop.seconds * 1000;
  }

  private enqueue(warmup: boolean, at: number): void {
    const req = this.nextRequest(this.issued++, warmup);
    if (!warmup) this.issuedMeasured++;
    this.queue.push({ req, crops: req.crops, enqueuedAt: at });
  }

  /** Runs `step` (issuing work) and dispatches after every change until `done` holds. */
  private async until(done: () => boolean, step: () => void): Promise<void> {
    for (;;) {
      step();
      this.pump();
      if (done()) return;
      // Duration-bound runs must notice the deadline even when nothing completes.
      const timer = this.opts.stop.kind === 'duration' && this.phase === 'measuring' && this.canIssue()
        ? setTimeout(() => this.poke(), Math.max(1, this.measureStart + this.opts.stop.seconds! * 1000 - nowMs()))
        : null;
      await new Promise<void>((resolve) => (this.wake = resolve));
      if (timer) clearTimeout(timer);
    }
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async openLoop(rateRps: number): Promise<void> {
    let next = this.measureStart;
    while (this.canIssue()) {
      next += poissonGapMs(rateRps, this.rand());
      // Completions also wake us (to dispatch queued work); keep waiting until the arrival is due.
      while (!this.stopped && nowMs() < next) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          timer = setTimeout(() => this.poke(), Math.max(1, next - nowMs()));
        });
        clearTimeout(timer);
        this.pump();
      }
      if (!this.canIssue()) break;
      // The arrival time is the scheduled one: if the client lags, that lag is queueing the user would see.
      this.enqueue(false, next);
      this.pump();
    }
    this.phase = 'draining';
    this.hooks.onPhase('draining');
    await this.until(() => this.stopped || this.outstanding() === 0, () => {});
  }

  private pump(): void {
    while (this.queue.length > 0) {
      if (this.aliveCount() === 0) {
        for (const q of this.queue.splice(0)) this.finish(q, null, failedResult(q.req.id, 'no replica left: every replica died'), 'failed', 1, null);
        this.stopped = true;
        return;
      }
      const id = pickReplica([...this.replicas.values()].map((r) => r.state));
      if (id === null) return;
      const batch = takeBatch(this.queue, this.opts.batchSize, this.opts.policy);
      this.dispatch(id, batch);
    }
  }

  private dispatch(replicaId: number, items: Queued[]): void {
    const entry = this.replicas.get(replicaId)!;
    const st = entry.state;
    st.inFlightBatches++;
    st.inFlightRequests += items.length;
    st.dispatched += items.length;
    const batchId = this.batchSeq++;
    const dispatchedAt = nowMs();
    const flight = { replica: replicaId, items, dispatchedAt, settled: false, abort: new AbortController() };
    this.inFlight.set(batchId, flight);
    const settle = (results: InferResult[] | null, reason: string | null) => {
      if (flight.settled) return;
      flight.settled = true;
      this.inFlight.delete(batchId);
      st.inFlightBatches--;
      st.inFlightRequests -= items.length;
      const byId = new Map((results ?? []).map((r) => [r.id, r]));
      for (const q of items) {
        const res = byId.get(q.req.id) ?? failedResult(q.req.id, reason ?? 'the backend returned no result for this request');
        this.finish(q, dispatchedAt, res, res.ok ? 'ok' : 'failed', items.length, replicaId);
      }
      this.poke();
    };
    // The signal lets the replica stop the batch early once it is given up (grace over, or a stop now).
    entry.replica.infer(items.map((q) => q.req), { signal: flight.abort.signal }).then(
      (results) => settle(results, null),
      (err: unknown) => settle(null, `replica ${replicaId} died: ${(err as Error).message ?? String(err)}`),
    );
  }

  private finish(q: Queued, dispatchedAt: number | null, res: InferResult, status: RequestRecord['status'], batchSize: number, replica: number | null): void {
    this.hooks.onRecord(toRecord(q.req, q.enqueuedAt, dispatchedAt, res, this.opts.t0, status, batchSize, replica), res.notes ?? []);
  }

  private replicaDied(id: number, reason: string): void {
    const entry = this.replicas.get(id);
    if (!entry || !entry.state.alive) return;
    entry.state.alive = false;
    entry.state.diedReason = reason;
    this.hooks.onReplicaDied(id, reason);
    this.poke();
  }

  private cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.stopped = true;
    for (const q of this.queue.splice(0)) this.finish(q, null, failedResult(q.req.id, 'cancelled before it was dispatched'), 'cancelled', 1, null);
    this.poke();
  }

  private async drainAfterCancel(): Promise<void> {
    if (this.inFlight.size === 0) return;
    const grace = this.opts.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS;
    const deadline = nowMs() + grace;
    while (this.inFlight.size > 0 && nowMs() < deadline && !this.opts.stopNow?.aborted) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, Math.max(1, deadline - nowMs()));
      });
      clearTimeout(timer);
    }
    for (const [batchId, flight] of this.inFlight) {
      flight.settled = true;
      flight.abort.abort();
      this.inFlight.delete(batchId);
      for (const q of flight.items) this.finish(q, flight.dispatchedAt, failedResult(q.req.id, 'interrupted before it finished'), 'cancelled', flight.items.length, flight.replica);
    }
  }
}
