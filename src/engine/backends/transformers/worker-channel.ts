// The worker's JSON-lines protocol as a replica reads and correlates it: each stdout line parsed and validated
// (protocol.ts), each message routed (log lines to the log, the fatal line kept for the death message, `ready`
// handed to the replica), each pong matched with the oldest waiting ping and each result with its batch by
// batchId. Writing goes through the function it is given; it keeps no replica state of its own. A batch may carry a
// time limit (--worker-timeout): the worker answers batches in order, so only the oldest unanswered batch's clock
// runs; when it passes, onTimeout hears the reason (the replica kills the worker and fails what is pending).
import type { LogFn } from '../../backend.js';
import { nowMs } from '../../../util/clock.js';
import { parseWorkerLine, type FromWorker, type ReadyMessage, type RequestMessage, type ResultMessage } from './protocol.js';

export const PONG_TIMEOUT_MS = 10_000;

/** One ping's round trip: sent at t1, answered at t2 (both nowMs()), the worker's clock `time` (s) in between. */
export interface PingSample {
  readonly t1: number;
  readonly t2: number;
  readonly time: number;
}

interface PendingBatch {
  resolve: (m: ResultMessage) => void;
  reject: (e: Error) => void;
  /** How long the worker may take once it starts on this batch, and what to say when it does not answer. */
  limit: BatchLimit | null;
}

export interface BatchLimit {
  readonly ms: number;
  readonly reason: string;
}

type PongWaiter = (m: { t: number; time: number } | null) => void;

export class WorkerChannel {
  private readonly pending = new Map<number, PendingBatch>();
  private readonly pongs: PongWaiter[] = [];
  /** The running clock of the oldest pending batch, if it has a limit. */
  private armed: { batchId: number; timer: NodeJS.Timeout } | null = null;
  /** The worker's `fatal` message, once it sent one. */
  fatal: string | null = null;

  constructor(
    private readonly id: number,
    private readonly log: LogFn,
    /** Writes one message as a JSON line; false when the worker no longer takes input. */
    private readonly write: (m: unknown) => boolean,
    private readonly onReady: (m: ReadyMessage) => void,
    /** The oldest pending batch passed its limit: the worker is taken as hung. */
    private readonly onTimeout: (reason: string) => void = () => undefined,
  ) {}

  /** One line of the worker's stdout. */
  readLine(line: string): void {
    if (line.trim() === '') return;
    const r = parseWorkerLine(line);
    if (r.ok) this.onMessage(r.message);
    else this.log('warn', `replica ${this.id}: ${r.error}`);
  }

  /** One ping; null when it cannot be sent, times out, or the worker is gone (dropPongs). */
  ping(): Promise<PingSample | null> {
    return new Promise((resolve) => {
      const t1 = nowMs();
      const timer = setTimeout(() => {
        this.pongs.splice(this.pongs.indexOf(waiter), 1);
        resolve(null);
      }, PONG_TIMEOUT_MS);
      const waiter: PongWaiter = (m) => {
        clearTimeout(timer);
        resolve(m === null ? null : { t1, t2: nowMs(), time: m.time });
      };
      this.pongs.push(waiter);
      if (!this.write({ type: 'ping', t: t1 })) {
        this.pongs.splice(this.pongs.indexOf(waiter), 1);
        clearTimeout(timer);
        resolve(null);
      }
    });
  }

  /** A worker that is gone answers no pings: release the waiters now rather than at their timeouts. */
  dropPongs(): void {
    for (const p of this.pongs.splice(0)) p(null);
  }

  /** Sends one micro-batch; settles with its result, or rejects with `refused()` when the worker no longer takes
   *  input, or with failAll's reason. */
  send(batchId: number, requests: readonly RequestMessage[], refused: () => string, limit: BatchLimit | null = null): Promise<ResultMessage> {
    return new Promise((resolve, reject) => {
      this.pending.set(batchId, { resolve, reject, limit });
      if (!this.write({ type: 'batch', batchId, requests })) {
        this.pending.delete(batchId);
        reject(new Error(refused()));
        return;
      }
      this.armHead();
    });
  }

  /** Fails every batch still waiting for its result. */
  failAll(reason: string): void {
    this.disarm();
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }

  /** Starts the clock of the oldest pending batch (the one the worker is on), unless it already runs. */
  private armHead(): void {
    const head = this.pending.entries().next();
    if (head.done) return this.disarm();
    const [batchId, p] = head.value;
    if (this.armed?.batchId === batchId) return;
    this.disarm();
    if (!p.limit) return;
    const reason = p.limit.reason;
    const timer = setTimeout(() => {
      this.armed = null;
      this.onTimeout(reason);
    }, p.limit.ms);
    this.armed = { batchId, timer };
  }

  private disarm(): void {
    if (this.armed) clearTimeout(this.armed.timer);
    this.armed = null;
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'log':
        this.log(m.level, `replica ${this.id}: ${m.message}`);
        return;
      case 'fatal':
        this.fatal = m.message;
        return;
      case 'pong':
        this.pongs.shift()?.(m);
        return;
      case 'probe':
        return;
      case 'ready':
        this.onReady(m);
        return;
      case 'result':
        this.onResult(m);
        return;
    }
  }

  private onResult(m: ResultMessage): void {
    const p = this.pending.get(m.batchId);
    this.pending.delete(m.batchId);
    this.armHead();
    if (!p) {
      this.log('warn', `replica ${this.id}: result for unknown batch ${m.batchId} ignored`);
      return;
    }
    const id = this.id;
    if (m.oom) this.log('warn', `replica ${id}: a micro-batch of ${m.results.length} request${m.results.length === 1 ? '' : 's'} failed: ${m.batchError}; the replica carries on`);
    else if (m.batchError) this.log('warn', `replica ${id}: a micro-batch failed: ${m.batchError}`);
    for (const n of m.notes) this.log('warn', `replica ${id}: ${n}`);
    p.resolve(m);
  }
}
