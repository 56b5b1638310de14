// Flags shared by `run` and `sweep`, and how they combine with a preset into a run's configuration. Explicit
// flags override the preset; the preset fills the rest. Every invalid combination is a UsageError naming it.
import { availableParallelism } from 'node:os';
import { flag, num, oneOf, str, UsageError, type OptionSpec, type ParsedValues } from './args.js';
import type { Preset } from '../config/preset-schema.js';
import { resolvePanScan } from '../config/resolve-panscan.js';
import type { Backend, LogFn } from '../engine/backend.js';
import { OnnxBackend } from '../engine/backends/onnx/index.js';
import { createTransformersBackendFromFlags, transformersRunOptions, TransformersBackend } from '../engine/backends/transformers/index.js';
import type { RunConfig } from '../engine/run-benchmark.js';
import type { LoadMode, StopRule } from '../engine/scheduler.js';
import { DEFAULT_SYNTHETIC_COUNT, ensureSyntheticSet } from '../engine/synthetic.js';
import type { RunGroup, RunSettings, Workload } from '../engine/types.js';
import { buildWorkload, discoverImages, loadPrompts } from '../engine/workload.js';
import type { PreprocessSettings } from '../panscan/preprocess.js';
import { DEFAULT_PIXEL_LIMIT } from '../panscan/types.js';

export const DEFAULT_PRESET = 'balanced';

export const RUN_OPTIONS: Record<string, OptionSpec> = {
  preset: { type: 'string', placeholder: 'NAME|FILE', description: `preset to run (default ${DEFAULT_PRESET}); flags below override it` },
  images: { type: 'string', placeholder: 'GLOB|DIR', description: 'images: a file, a directory (recursive) or a quoted glob (default: the built-in synthetic document set)' },
  synthetic: { type: 'string', placeholder: 'N', description: `size of the built-in synthetic set (default ${DEFAULT_SYNTHETIC_COUNT})` },
  prompts: { type: 'string', placeholder: 'FILE', description: 'prompts, one per line (default: a document question)' },
  backend: { type: 'string', placeholder: 'onnx|transformers', description: 'inference backend: onnx (default; worker threads, CPU or CUDA EP) or transformers (Python workers sharded over GPU groups)' },
  model: { type: 'string', placeholder: 'DIR|ID|tiny', description: 'onnx: tiny (built-in, random weights) or an ONNX export directory; transformers: a Hub id or local path' },
  variant: { type: 'string', placeholder: 'SUFFIX', description: 'graph file suffix of a real ONNX export, e.g. q4' },
  ep: { type: 'string', placeholder: 'cpu|cuda', description: 'onnxruntime execution provider (default cpu)' },
  threads: { type: 'string', placeholder: 'N', description: 'CPU threads shared by the replicas (default all cores)' },
  requests: { type: 'string', placeholder: 'N', description: 'stop after N measured requests' },
  duration: { type: 'string', placeholder: 'S', description: 'stop issuing after S seconds of measurement' },
  concurrency: { type: 'string', placeholder: 'N', description: 'closed loop: N requests in flight' },
  rate: { type: 'string', placeholder: 'R', description: 'open loop: Poisson arrivals at R requests/s' },
  replicas: { type: 'string', placeholder: 'N|auto', description: 'model replicas' },
  'gpus-per-replica': { type: 'string', placeholder: 'N', description: 'GPUs each replica owns' },
  'batch-size': { type: 'string', placeholder: 'N', description: 'micro-batch size' },
  batching: { type: 'string', placeholder: 'crop|fifo', description: 'group micro-batches by crop count, or arrival order' },
  warmup: { type: 'string', placeholder: 'N', description: 'warmup requests (run first, kept, excluded from statistics)' },
  'max-new-tokens': { type: 'string', placeholder: 'N', description: 'tokens generated per request (EOS ignored so runs compare)' },
  'min-ratio': { type: 'string', placeholder: 'R', description: 'pan-and-scan: aspect ratio that activates it' },
  'max-crops': { type: 'string', placeholder: 'N', description: 'pan-and-scan: maximum crops' },
  'min-crop-size': { type: 'string', placeholder: 'PX', description: 'pan-and-scan: minimum crop side' },
  'exif-orientation': { type: 'string', placeholder: 'apply|ignore', description: 'apply EXIF orientation first (default ignore)' },
  'pixel-limit': { type: 'string', placeholder: 'N', description: `refuse larger images (default ${DEFAULT_PIXEL_LIMIT})` },
  seed: { type: 'string', placeholder: 'N', description: 'seed for the synthetic set and Poisson arrivals (default 0)' },
  name: { type: 'string', placeholder: 'NAME', description: 'run name (default: the preset name)' },
  'no-telemetry': { type: 'boolean', description: 'do not sample GPU/CPU utilisation' },
  ...transformersRunOptions(),
  json: { type: 'boolean', description: 'print the engine events as NDJSON on stdout' },
  'no-tui': { type: 'boolean', description: 'on a terminal, print progress lines instead of the live dashboard' },
};

