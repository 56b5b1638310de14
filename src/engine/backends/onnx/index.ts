// The onnx backend (main-thread side): one worker thread per replica, each with its own onnxruntime sessions
// (CPU EP with the intra-op threads split across replicas, or the CUDA EP with one device per replica). It
// checks each model's graphs against the onnx-community layout, forwards micro-batches, and turns a worker that
// exits into a dead replica whose in-flight batch fails with the reason. On CUDA, before anything loads
// (preflight): the execution provider must be installed, one GPU per replica, and replica r runs on the r-th GPU
// CUDA_VISIBLE_DEVICES leaves, with CUDA_DEVICE_ORDER=PCI_BUS_ID so that is nvidia-smi's GPU the telemetry shows.
import 'sharp'; // sharp must be loaded on the main thread before any worker thread that uses it starts
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { checkModelLayout } from '../../../model/layout.js';
import { probeNvidiaSmi, type NvidiaSmiProbeResult } from '../../../telemetry/gpu-probe.js';
import type { Backend, BackendStartOptions, BackendTopology, InferHooks, InferRequest, InferResult, LogFn, Replica } from '../../backend.js';
import { formatGpuList, parseCudaVisibleDevices, PCI_BUS_ID, TopologyError, visibleFromNvidiaSmi, type VisibleGpus } from '../../gpu-env.js';
import { CUDA_EP_INSTALL, cudaProviderMissingMessage, onnxProviders, type OnnxProviders } from './providers.js';
import type { ModelDescription } from '../../types.js';
import { gemma3ArchFromConfig, type ModelCostInfo } from '../../roofline.js';
import { resolveOnnxModel, type ResolvedOnnxModel } from './model-dir.js';
import type { MainToWorker, WorkerToMain } from './protocol.js';

export const CUDA_INSTALL_HINT = `the CUDA execution provider of onnxruntime-node may not be installed, or not find its CUDA 12 / cuDNN 9 libraries. On a machine with internet access run in gemma-bench's directory: ${CUDA_EP_INSTALL}`;

/** `stage` as TransformersBackendError's: "configuration" problems are found before anything loads (exit 2). */
export class OnnxBackendError extends Error {
  override name = 'OnnxBackendError';
  constructor(
    message: string,
    readonly stage: 'configuration' | 'loading' = 'loading',
  ) {
    super(message);
  }
}

/** Where the CUDA replicas run: replica r on CUDA ordinal r of this process, which is nvidia-smi's GPU indices[r]. */
export interface CudaPlacement {
  readonly indices: readonly (number | null)[];
  readonly detail: string;
}

/**
 * The GPUs `replicas` CUDA replicas run on: the first `replicas` of what CUDA_VISIBLE_DEVICES leaves of nvidia-smi's
 * GPUs (in nvidia-smi order under CUDA_DEVICE_ORDER=PCI_BUS_ID). Without nvidia-smi the indices are
 * CUDA_VISIBLE_DEVICES' own entries, or the ordinals. Throws TopologyError when there are too few.
 */
export function cudaPlacement(smi: NvidiaSmiProbeResult, cudaVisibleDevices: string | undefined, replicas: number): CudaPlacement {
  const parsed = parseCudaVisibleDevices(cudaVisibleDevices);
  let visible: VisibleGpus;
  if (smi.ok) visible = visibleFromNvidiaSmi(smi.gpus, parsed);
  else if (parsed !== null) visible = { ids: parsed, indices: parsed.map((x) => (typeof x === 'number' ? x : null)), detail: `CUDA_VISIBLE_DEVICES=${parsed.join(',')}; ${smi.message}` };
  else {
    const ids = Array.from({ length: replicas }, (_, i) => i);
    return { indices: ids, detail: `${smi.message}: assuming CUDA devices 0-${replicas - 1} are nvidia-smi's GPUs ${formatGpuList(ids)}` };
  }
  if (visible.ids.length === 0) throw new TopologyError(`--ep cuda: no GPU is visible (${visible.detail}). Use --ep cpu, or fix CUDA_VISIBLE_DEVICES.`);
  if (replicas > visible.ids.length) {
    throw new TopologyError(
      `--ep cuda runs one replica per GPU: ${replicas} replicas need ${replicas} GPUs, but only ${visible.ids.length} ${visible.ids.length === 1 ? 'is' : 'are'} visible (${visible.detail}). Lower --replicas.`,
    );
  }
  return { indices: visible.indices.slice(0, replicas), detail: visible.detail };
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
  /** Tests: the execution providers to assume, and the nvidia-smi to ask (default: the installed ones, on PATH). */
  readonly providers?: () => OnnxProviders;
  readonly nvidiaSmiPath?: string;
}

/** After this long closing, say that the replica is still finishing its current step (and keep waiting). */
const WORKER_CLOSE_NOTICE_MS = 5_000;

/** "replica:batches": make that replica's thread exit when it starts batch number batches+1 (tests only). */
export const FAULT_ENV = 'GEMMA_BENCH_FAULT_REPLICA_EXIT';

