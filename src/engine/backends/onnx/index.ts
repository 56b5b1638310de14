// The onnx backend (main-thread side): one worker thread per replica, each with its own onnxruntime sessions
// (CPU EP with the intra-op threads split across replicas, or the CUDA EP with one device per replica). It
// checks each model's graphs against the onnx-community layout, forwards micro-batches, and turns a worker that
// exits into a dead replica whose in-flight batch fails with the reason.
import 'sharp'; // sharp must be loaded on the main thread before any worker thread that uses it starts
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { checkModelLayout } from '../../../model/layout.js';
import type { Backend, BackendStartOptions, InferHooks, InferRequest, InferResult, LogFn, Replica } from '../../backend.js';
import type { ModelDescription } from '../../types.js';
import { resolveOnnxModel, type ResolvedOnnxModel } from './model-dir.js';
import type { MainToWorker, WorkerToMain } from './protocol.js';

export const CUDA_INSTALL_HINT =
  'the CUDA execution provider of onnxruntime-node is not installed. On a machine with internet access run: ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js (npm install does not: package.json denies that script, see the README)';

export class OnnxBackendError extends Error {
  override name = 'OnnxBackendError';
}

export interface OnnxBackendOptions {
  /** "tiny" (default) or an export directory. */
  readonly model?: string;
  readonly variant?: string;
  readonly ep?: 'cpu' | 'cuda';
  /** CPU threads shared by all replicas (default: all cores). */
  readonly threads?: number;
  readonly seed?: number;
  readonly log: LogFn;
  readonly env?: NodeJS.ProcessEnv;
}

/** After this long closing, say that the replica is still finishing its current step (and keep waiting). */
const WORKER_CLOSE_NOTICE_MS = 5_000;

/** "replica:batches": make that replica's thread exit when it starts batch number batches+1 (tests only). */
export const FAULT_ENV = 'GEMMA_BENCH_FAULT_REPLICA_EXIT';

export class OnnxBackend implements Backend {
  readonly name = 'onnx' as const;
  private constructor(
    private readonly resolved: ResolvedOnnxModel,
    private readonly opts: OnnxBackendOptions,
  ) {}

  static async create(opts: OnnxBackendOptions): Promise<OnnxBackend> {
    const resolved = await resolveOnnxModel(opts.model, { ...(opts.variant ? { variant: opts.variant } : {}), seed: opts.seed ?? 0, log: opts.log, ...(opts.env ? { env: opts.env } : {}) });
    return new OnnxBackend(resolved, opts);
  }

  /** The CPU execution provider has no GPUs to watch: its telemetry shows the cores it runs on. */
  get telemetry(): 'gpu' | 'cpu' {
    return (this.opts.ep ?? 'cpu') === 'cpu' ? 'cpu' : 'gpu';
  }

  /** "auto" is one replica: the CPU's threads are split across replicas, so more of them add no throughput. */
  async resolveReplicas(_gpusPerReplica: number, replicas: number | 'auto'): Promise<number> {
    return replicas === 'auto' ? 1 : replicas;
  }

  model(): ModelDescription {
    return { ...this.resolved.description, details: { ...this.resolved.description.details, ep: this.opts.ep ?? 'cpu' } };
  }

  async start(s: BackendStartOptions): Promise<Replica[]> {
    const ep = this.opts.ep ?? 'cpu';
    if (s.gpusPerReplica > 1 && ep === 'cuda') {
      throw new OnnxBackendError(
        `onnxruntime cannot shard one model over several GPUs, so the onnx backend runs 1 GPU per replica (the preset asks for ${s.gpusPerReplica}). Use --backend transformers to shard a replica over a GPU group, or --gpus-per-replica 1.`,
      );
    }
    const totalThreads = this.opts.threads ?? availableParallelism();
    const perReplica = Math.max(1, Math.floor(totalThreads / s.replicas));
    const fault = parseFault((this.opts.env ?? process.env)[FAULT_ENV]);
    const replicas = await Promise.allSettled(
      Array.from({ length: s.replicas }, (_, id) => startReplica(id, this.resolved, ep, perReplica, s, fault?.replica === id ? fault.batches : null)),
    );
    const failed = replicas.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    const ok = replicas.filter((r): r is PromiseFulfilledResult<Replica> => r.status === 'fulfilled').map((r) => r.value);
    if (failed.length > 0) {
      await Promise.all(ok.map((r) => r.close()));
      throw failed[0].reason;
    }
    return ok;
  }
}

function parseFault(v: string | undefined): { replica: number; batches: number } | null {
  const m = v ? /^(\d+):(\d+)$/.exec(v) : null;
  return m ? { replica: Number(m[1]), batches: Number(m[2]) } : null;
}