export interface PreparedRun {
  readonly config: RunConfig;
  readonly backendOptions: BackendChoice;
}

export type BackendChoice =
  | {
      readonly kind: 'onnx';
      readonly model: string;
      readonly variant: string | undefined;
      readonly ep: 'cpu' | 'cuda';
      readonly threads: number | undefined;
      readonly seed: number;
    }
  | {
      readonly kind: 'transformers';
      /** The parsed flags; the transformers backend reads its own (model, weights, dtype ...). */
      readonly values: ParsedValues;
      readonly engine: Preset['engine'];
      readonly batchSize: number;
      readonly seed: number;
      /** The GPU telemetry path, never the CPU one. */
      readonly ep: 'cuda';
      /** replicas "auto": resolved from the visible GPUs once the backend exists. */
      readonly autoReplicas: boolean;
    };

/** The run's configuration minus the workload (resolved separately because it reads files). */
export function resolveRunSettings(values: ParsedValues, preset: Preset) {
  const requests = num(values, 'requests', { integer: true, min: 1 });
  const durationS = num(values, 'duration', { min: 0, exclusiveMin: true });
  if (requests !== undefined && durationS !== undefined) throw new UsageError('give --requests or --duration, not both');
  const concurrency = num(values, 'concurrency', { integer: true, min: 1 });
  const rateRps = num(values, 'rate', { min: 0, exclusiveMin: true });
  if (concurrency !== undefined && rateRps !== undefined) throw new UsageError('give --concurrency (closed loop) or --rate (open loop), not both');

  const l = preset.load;
  const load: LoadMode =
    rateRps !== undefined ? { kind: 'open', rateRps } : concurrency !== undefined ? { kind: 'closed', concurrency } : l.rateRps !== undefined ? { kind: 'open', rateRps: l.rateRps } : { kind: 'closed', concurrency: l.concurrency ?? 1 };
  const stop: StopRule =
    requests !== undefined ? { kind: 'requests', count: requests } : durationS !== undefined ? { kind: 'duration', seconds: durationS } : l.durationS !== undefined ? { kind: 'duration', seconds: l.durationS } : { kind: 'requests', count: l.requests ?? 32 };

  const backend = oneOf(values, 'backend', ['onnx', 'transformers'] as const) ?? 'onnx';
  const ep = oneOf(values, 'ep', ['cpu', 'cuda'] as const) ?? 'cpu';
  const gpusPerReplica = num(values, 'gpus-per-replica', { integer: true, min: 1 }) ?? preset.topology.gpusPerReplica;
  const replicasRaw = str(values, 'replicas');
  let replicas: number;
  const auto = replicasRaw === 'auto' || (replicasRaw === undefined && preset.topology.replicas === 'auto');
  if (auto) {
    // auto = visible GPUs / gpusPerReplica: the transformers backend resolves it from the GPUs it sees
    // (resolveAutoReplicas); the onnx backend runs one replica.
    replicas = 1;
  } else {
    replicas = replicasRaw !== undefined ? num(values, 'replicas', { integer: true, min: 1 })! : (preset.topology.replicas as number);
  }
  const seed = num(values, 'seed', { integer: true, min: 0 }) ?? 0;
  const settings: RunSettings = {
    requests: stop.kind === 'requests' ? stop.count : null,
    durationS: stop.kind === 'duration' ? stop.seconds : null,
    concurrency: load.kind === 'closed' ? load.concurrency : null,
    rateRps: load.kind === 'open' ? load.rateRps : null,
    warmup: num(values, 'warmup', { integer: true, min: 0 }) ?? l.warmup,
    maxNewTokens: num(values, 'max-new-tokens', { integer: true, min: 1 }) ?? preset.generation.maxNewTokens,
    batchSize: num(values, 'batch-size', { integer: true, min: 1 }) ?? preset.batching.batchSize,
    batching: oneOf(values, 'batching', ['crop', 'fifo'] as const) ?? preset.batching.policy,
    replicas,
    seed,
  };
  const { panScan, source } = resolvePanScan(preset, {
    minRatioToActivate: num(values, 'min-ratio', { min: 0, exclusiveMin: true }),
    maxNumCrops: num(values, 'max-crops', { integer: true, min: 1 }),
    minCropSize: num(values, 'min-crop-size', { integer: true, min: 1 }),
  });
  const preprocess: PreprocessSettings = {
    panScan,
    exifOrientation: oneOf(values, 'exif-orientation', ['apply', 'ignore'] as const) ?? 'ignore',
    pixelLimit: num(values, 'pixel-limit', { integer: true, min: 1 }) ?? DEFAULT_PIXEL_LIMIT,
  };
  // The saved preset is what actually ran: flags folded in.
  const effective: Preset = {
    ...preset,
    panScan: panScan ? { enabled: true, ...panScan } : { ...preset.panScan, enabled: false },
    topology: { gpusPerReplica, replicas: auto ? 'auto' : replicas },
    load: {
      warmup: settings.warmup,
      ...(load.kind === 'closed' ? { concurrency: load.concurrency } : { rateRps: load.rateRps }),
      ...(stop.kind === 'requests' ? { requests: stop.count } : { durationS: stop.seconds }),
    },
    batching: { batchSize: settings.batchSize, policy: settings.batching },
    generation: { ...preset.generation, maxNewTokens: settings.maxNewTokens },
  };
  const backendChoice: BackendChoice =
    backend === 'transformers'
      ? { kind: 'transformers', values, engine: preset.engine, batchSize: settings.batchSize, seed, ep: 'cuda', autoReplicas: auto }
      : {
          kind: 'onnx',
          model: str(values, 'model') ?? 'tiny',
          variant: str(values, 'variant'),
          ep,
          threads: num(values, 'threads', { integer: true, min: 1 }) ?? availableParallelism(),
          seed: 0,
        };
  return { load, stop, settings, preprocess, panScanSource: source, effective, gpusPerReplica, backendChoice, telemetry: !flag(values, 'no-telemetry') };
}

