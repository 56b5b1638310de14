// TransformersBackend (DESIGN.md §1, §4): Hugging Face transformers + accelerate in Python worker processes, one
// per replica, each sharded with device_map="auto" over its own group of GPUs (replica r gets visible GPUs
// [r*g .. r*g+g-1]). This file owns the backend's options, the start-up checks that run before anything loads
// (interpreter, packages, GPU count against the topology), starting the replicas in parallel, and the model
// description the run file records. Process plumbing is in replica.ts, the wire format in protocol.ts.
import 'sharp'; // sharp must be loaded on the main thread before the preprocessing threads that use it start
import { existsSync, readFileSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { join, resolve } from 'node:path';
import type { Backend, BackendStartOptions, BackendTopology, LogFn, Replica } from '../../backend.js';
import { probeNvidiaSmi, type NvidiaSmiProbeResult } from '../../../telemetry/gpu-probe.js';
import type { ModelDescription } from '../../types.js';
import { GEMMA3_TEXT, gemma3ArchFromConfig, gemma3SizeFromName, type Gemma3TextArch, type ModelCostInfo } from '../../roofline.js';
import { TransformersBackendError } from './errors.js';
import { defaultPixelDir } from './preprocess-client.js';
import type { ProbeMessage, ReadyMessage } from './protocol.js';
import { probePython, resolvePython, WORKER_SCRIPT, workerArgs, type Attention, type Dtype, type KvCache, type ModelSize, type PreprocessMode, type WorkerConfig } from './python.js';
import { formatDeviceMap, startWorkerReplica, type StartedReplica } from './replica.js';
import { DEFAULT_WORKER_TIMEOUT_S } from './timeouts.js';
import { assignGpuGroups, formatGpuList, parseCudaVisibleDevices, resolveReplicaCount, resolveVisibleGpus, TopologyError, type VisibleGpus } from './topology.js';

export const MODEL_SIZES: readonly ModelSize[] = ['4b', '12b', '27b'];
/** Published parameter counts (panscan-spec.md §4.4), shown before a random-weight replica has reported its own. */
export const PUBLISHED_PARAMETERS: Readonly<Record<ModelSize, number>> = { '4b': 4.3e9, '12b': 12.187e9, '27b': 27.432e9 };

export interface TransformersBackendOptions {
  /** A Hugging Face model id (google/gemma-3-27b-it) or a local directory; not with weights "random". */
  readonly model?: string;
  /** "random": the published architecture of `modelSize` with random weights, nothing downloaded. */
  readonly weights?: 'pretrained' | 'random';
  readonly modelSize?: ModelSize;
  readonly dtype?: Dtype;
  readonly attention?: Attention;
  readonly kvCache?: KvCache;
  /** Static cache length in tokens (static KV cache only; the worker's default is 4096). */
  readonly maxCacheLen?: number;
  /** "ts" (default): gemma-bench's HF-exact preprocessing in a thread per replica; "hf": HF's processor in Python. */
  readonly preprocess?: PreprocessMode;
  /** Local processor directory for preprocess "hf" (required with random weights). */
  readonly processor?: string;
  /** The interpreter (default: $GEMMA_BENCH_PYTHON, else python3). */
  readonly python?: string;
  readonly seed?: number;
  /** Batch sizes each worker warms (and, with a static cache, compiles) before it reports ready. */
  readonly warmBatchSizes?: readonly number[];
  /** preprocess "ts": prepare the next micro-batch while the GPU runs the current one (replica capacity 2). Default true. */
  readonly pipeline?: boolean;
  readonly log: LogFn;
  /** Base environment of the worker processes (default process.env); each replica adds its CUDA_VISIBLE_DEVICES. */
  readonly env?: NodeJS.ProcessEnv;
  /** Visible GPUs (nvidia-smi indices), skipping detection: tests, or a caller that already knows. */
  readonly visibleGpus?: readonly number[];
  readonly nvidiaSmiPath?: string;
  /** Where ts-preprocessed pixel files go (default /dev/shm, else the temp directory). */
  readonly pixelDir?: string;
  /** Tests: another worker script, and extra worker arguments (the fake engine). */
  readonly workerScript?: string;
  readonly extraWorkerArgs?: readonly string[];
  readonly probeTimeoutMs?: number;
  readonly closeGraceMs?: number;
  /** --worker-timeout: seconds a worker may take to load (warm-up and compilation included), and per 256 new tokens
   *  of a micro-batch; a worker past its limit is killed and its batch fails. 0: no limit. Default 1800. */
  readonly workerTimeoutS?: number;
}

export class TransformersBackend implements Backend {
  readonly name = 'transformers' as const;
  readonly telemetry = 'gpu' as const;
  private visible: VisibleGpus | null = null;
  private probed: ProbeMessage | null = null;
  private ready: ReadyMessage | null = null;
  private readyDeviceMaps: string[] = [];

  private constructor(
    private readonly opts: TransformersBackendOptions,
    private readonly config: WorkerConfig,
    private readonly python: string,
    private readonly script: string,
  ) {}

  /** Validates the options (no process is started: that happens in start()). */
  static async create(opts: TransformersBackendOptions): Promise<TransformersBackend> {
    const config = validateOptions(opts);
    const script = opts.workerScript ?? WORKER_SCRIPT;
    if (!existsSync(script)) throw new TransformersBackendError(`the worker script ${script} is missing: reinstall gemma-bench`);
    return new TransformersBackend(opts, config, resolvePython(opts.python, opts.env ?? process.env), script);
  }

  /** The interpreter the workers run under. */
  get pythonPath(): string {
    return this.python;
  }

  model(): ModelDescription {
    const c = this.config;
    const random = c.weights === 'random';
    const name = random ? `gemma-3-${c.modelSize}` : c.model!;
    const knobs = `${c.dtype}, ${c.attention}, ${c.kvCache} KV cache`;
    const r = this.ready;
    const details: Record<string, string | number | boolean | null> = {
      backend: 'transformers',
      weights: c.weights,
      modelSize: c.modelSize,
      dtype: c.dtype,
      attention: r?.model.attention ?? c.attention,
      kvCache: c.kvCache,
      preprocess: c.preprocess,
      processor: c.processor,
      python: this.python,
      workerTimeoutS: this.opts.workerTimeoutS ?? DEFAULT_WORKER_TIMEOUT_S,
      parameters: r?.model.parameters ?? (random ? PUBLISHED_PARAMETERS[c.modelSize!] : null),
    };
    if (r) {
      Object.assign(details, {
        deviceMap: this.readyDeviceMaps[0] ?? formatDeviceMap(r.deviceMap),
        gpuMemoryAllocatedMiB: r.gpus.map((g) => `${g.gpu ?? g.ordinal}:${g.allocatedMiB}`).join(' '),
        gpuNames: [...new Set(r.gpus.map((g) => g.name))].join(', '),
        offloaded: r.offloaded,
        pythonVersion: r.versions.python,
        torch: r.versions.torch,
        transformers: r.versions.transformers,
        accelerate: r.versions.accelerate,
        cuda: r.versions.cuda,
        flashAttn: r.versions.flashAttn,
        loadS: round2(r.timings.loadS),
        warmupS: round2(r.timings.warmupS),
        compileS: r.timings.compileS === null ? null : round2(r.timings.compileS),
        compile: !r.compile.enabled ? 'off' : r.compile.ok ? 'ok' : `failed: ${r.compile.error ?? 'unknown'}`,
        imageProcessor: r.model.imageProcessorClass,
      });
    }
    return {
      name,
      label: random ? `${name} architecture, random weights: speed only (transformers, ${knobs})` : `${name} (transformers, ${knobs})`,
      path: !random && existsSync(c.model!) ? resolve(c.model!) : null,
      randomWeights: random,
      details,
    };
  }

  /** The architecture for the roofline: the published one for random weights, a local directory's config.json, or
   *  the size a Hub id names (google/gemma-3-27b-it). Weights of 2 bytes in bf16/fp16, 4 in fp32. */
  costModel(): ModelCostInfo | null {
    const c = this.config;
    let arch: Gemma3TextArch | null = null;
    let name: string;
    if (c.weights === 'random') {
      arch = GEMMA3_TEXT[c.modelSize!];
      name = `gemma-3-${c.modelSize}`;
    } else {
      name = c.model!;
      const cfg = join(c.model!, 'config.json');
      if (existsSync(cfg)) {
        try {
          arch = gemma3ArchFromConfig(JSON.parse(readFileSync(cfg, 'utf8')));
        } catch {
          arch = null;
        }
      }
      const size = gemma3SizeFromName(c.model!);
      if (!arch && size) arch = GEMMA3_TEXT[size];
    }
    return arch ? { name, arch, bytesPerParam: c.dtype === 'fp32' ? 4 : 2, pipelineSharded: true } : null;
  }

  /** Turns `replicas: "auto"` into a count (visible GPUs / gpusPerReplica), with the same detection start() uses. */
  async resolveReplicas(gpusPerReplica: number, replicas: number | 'auto', signal?: AbortSignal): Promise<number> {
    if (replicas !== 'auto') return replicas;
    try {
      return resolveReplicaCount(await this.visibleGpus(signal), gpusPerReplica, 'auto');
    } catch (err) {
      if (err instanceof TopologyError) throw new TransformersBackendError(err.message);
      throw err;
    }
  }

  /** Before anything loads (and before a run emits anything): the interpreter and its packages, then the GPUs against
   *  the topology. Every problem is a configuration error (exit 2). The probe is cached for start(). */
  async preflight(t: BackendTopology, signal?: AbortSignal): Promise<void> {
    await this.groups(t, signal);
  }

  private async groups(t: BackendTopology, signal?: AbortSignal) {
    await this.probe(signal);
    const visible = await this.visibleGpus(signal);
    try {
      return assignGpuGroups(visible, t.gpusPerReplica, t.replicas);
    } catch (err) {
      if (err instanceof TopologyError) throw new TransformersBackendError(err.message);
      throw err;
    }
  }

  async start(s: BackendStartOptions): Promise<Replica[]> {
    const log = s.log;
    // 1. Before anything loads: the interpreter and its packages, then the GPUs against the topology.
    const groups = await this.groups(s, s.signal);
    const probe = this.probed!;
    log('info', `transformers backend: ${probe.python.executable} (Python ${probe.python.version}, torch ${probe.packages.torch ?? '?'}, transformers ${probe.packages.transformers ?? '?'}); ${s.replicas} replica${s.replicas === 1 ? '' : 's'} x ${s.gpusPerReplica} GPU${s.gpusPerReplica === 1 ? '' : 's'}: ${groups.map((g, i) => `replica ${i} on GPU ${g.ids.join(',')}`).join('; ')}`);

    // 2. Every replica loads in parallel; if one fails the others are stopped and its reason is the error.
    const pixelDir = this.opts.pixelDir ?? defaultPixelDir();
    const settled = await Promise.allSettled(
      groups.map((group, id) =>
        startWorkerReplica({
          id,
          python: this.python,
          argv: workerArgs(this.script, this.config, id),
          baseEnv: this.opts.env ?? process.env,
          group,
          preprocess: this.config.preprocess,
          pipeline: this.opts.pipeline ?? true,
          pixelDir,
          log,
          ...(s.signal ? { signal: s.signal } : {}),
          ...(this.opts.closeGraceMs !== undefined ? { closeGraceMs: this.opts.closeGraceMs } : {}),
          ...(this.opts.workerTimeoutS !== undefined ? { workerTimeoutS: this.opts.workerTimeoutS } : {}),
        }),
      ),
    );
    const ok = settled.filter((r): r is PromiseFulfilledResult<StartedReplica> => r.status === 'fulfilled').map((r) => r.value);
    const failed = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0) {
      await Promise.allSettled(ok.map((r) => r.replica.close()));
      const first = failed[0].reason as Error;
      const others = failed.length > 1 ? ` (${failed.length - 1} other replica${failed.length === 2 ? '' : 's'} failed too)` : '';
      throw first instanceof TransformersBackendError ? new TransformersBackendError(first.message + others, first.stage) : first;
    }
    ok.sort((a, b) => a.replica.id - b.replica.id);
    this.ready = ok[0]?.ready ?? null;
    this.readyDeviceMaps = ok.map((r) => formatDeviceMap(r.ready.deviceMap));
    for (const r of ok) {
      const t = r.ready.timings;
      const mem = r.ready.gpus.map((g) => `${(g.allocatedMiB / 1024).toFixed(1)} GiB on GPU ${g.gpu ?? g.ordinal}`).join(', ');
      const compile = t.compileS !== null ? `, compile ${t.compileS.toFixed(1)} s` : '';
      log(
        'info',
        `replica ${r.replica.id} ready in ${(r.replica.loadMs / 1000).toFixed(1)} s (load ${t.loadS.toFixed(1)} s, warm-up ${t.warmupS.toFixed(1)} s${compile}): ${formatDeviceMap(r.ready.deviceMap)}${mem ? `; ${mem}` : ''}`,
      );
      for (const n of r.ready.notes) log('warn', `replica ${r.replica.id}: ${n}`);
    }
    return ok.map((r) => r.replica);
  }

  private async probe(signal?: AbortSignal): Promise<ProbeMessage> {
    this.probed ??= await probePython({
      python: this.python,
      script: this.script,
      config: this.config,
      env: this.opts.env ?? process.env,
      ...(this.opts.probeTimeoutMs !== undefined ? { timeoutMs: this.opts.probeTimeoutMs } : {}),
      ...(signal ? { signal } : {}),
    });
    const p = this.probed;
    if (p.problems.length > 0) throw new TransformersBackendError(`the Python environment of ${p.python.executable} cannot run the worker: ${p.problems.join('; ')}`);
    return p;
  }

  private async visibleGpus(signal?: AbortSignal): Promise<VisibleGpus> {
    if (this.visible) return this.visible;
    const env = this.opts.env ?? process.env;
    if (this.opts.visibleGpus) {
      const ids = [...this.opts.visibleGpus];
      this.visible = { ids, indices: ids, detail: `given: GPU ${formatGpuList(ids)}` };
      return this.visible;
    }
    const [smi, probe] = await Promise.all([
      probeNvidiaSmi({ ...(this.opts.nvidiaSmiPath ? { nvidiaSmiPath: this.opts.nvidiaSmiPath } : {}), env: stringEnv(env) }),
      this.probe(signal),
    ]);
    const cudaVisible = parseCudaVisibleDevices(env.CUDA_VISIBLE_DEVICES);
    const torchCount = probe.engine === 'torch' ? probe.cuda.deviceCount : null;
    checkTorchSeesGpus(smi, probe, cudaVisible === null ? null : cudaVisible.length);
    try {
      this.visible = resolveVisibleGpus(smi, torchCount, cudaVisible);
    } catch (err) {
      if (err instanceof TopologyError) throw new TransformersBackendError(err.message);
      throw err;
    }
    return this.visible;
  }
}

