// The one resolver of run specifications: a partial specification (from flags, a grid point, the home screen or a
// saved preference) merged over a preset, defaults applied once, validated once by RunSpecSchema. Also the views
// of a specification that other layers keep: the effective preset and settings a run file records, and the
// preprocessing settings each request carries. Pure: no files, no clock.
import type { RunSettings } from '../engine/types.js';
import type { PreprocessSettings } from '../panscan/preprocess.js';
import { DEFAULT_PIXEL_LIMIT, HF_PANSCAN_DEFAULTS } from '../panscan/types.js';
import { ConfigError } from './errors.js';
import { issueLines, partialSchema, type Field } from './fields.js';
import { DEFAULT_CONCURRENCY, DEFAULT_REQUESTS, type Preset } from './preset-schema.js';
import { resolvePanScan } from './resolve-panscan.js';
import { DEFAULT_MAX_ERROR_RATE, DEFAULT_SYNTHETIC_COUNT, PREPROCESS_FIELDS, RUN_FIELDS, RunSpecSchema, type LoadSpec, type RunOverrides, type RunSpec, type StopSpec } from './run-spec.js';
import { DEFAULT_BACKEND } from '../engine/backends/registry.js';

const OVERRIDE_FIELDS: readonly Field[] = [...Object.values(RUN_FIELDS), ...Object.values(PREPROCESS_FIELDS)];
const OverridesSchema = partialSchema(OVERRIDE_FIELDS);
const PreprocessOverridesSchema = partialSchema(Object.values(PREPROCESS_FIELDS));

export type PreprocessOverrides = Pick<RunOverrides, keyof typeof PREPROCESS_FIELDS>;

/**
 * Gemma 3's preprocessing for a preset (HF's defaults with pan-and-scan on when there is none) and explicit
 * knobs, validated; with where the pan-and-scan values came from. Run specifications, panscan and infer use it.
 */
export function resolvePreprocess(preset: Preset | null, o: PreprocessOverrides): { readonly settings: PreprocessSettings; readonly source: string } {
  const given = PreprocessOverridesSchema.safeParse(stripUndefined(o));
  if (!given.success) throw new ConfigError(issueLines(given.error).join('\n'));
  const { panScan, source } = resolvePanScan(preset, { minRatioToActivate: o.minRatio, maxNumCrops: o.maxCrops, minCropSize: o.minCropSize }, o.panAndScan);
  return { settings: { panScan, exifOrientation: o.exifOrientation ?? 'ignore', pixelLimit: o.pixelLimit ?? DEFAULT_PIXEL_LIMIT }, source };
}

const flagOf = (f: Field) => `--${f.flag}`;

/** The preset's load mode: its rate (open loop) or its concurrency (closed loop, DEFAULT_CONCURRENCY if unnamed). */
export function presetLoad(l: Preset['load']): LoadSpec {
  return l.rateRps !== undefined ? { kind: 'open', rateRps: l.rateRps } : { kind: 'closed', concurrency: l.concurrency ?? DEFAULT_CONCURRENCY };
}

/** The preset's stop rule: its duration, or its request count (DEFAULT_REQUESTS if unnamed). */
export function presetStop(l: Preset['load']): StopSpec {
  return l.durationS !== undefined ? { kind: 'duration', seconds: l.durationS } : { kind: 'requests', count: l.requests ?? DEFAULT_REQUESTS };
}