function startReplica(id: number, model: ResolvedOnnxModel, ep: 'cpu' | 'cuda', threads: number, s: BackendStartOptions, exitAfterBatches: number | null): Promise<Replica> {
  return new Promise((resolveStart, rejectStart) => {
    const worker = new Worker(new URL('./worker.js', import.meta.url));
    const pending = new Map<number, { resolve: (r: InferResult[]) => void; reject: (e: Error) => void; ids: readonly number[]; hooks?: InferHooks }>();
    let batchSeq = 0;
    let ready = false;
    let closing = false;
    let exited = false;
    let resolveDied!: (reason: string) => void;
    const died = new Promise<string>((r) => (resolveDied = r));
    const post = (m: MainToWorker) => worker.postMessage(m);
    const gone = new Promise<void>((r) => worker.once('exit', () => r()));
    /**
     * Asks the thread to stop and waits until it has ended by itself. Never worker.terminate(): a thread ended while
     * inside a native onnxruntime call (session.run, or a session being created) makes that call throw into an
     * isolate that is shutting down, which aborts the whole process ("terminate called after throwing an instance
     * of 'Napi::Error'"). The thread stops its batch between decode steps, so the wait is at most one step.
     */
    const closeWorker = async (): Promise<void> => {
      if (exited) return;
      if (!closing) {
        closing = true;
        post({ type: 'close' });
      }
      const notice = setTimeout(() => s.log('warn', `replica ${id} is still finishing its current step (an onnxruntime call cannot be interrupted safely); waiting for it`), WORKER_CLOSE_NOTICE_MS);
      await gone;
      clearTimeout(notice);
    };
    const fail = (reason: string) => {
      for (const p of pending.values()) p.reject(new Error(reason));
      pending.clear();
      if (!ready) rejectStart(new OnnxBackendError(`replica ${id} failed to start: ${reason}`));
      else if (!closing) resolveDied(reason);
    };
    const replica: Replica = {
      id,
      devices: ep === 'cuda' ? [`cuda:${id}`] : [`cpu:${threads} thread${threads === 1 ? '' : 's'}`],
      gpuIndices: ep === 'cuda' ? [id] : [],
      loadMs: 0,
      capacity: 1,
      died,
      infer(batch: readonly InferRequest[], hooks?: InferHooks) {
        return new Promise<InferResult[]>((resolve, reject) => {
          const batchId = batchSeq++;
          if (!hooks) {
            pending.set(batchId, { resolve, reject, ids: [] });
            post({ type: 'infer', batchId, requests: batch });
            return;
          }
          const cancel = () => post({ type: 'cancel', batchId });
          const done = () => hooks.signal?.removeEventListener('abort', cancel);
          pending.set(batchId, { resolve: (r) => (done(), resolve(r)), reject: (e) => (done(), reject(e)), ids: batch.map((r) => r.id), hooks });
          post({ type: 'infer', batchId, requests: batch, stream: hooks.onToken !== undefined });
          if (hooks.signal?.aborted) cancel();
          else hooks.signal?.addEventListener('abort', cancel, { once: true });
        });
      },
      close() {
        return closeWorker();
      },
    };
    worker.on('message', (m: WorkerToMain) => {
      switch (m.type) {
        case 'ready': {
          const problems = checkModelLayout(m.graphs, { numLayers: model.shape.numLayers });
          if (problems.length > 0) {
            void closeWorker();
            rejectStart(new OnnxBackendError(`${model.dir} does not match the onnx-community Gemma 3 layout:\n${problems.map((p) => `  - ${p}`).join('\n')}`));
            return;
          }
          ready = true;
          (replica as { loadMs: number }).loadMs = m.loadMs;
          s.log('info', `replica ${id} ready on ${replica.devices.join(', ')} in ${(m.loadMs / 1000).toFixed(2)} s`);
          resolveStart(replica);
          return;
        }
        case 'fatal': {
          const hint = ep === 'cuda' && /cuda|provider|libonnxruntime_providers/i.test(m.message) ? `\n${CUDA_INSTALL_HINT}` : '';
          void closeWorker();
          rejectStart(new OnnxBackendError(`replica ${id} could not load the model: ${m.message}${hint}`));
          return;
        }
        case 'result': {
          const p = pending.get(m.batchId);
          pending.delete(m.batchId);
          p?.resolve([...m.results]);
          return;
        }
        case 'token': {
          const p = pending.get(m.batchId);
          m.tokenIds.forEach((t, r) => p?.hooks?.onToken?.(p.ids[r], m.step, t));
          return;
        }
        case 'log':
          s.log(m.level, `replica ${id}: ${m.message}`);
          return;
      }
    });
    worker.on('error', (err) => fail(`worker error: ${err.message}`));
    worker.on('exit', (code) => {
      exited = true;
      if (!closing || pending.size > 0) fail(`worker thread exited with code ${code}`);
    });
    post({ type: 'init', replica: id, files: model.files, shape: model.shape, ep, deviceId: id, intraOpThreads: threads, exitAfterBatches });
  });
}