/** nvidia-smi sees GPUs but torch none: a CPU-only torch build (or a driver too old for its CUDA). */
function checkTorchSeesGpus(smi: NvidiaSmiProbeResult, probe: ProbeMessage, restrictedTo: number | null): void {
  if (probe.engine !== 'torch' || !smi.ok || smi.gpus.length === 0 || restrictedTo === 0) return;
  if (probe.cuda.deviceCount > 0) return;
  const build = probe.cuda.torchCuda === null ? 'torch.version.cuda is None: a CPU-only build' : `built for CUDA ${probe.cuda.torchCuda}: is the driver too old for it?`;
  throw new TransformersBackendError(
    `nvidia-smi lists ${smi.gpus.length} GPU${smi.gpus.length === 1 ? '' : 's'} but torch ${probe.packages.torch ?? ''} in ${probe.python.executable} sees none (${build}). Install a CUDA build of torch (https://pytorch.org/get-started/locally/).`,
  );
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  return { ...env };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Checks the option combination and fills the defaults; every problem says what to do. */
export function validateOptions(o: TransformersBackendOptions): WorkerConfig {
  const weights = o.weights ?? 'pretrained';
  const preprocess = o.preprocess ?? 'ts';
  const dtype = o.dtype ?? 'bf16';
  const attention = o.attention ?? 'sdpa';
  const fail = (m: string): never => {
    throw new TransformersBackendError(m);
  };
  if (weights === 'random') {
    if (!o.modelSize) fail('random weights need a model size: --weights random --model-size 4b|12b|27b');
    if (o.model) fail(`--weights random builds the published 4b/12b/27b architectures without downloading anything; give --model-size instead of --model ${o.model}`);
    if (preprocess === 'hf' && !o.processor) {
      fail('--preprocess hf with random weights needs a local processor directory (--processor DIR, holding the tokenizer and preprocessor configs of a Gemma 3 model): random weights download nothing. Use --preprocess ts instead: gemma-bench\'s own preprocessing is HF-exact and needs no download.');
    }
  } else {
    if (!o.model || o.model === 'tiny') {
      fail('the transformers backend needs --model (a Hugging Face id such as google/gemma-3-27b-it, or a local directory), or --weights random --model-size 4b|12b|27b to measure speed before downloading weights');
    }
    if (o.modelSize) fail('--model-size applies to --weights random only (a real model brings its own architecture)');
    const looksLocal = o.model!.startsWith('.') || o.model!.startsWith('/') || o.model!.startsWith('~');
    if (looksLocal && !existsSync(o.model!)) fail(`--model ${o.model}: no such directory`);
  }
  if (o.modelSize && !MODEL_SIZES.includes(o.modelSize)) fail(`--model-size must be one of ${MODEL_SIZES.join(', ')} (got ${o.modelSize})`);
  if (o.processor && !(existsSync(o.processor) && statSync(o.processor).isDirectory())) fail(`--processor ${o.processor}: not a directory`);
  if (attention === 'flash_attention_2' && dtype === 'fp32') fail('flash_attention_2 runs in bf16 or fp16 only: use --dtype bf16, or --attention sdpa');
  if (o.maxCacheLen !== undefined && (!Number.isInteger(o.maxCacheLen) || o.maxCacheLen < 256)) fail(`--max-cache-len must be a whole number of tokens >= 256 (got ${o.maxCacheLen})`);
  if (preprocess === 'ts' && endianness() !== 'LE') fail('--preprocess ts hands pixels over as little-endian float32; on this big-endian machine use --preprocess hf');
  const warm = [...new Set(o.warmBatchSizes ?? [1])].filter((n) => Number.isInteger(n) && n >= 1);
  return {
    weights,
    model: weights === 'random' ? null : o.model!,
    modelSize: o.modelSize ?? null,
    dtype,
    attention,
    kvCache: o.kvCache ?? 'dynamic',
    maxCacheLen: o.maxCacheLen ?? null,
    preprocess,
    processor: o.processor ? resolve(o.processor) : null,
    seed: o.seed ?? 0,
    warmBatchSizes: warm.length > 0 ? warm : [1],
    extraArgs: [...(o.extraWorkerArgs ?? [])],
  };
}