export class OnnxBackend implements Backend {
  readonly name = 'onnx' as const;
  private placement: CudaPlacement | null = null;
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

  /** The architecture from the export's config.json; bytes per weight from the graph variant (fp32 when none). */
  costModel(): ModelCostInfo | null {
    let arch = null;
    try {
      arch = gemma3ArchFromConfig(JSON.parse(readFileSync(join(this.resolved.dir, 'config.json'), 'utf8')));
    } catch {
      return null;
    }
    if (!arch) return null;
    const v = (this.opts.variant ?? '').replace(/^_/, '').toLowerCase();
    const bytesPerParam = v === '' ? 4 : v === 'fp16' ? 2 : /^(q4|q4f16|bnb4)$/.test(v) ? 0.5 : /^(int8|uint8|quantized)$/.test(v) ? 1 : null;
    return bytesPerParam === null ? null : { name: this.resolved.description.name, arch, bytesPerParam };
  }

  model(): ModelDescription {
    return { ...this.resolved.description, details: { ...this.resolved.description.details, ep: this.opts.ep ?? 'cpu' } };
  }

  /** --ep cuda: the provider, one GPU per replica, and which GPUs; each problem a configuration error (exit 2). */
  async preflight(t: BackendTopology): Promise<void> {
    if ((this.opts.ep ?? 'cpu') !== 'cuda') return;
    const p = (this.opts.providers ?? onnxProviders)();
    if (!p.providers.includes('cuda')) throw new OnnxBackendError(cudaProviderMissingMessage(p), 'configuration');
    if (t.gpusPerReplica > 1) {
      throw new OnnxBackendError(
        `onnxruntime cannot shard one model over several GPUs, so the onnx backend runs 1 GPU per replica (the preset asks for ${t.gpusPerReplica}). Use --backend transformers to shard a replica over a GPU group, or --gpus-per-replica 1.`,
        'configuration',
      );
    }
    const env = this.opts.env ?? process.env;
    const smi = await probeNvidiaSmi({ ...(this.opts.nvidiaSmiPath ? { nvidiaSmiPath: this.opts.nvidiaSmiPath } : {}), env: { ...env } });
    try {
      this.placement = cudaPlacement(smi, env.CUDA_VISIBLE_DEVICES, t.replicas);
    } catch (err) {
      if (err instanceof TopologyError) throw new OnnxBackendError(err.message, 'configuration');
      throw err;
    }
  }

  /**
   * --ep cuda, just before the replicas start: the preflight checks, then CUDA_DEVICE_ORDER=PCI_BUS_ID in this
   * process's environment, which the worker threads' CUDA reads when it initialises (so ordinals follow nvidia-smi's
   * order within what CUDA_VISIBLE_DEVICES leaves). Returns the placement.
   */
  async prepareCuda(s: BackendStartOptions): Promise<CudaPlacement> {
    await this.preflight({ replicas: s.replicas, gpusPerReplica: s.gpusPerReplica });
    if (process.env.CUDA_DEVICE_ORDER !== PCI_BUS_ID) {
      if (process.env.CUDA_DEVICE_ORDER) s.log('warn', `CUDA_DEVICE_ORDER=${process.env.CUDA_DEVICE_ORDER} replaced by ${PCI_BUS_ID}, so CUDA devices are nvidia-smi's GPUs`);
      process.env.CUDA_DEVICE_ORDER = PCI_BUS_ID;
    }
    const p = this.placement!;
    s.log('info', `--ep cuda: ${p.indices.map((g, r) => `replica ${r} on GPU ${g ?? `cuda:${r}`}`).join('; ')} (${p.detail})`);
    return p;
  }

  async start(s: BackendStartOptions): Promise<Replica[]> {
    const ep = this.opts.ep ?? 'cpu';
    if (ep === 'cuda') await this.prepareCuda(s);
    const totalThreads = this.opts.threads ?? availableParallelism();
    const perReplica = Math.max(1, Math.floor(totalThreads / s.replicas));
    const fault = parseFault((this.opts.env ?? process.env)[FAULT_ENV]);
    const placement = ep === 'cuda' ? this.placement : null;
    const replicas = await Promise.allSettled(
      Array.from({ length: s.replicas }, (_, id) => startReplica(id, this.resolved, ep, perReplica, s, fault?.replica === id ? fault.batches : null, placement?.indices[id] ?? null)),
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

function startReplica(id: number, model: ResolvedOnnxModel, ep: 'cpu' | 'cuda', threads: number, s: BackendStartOptions, exitAfterBatches: number | null, gpuIndex: number | null): Promise<Replica> {
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
      devices: ep === 'cuda' ? [gpuIndex !== null ? `gpu:${gpuIndex}` : `cuda:${id}`] : [`cpu:${threads} thread${threads === 1 ? '' : 's'}`],
      gpuIndices: ep === 'cuda' && gpuIndex !== null ? [gpuIndex] : [],
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
