// One transformers replica: a Python worker process (python/gemma_bench_worker.py) owning a group of GPUs, plus,
// with --preprocess ts, a preprocessing thread. This file owns the replica's life, the state machine starting ->
// ready -> dead | closed: start the worker (worker-process.ts) and its preprocessing thread, wait for `ready`
// (worker-channel.ts), estimate the clock offset (clock-offset.ts), then take micro-batches (batches.ts, hf;
// ts-pipeline.ts, ts); a batch error (CUDA OOM) fails that batch's results while the replica carries on, and an
// exit makes a dead replica whose in-flight batches fail with the reason and the last stderr lines.
import type { InferRequest, InferResult, LogFn, Replica } from '../../backend.js';
import { nowMs } from '../../../util/clock.js';
import { cudaChildEnv } from './topology.js';
import { TransformersBackendError } from './errors.js';
import type { TailBuffer } from './jsonl.js';
import { PreprocessClient } from './preprocess-client.js';
import { PROTOCOL_VERSION, type DeviceMapEntry, type ReadyMessage } from './protocol.js';
import { pythonNotFoundMessage } from './python.js';
import type { GpuGroup } from './topology.js';
import { describeDeath, WorkerProcess } from './worker-process.js';
import { WorkerChannel } from './worker-channel.js';
import { adoptClockOffset, measureClockOffset } from './clock-offset.js';
import { inferHf } from './batches.js';
import { inferTs, type TsBatchTarget } from './ts-pipeline.js';
import { DEFAULT_WORKER_TIMEOUT_S, loadLimitMs, loadTimeoutReason } from './timeouts.js';

export { CLOCK_PINGS } from './clock-offset.js';
export { PONG_TIMEOUT_MS } from './worker-channel.js';
export { KILL_GRACE_MS } from './worker-process.js';
export { toInferResult } from './batches.js';
/** After `shutdown`, how long the worker may take to exit before SIGTERM (it finishes the batch it is on). */
export const DEFAULT_CLOSE_GRACE_MS = 10_000;

export interface ReplicaSpawnSpec {
  readonly id: number;
  readonly python: string;
  readonly argv: readonly string[];
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly group: GpuGroup;
  readonly preprocess: 'hf' | 'ts';
  /** ts only: accept a second micro-batch and prepare it while the GPU runs the first. */
  readonly pipeline: boolean;
  readonly pixelDir: string;
  readonly log: LogFn;
  readonly signal?: AbortSignal;
  readonly closeGraceMs?: number;
  /** --worker-timeout in seconds: the loading limit, and per 256 new tokens a micro-batch's (0: none; default 1800). */
  readonly workerTimeoutS?: number;
}

export interface StartedReplica {
  readonly replica: Replica;
  readonly ready: ReadyMessage;
  /** Worker clock minus nowMs(), in ms, as estimated from the pings. */
  readonly clockOffsetMs: number;
}

/** "cuda:0 (GPU 2): vision tower, projector, layers 0-30; cuda:1 (GPU 3): layers 31-61, norm, lm_head". */
export function formatDeviceMap(entries: readonly DeviceMapEntry[]): string {
  return entries.map((e) => `${e.device}${e.gpu !== null ? ` (GPU ${e.gpu})` : ''}: ${e.modules.join(', ')}`).join('; ');
}

export function startWorkerReplica(spec: ReplicaSpawnSpec): Promise<StartedReplica> {
  return new Promise((resolveStart, rejectStart) => {
    const t0 = nowMs();
    if (spec.signal?.aborted) {
      rejectStart(new TransformersBackendError(`replica ${spec.id} (GPU ${spec.group.ids.join(',') || 'none'}) failed to start: cancelled while loading`, 'loading'));
      return;
    }
    let proc: WorkerProcess;
    try {
      proc = WorkerProcess.spawn(spec.python, spec.argv, cudaChildEnv(spec.group.ids, spec.baseEnv), spec.id, spec.log);
    } catch (err) {
      rejectStart(new TransformersBackendError(`replica ${spec.id} could not be started: ${(err as Error).message}`, 'loading'));
      return;
    }
    new WorkerReplica(spec, proc, t0, resolveStart, rejectStart).begin();
  });
}

type ReplicaState = 'starting' | 'ready' | 'dead' | 'closed';

/** The state machine of one replica, from a spawned process to its exit; the engine sees it as `replica`. */
class WorkerReplica implements TsBatchTarget {
  private state: ReplicaState = 'starting';
  private closing = false;
  private reason: string | null = null;
  private offsetMs = 0;
  private client: PreprocessClient | null = null;
  private batchSeq = 0;
  private resolveDied!: (reason: string) => void;
  /** The preprocessing thread (tokenizer load: seconds) starts alongside the worker's model load, not after it. */
  private readonly prepStarting: Promise<PreprocessClient> | null;
  readonly channel: WorkerChannel;
  readonly replica: Replica;
  private readonly onAbort = () => this.failStart('cancelled while loading');
  private loadTimer: NodeJS.Timeout | null = null;
  readonly workerTimeoutS: number;