/** Merges `o` over `preset` into a complete, validated specification; a ConfigError names every bad flag. */
export function resolveRunSpec(preset: Preset, o: RunOverrides, extra: { readonly group?: RunSpec['group'] } = {}): RunSpec {
  const { backendOptions, ...common } = o;
  const given = OverridesSchema.safeParse(stripUndefined(common));
  if (!given.success) throw new ConfigError(issueLines(given.error).join('\n'));
  const both = (a: Field, b: Field, what: string) => {
    if ((o as Record<string, unknown>)[a.key] !== undefined && (o as Record<string, unknown>)[b.key] !== undefined) throw new ConfigError(`give ${flagOf(a)} or ${flagOf(b)}, not both${what}`);
  };
  both(RUN_FIELDS.requests, RUN_FIELDS.durationS, '');
  both(RUN_FIELDS.concurrency, RUN_FIELDS.rateRps, ' (closed loop or open loop)');

  const load: LoadSpec = o.rateRps !== undefined ? { kind: 'open', rateRps: o.rateRps } : o.concurrency !== undefined ? { kind: 'closed', concurrency: o.concurrency } : presetLoad(preset.load);
  const stop: StopSpec = o.requests !== undefined ? { kind: 'requests', count: o.requests } : o.durationS !== undefined ? { kind: 'duration', seconds: o.durationS } : presetStop(preset.load);
  const pre = resolvePreprocess(preset, { panAndScan: o.panAndScan, minRatio: o.minRatio, maxCrops: o.maxCrops, minCropSize: o.minCropSize, exifOrientation: o.exifOrientation, pixelLimit: o.pixelLimit });
  const candidate = {
    name: o.name ?? preset.name,
    preset: { name: preset.name, description: preset.description },
    workload: { images: o.images ?? null, synthetic: o.synthetic ?? DEFAULT_SYNTHETIC_COUNT, prompts: o.prompts ?? null },
    load,
    stop,
    warmup: o.warmup ?? preset.load.warmup,
    maxNewTokens: o.maxNewTokens ?? preset.generation.maxNewTokens,
    batchSize: o.batchSize ?? preset.batching.batchSize,
    batching: o.batching ?? preset.batching.policy,
    seed: o.seed ?? 0,
    topology: { gpusPerReplica: o.gpusPerReplica ?? preset.topology.gpusPerReplica, replicas: o.replicas ?? preset.topology.replicas },
    panScan: pre.settings.panScan ? { ...pre.settings.panScan } : null,
    panScanSource: pre.source,
    exifOrientation: pre.settings.exifOrientation,
    pixelLimit: pre.settings.pixelLimit,
    engine: { dtype: o.dtype ?? preset.engine.dtype, attention: o.attention ?? preset.engine.attention, kvCache: o.kvCache ?? preset.engine.kvCache },
    maxErrorRate: o.maxErrorRate ?? DEFAULT_MAX_ERROR_RATE,
    telemetry: o.telemetry ?? true,
    backend: { name: o.backend ?? DEFAULT_BACKEND, options: stripUndefined(backendOptions ?? {}) },
    group: extra.group ?? null,
  };
  const parsed = RunSpecSchema.safeParse(candidate);
  if (!parsed.success) throw new ConfigError(issueLines(parsed.error).join('\n'));
  return parsed.data as RunSpec;
}

function stripUndefined<T extends object>(x: T): Partial<T> {
  return Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The preset a run file records: the preset's identity with the specification's settings (what actually ran). With
 * pan-and-scan off its knobs are HF's defaults, which is what switching it on without knobs would give.
 */
export function effectivePreset(spec: RunSpec): Preset {
  return {
    name: spec.preset.name,
    description: spec.preset.description,
    panScan: spec.panScan ? { enabled: true, ...spec.panScan } : { enabled: false, ...HF_PANSCAN_DEFAULTS },
    topology: { ...spec.topology },
    load: {
      warmup: spec.warmup,
      ...(spec.load.kind === 'closed' ? { concurrency: spec.load.concurrency } : { rateRps: spec.load.rateRps }),
      ...(spec.stop.kind === 'requests' ? { requests: spec.stop.count } : { durationS: spec.stop.seconds }),
    },
    batching: { batchSize: spec.batchSize, policy: spec.batching },
    generation: { maxNewTokens: spec.maxNewTokens, decoding: 'greedy' },
    engine: { ...spec.engine },
  };
}

/** The settings a run file records, with the replica count the backend resolved ("auto" made a number). */
export function runSettings(spec: RunSpec, replicas: number): RunSettings {
  return {
    requests: spec.stop.kind === 'requests' ? spec.stop.count : null,
    durationS: spec.stop.kind === 'duration' ? spec.stop.seconds : null,
    concurrency: spec.load.kind === 'closed' ? spec.load.concurrency : null,
    rateRps: spec.load.kind === 'open' ? spec.load.rateRps : null,
    warmup: spec.warmup,
    maxNewTokens: spec.maxNewTokens,
    batchSize: spec.batchSize,
    batching: spec.batching,
    replicas,
    seed: spec.seed,
  };
}

/** What every request of the run carries to the backend (as vLLM takes mm_processor_kwargs per request). */
export function preprocessSettings(spec: RunSpec): PreprocessSettings {
  return { panScan: spec.panScan, exifOrientation: spec.exifOrientation, pixelLimit: spec.pixelLimit };
}