export async function resolveWorkload(values: ParsedValues, preprocess: PreprocessSettings, seed: number): Promise<Workload> {
  const prompts = loadPrompts(str(values, 'prompts'));
  const spec = str(values, 'images');
  if (spec) {
    const { files, skipped } = await discoverImages(spec);
    return buildWorkload(spec, files, prompts, preprocess, skipped);
  }
  const count = num(values, 'synthetic', { integer: true, min: 1, max: 1000 }) ?? DEFAULT_SYNTHETIC_COUNT;
  const files = await ensureSyntheticSet(seed, count);
  return buildWorkload(`synthetic:seed=${seed}:n=${count}`, files, prompts, preprocess, 0);
}

export async function createBackend(c: BackendChoice, log: LogFn, env?: NodeJS.ProcessEnv): Promise<Backend> {
  if (c.kind === 'transformers') return createTransformersBackendFromFlags(c.values, log, { engine: c.engine, batchSize: c.batchSize, seed: c.seed, ...(env ? { env } : {}) });
  return OnnxBackend.create({ model: c.model, ...(c.variant ? { variant: c.variant } : {}), ep: c.ep, ...(c.threads ? { threads: c.threads } : {}), seed: c.seed, log, ...(env ? { env } : {}) });
}

/**
 * The replica count a run will use: "auto" on the transformers backend becomes visible GPUs / gpusPerReplica,
 * checked before anything loads (a topology that does not fit is a configuration error).
 */
export async function resolveAutoReplicas(backend: Backend, c: BackendChoice, settings: RunSettings, gpusPerReplica: number): Promise<RunSettings> {
  if (c.kind !== 'transformers' || !c.autoReplicas || !(backend instanceof TransformersBackend)) return settings;
  return { ...settings, replicas: await backend.resolveReplicas(gpusPerReplica, 'auto') };
}

export type ResolvedRun = ReturnType<typeof resolveRunSettings>;

/** The engine's RunConfig for resolved flags and a workload, as `run`, `sweep` and the interactive app start it. */
export function runConfigFor(r: ResolvedRun, workload: Workload, o: { name: string; group?: RunGroup | null; settings?: RunSettings; runsDir?: string }): RunConfig {
  return {
    name: o.name,
    preset: r.effective,
    settings: o.settings ?? r.settings,
    load: r.load,
    stop: r.stop,
    preprocess: r.preprocess,
    workload,
    group: o.group ?? null,
    gpusPerReplica: r.gpusPerReplica,
    // The CPU execution provider has no GPUs to watch: show the cores it runs on.
    telemetry: { enabled: r.telemetry, preferCpu: r.backendChoice.ep === 'cpu' },
    ...(o.runsDir ? { runsDir: o.runsDir } : {}),
  };
}