  constructor(
    private readonly spec: ReplicaSpawnSpec,
    private readonly proc: WorkerProcess,
    private readonly t0: number,
    private readonly resolveStart: (r: StartedReplica) => void,
    private readonly rejectStart: (e: Error) => void,
  ) {
    this.workerTimeoutS = spec.workerTimeoutS ?? DEFAULT_WORKER_TIMEOUT_S;
    this.prepStarting = spec.preprocess === 'ts' ? PreprocessClient.start(spec.id, spec.pixelDir, spec.log) : null;
    this.prepStarting?.catch(() => undefined); // reported by onReady; a start that fails earlier must not go unhandled
    const died = new Promise<string>((r) => (this.resolveDied = r));
    this.channel = new WorkerChannel(
      spec.id,
      spec.log,
      (m) => proc.write(m),
      (m) => void this.onReady(m),
      (reason) => this.die(reason),
    );
    this.replica = {
      id: spec.id,
      devices: spec.group.ids.map((g) => `gpu:${g}`),
      gpuIndices: [...spec.group.indices],
      loadMs: 0,
      capacity: spec.preprocess === 'ts' && spec.pipeline ? 2 : 1,
      died,
      infer: (batch: readonly InferRequest[]) => this.infer(batch),
      close: () => this.close(),
    };
  }

  get ready(): boolean {
    return this.state === 'ready';
  }
  get deathReason(): string | null {
    return this.reason;
  }
  get clockOffsetMs(): number {
    return this.offsetMs;
  }
  get prep(): PreprocessClient | null {
    return this.client;
  }

  /** Listens to the process (first, so a spawn error is always handled) and to the abort signal. */
  begin(): void {
    this.proc.attach({
      onLine: (line) => this.channel.readLine(line),
      onError: (e) => {
        if (e.code === 'ENOENT' || e.code === 'EACCES') this.failStart(pythonNotFoundMessage(this.spec.python, e.code));
        else if (this.state === 'starting') this.failStart(`could not start ${this.spec.python}: ${e.message}`);
      },
      onExit: (how, tail) => this.onExit(how, tail),
    });
    const { signal } = this.spec;
    if (signal?.aborted) this.onAbort();
    else signal?.addEventListener('abort', this.onAbort, { once: true });
    const limit = loadLimitMs(this.workerTimeoutS);
    if (limit !== null && this.state === 'starting') this.loadTimer = setTimeout(() => this.failStart(loadTimeoutReason(this.workerTimeoutS)), limit);
  }

  private clearLoadTimer(): void {
    if (this.loadTimer) clearTimeout(this.loadTimer);
    this.loadTimer = null;
  }

  private failStart(reason: string): void {
    if (this.state !== 'starting') return;
    this.state = 'dead';
    this.clearLoadTimer();
    this.channel.dropPongs();
    this.spec.signal?.removeEventListener('abort', this.onAbort);
    const gpuText = this.spec.group.ids.join(',');
    this.rejectStart(new TransformersBackendError(`replica ${this.spec.id} (GPU ${gpuText || 'none'}) failed to start: ${reason}`, 'loading'));
    this.proc.kill('SIGKILL');
    void this.prepStarting?.then((p) => p.close(), () => undefined);
  }

  /** The replica stops for good: in-flight work fails with the reason, the scheduler hears it through `died`. */
  private die(reason: string): void {
    if (this.state === 'starting') return this.failStart(reason);
    if (this.state !== 'ready') return;
    this.state = 'dead';
    this.reason = reason;
    this.channel.failAll(reason);
    if (!this.closing) {
      this.spec.log('error', `replica ${this.spec.id} died: ${reason}`);
      this.resolveDied(reason);
    }
    if (this.proc.running) this.proc.kill('SIGKILL');
    void this.client?.close();
  }

  private async onReady(ready: ReadyMessage): Promise<void> {
    if (this.state !== 'starting') return;
    if (ready.protocol !== PROTOCOL_VERSION) {
      return this.failStart(`the worker speaks protocol ${ready.protocol}, gemma-bench speaks ${PROTOCOL_VERSION} (the worker script comes from another version)`);
    }
    const best = await measureClockOffset(() => this.channel.ping());
    if (this.state !== 'starting') return;
    this.offsetMs = adoptClockOffset(best, this.spec.id, this.spec.log);
    if (this.prepStarting) {
      try {
        this.client = await this.prepStarting;
        this.client.whenDead = (reason) => this.die(reason);
      } catch (err) {
        return this.failStart((err as Error).message);
      }
    }
    if (this.state !== 'starting') {
      void this.client?.close();
      return;
    }
    this.state = 'ready';
    this.clearLoadTimer();
    (this.replica as { loadMs: number }).loadMs = nowMs() - this.t0;
    this.spec.signal?.removeEventListener('abort', this.onAbort);
    this.resolveStart({ replica: this.replica, ready, clockOffsetMs: this.offsetMs });
  }

  private infer(batch: readonly InferRequest[]): Promise<InferResult[]> {
    if (this.state !== 'ready') return Promise.reject(new Error(this.reason ?? 'the replica is closed'));
    const batchId = this.batchSeq++;
    return this.spec.preprocess === 'ts' ? inferTs(this, batchId, batch) : inferHf(this, batchId, batch);
  }

  private async close(): Promise<void> {
    if (this.closing) return this.proc.exited;
    this.closing = true;
    if (this.state === 'ready') this.state = 'closed';
    this.channel.failAll('the replica was closed');
    this.proc.write({ type: 'shutdown' });
    await this.proc.stop(this.spec.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
    await this.client?.close();
  }

  /** The process exited (output drained): a replica being closed is closed, any other one dies of it. */
  private onExit(how: string, tail: TailBuffer): void {
    const reason = describeDeath(this.channel.fatal, how, tail);
    this.channel.dropPongs();
    if (this.closing && this.state !== 'starting') this.state = 'closed';
    else this.die(reason);
    this.channel.failAll(reason);
  }
}
