// Test helper: realistic RunFile objects (seeded, deterministic), whose summary is computed by the real
// accumulator from the records, so a fake run is internally consistent like a real one.
import { PresetSchema } from '../../src/config/preset-schema.js';
import { summarizeRecords } from '../../src/engine/accumulator.js';
import { RUN_SCHEMA_VERSION, type RequestRecord, type RunFile, type RunGroup, type RunStatus, type WorkloadImage } from '../../src/engine/types.js';
import { prng } from '../../src/util/prng.js';

export interface FakeRunOptions {
  readonly name?: string;
  readonly id?: string;
  /** ISO time; default 2026-11-25T14:22:33.000Z. */
  readonly startedAt?: string;
  readonly status?: RunStatus;
  /** Measured requests, failures included (default 24). */
  readonly requests?: number;
  readonly warmup?: number;
  /** How many of the measured requests fail. */
  readonly failed?: number;
  readonly outputTokens?: number;
  readonly replicas?: number;
  readonly seed?: number;
  /** Multiplies every latency: 2 makes a run twice as slow. */
  readonly latencyScale?: number;
  /** Time between two requests' enqueues, ms (default 20 x latencyScale): sets the throughput apart from latency. */
  readonly intervalMs?: number;
  readonly panScan?: Partial<{ enabled: boolean; minRatioToActivate: number; maxNumCrops: number; minCropSize: number }>;
  readonly presetName?: string;
  readonly group?: RunGroup | null;
  readonly randomWeights?: boolean;
  readonly notes?: readonly string[];
  readonly setHash?: string;
  readonly diedReplica?: { replica: number; reason: string } | null;
  /** Completed requests carry peak GPU memory: replica r on GPUs 2r and 2r+1, rising by 10 MiB per request. */
  readonly peakMemory?: boolean;
}

/** The project's seeded PRNG (src/util/prng.ts), so fake runs are the same on every machine. */
export { prng };

const IMAGES: readonly WorkloadImage[] = [
  { path: '/data/docs/receipt-01.png', sha256: 'a'.repeat(64), bytes: 183_422, width: 600, height: 1800, crops: [{ left: 0, top: 0, width: 600, height: 600 }, { left: 0, top: 600, width: 600, height: 600 }, { left: 0, top: 1200, width: 600, height: 600 }], imageTokens: 1024, promptTokens: [1120], error: null },
  { path: '/data/docs/page-02.jpg', sha256: 'b'.repeat(64), bytes: 402_117, width: 1240, height: 1754, crops: [], imageTokens: 256, promptTokens: [290], error: null },
  { path: '/data/docs/infographic "wide", 03.webp', sha256: 'c'.repeat(64), bytes: 95_001, width: 2400, height: 800, crops: [{ left: 0, top: 0, width: 800, height: 800 }, { left: 800, top: 0, width: 800, height: 800 }, { left: 1600, top: 0, width: 800, height: 800 }], imageTokens: 1024, promptTokens: [1120], error: null },
];

/** Records like the engine's: warmup first, then measured ones; `failed` of the measured ones fail. */
export function fakeRecords(o: FakeRunOptions = {}): RequestRecord[] {
  const rnd = prng(o.seed ?? 1);
  const scale = o.latencyScale ?? 1;
  const warmup = o.warmup ?? 2;
  const n = o.requests ?? 24;
  const failed = o.failed ?? 0;
  const tokens = o.outputTokens ?? 16;
  const replicas = o.replicas ?? 1;
  const out: RequestRecord[] = [];
  for (let i = 0; i < warmup + n; i++) {
    const img = IMAGES[i % IMAGES.length];
    const isWarmup = i < warmup;
    const fails = !isWarmup && i >= warmup + n - failed;
    const enq = i * (o.intervalMs ?? 20 * scale);
    const queue = (1 + 4 * rnd()) * scale;
    const pre = (3 + 5 * rnd()) * scale;
    const vision = (10 + 20 * rnd()) * (1 + img.crops.length) * scale;
    const ttft = pre + vision + (5 + 10 * rnd()) * scale;
    const times: number[] = [];
    let t = ttft;
    for (let k = 0; k < tokens; k++) {
      if (k > 0) t += (2 + 2 * rnd()) * scale;
      times.push(t);
    }
    const e2e = queue + t;
    const base = {
      id: i,
      imageIndex: i % IMAGES.length,
      promptIndex: 0,
      warmup: isWarmup,
      replica: i % replicas,
      batchSize: 1,
      crops: img.crops.length,
      imageTokens: img.imageTokens,
      promptTokens: img.promptTokens[0],
      enqueuedAtMs: enq,
      dispatchedAtMs: enq + queue,
    };
    if (fails) {
      out.push({
        ...base,
        status: 'failed',
        error: `replica ${i % replicas}: worker exited with code 137, "out of memory"`,
        outputTokens: 0,
        finishedAtMs: enq + queue + pre,
        queueMs: queue,
        preprocessMs: pre,
        visionMs: null,
        ttftMs: null,
        e2eMs: null,
        tpotMs: null,
        tokenTimesMs: [],
        tokenIds: [],
      });
      continue;
    }
    out.push({
      ...base,
      status: 'ok',
      error: null,
      outputTokens: tokens,
      finishedAtMs: enq + e2e,
      queueMs: queue,
      preprocessMs: pre,
      visionMs: vision,
      ttftMs: ttft,
      e2eMs: e2e,
      tpotMs: tokens > 1 ? (times[tokens - 1] - times[0]) / (tokens - 1) : null,
      tokenTimesMs: times,
      tokenIds: times.map((_, k) => 1000 + ((i * 7 + k) % 500)),
      ...(o.peakMemory
        ? {
            peakMemory: [0, 1].map((g) => ({ gpu: String(2 * (i % replicas) + g), allocatedMiB: 20_000 - 2_000 * g + 10 * i, reservedMiB: 22_000 - 2_000 * g + 10 * i })),
          }
        : {}),
    });
  }
  return out;
}

export function fakeRun(o: FakeRunOptions = {}): RunFile {
  const name = o.name ?? 'balanced';
  const startedAt = o.startedAt ?? '2026-11-25T14:22:33.000Z';
  const replicas = o.replicas ?? 1;
  const preset = PresetSchema.parse({
    name: o.presetName ?? 'balanced',
    description: 'test preset',
    panScan: { enabled: true, minRatioToActivate: 2.0, maxNumCrops: 6, minCropSize: 448, ...o.panScan },
    topology: { gpusPerReplica: 2, replicas },
    load: { concurrency: 2, requests: o.requests ?? 24, warmup: o.warmup ?? 2 },
    batching: { batchSize: 1, policy: 'crop' },
    generation: { maxNewTokens: o.outputTokens ?? 16 },
  });
  const repl = Array.from({ length: replicas }, (_, r) => ({ replica: r, devices: [`cuda:${2 * r}`, `cuda:${2 * r + 1}`] }));
  const records = fakeRecords(o);
  const died = o.diedReplica ?? null;
  const summary = summarizeRecords(records, repl.map((r) => ({ ...r, died: died && died.replica === r.replica ? died.reason : null })));
  const endMs = Math.max(...records.map((r) => r.finishedAtMs ?? 0));
  const randomWeights = o.randomWeights ?? true;
  const compact = startedAt.replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return {
    schemaVersion: RUN_SCHEMA_VERSION,
    id: o.id ?? `${compact}-${name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}-${((o.seed ?? 1) * 2654435761 >>> 16).toString(16).padStart(4, '0').slice(-4)}`,
    name,
    status: o.status ?? 'completed',
    notes: [...(o.notes ?? [])],
    startedAt,
    endedAt: new Date(Date.parse(startedAt) + endMs + 1500).toISOString(),
    group: o.group ?? null,
    preset,
    settings: {
      requests: o.requests ?? 24,
      durationS: null,
      concurrency: 2,
      rateRps: null,
      warmup: o.warmup ?? 2,
      maxNewTokens: o.outputTokens ?? 16,
      batchSize: 1,
      batching: 'crop',
      replicas,
      seed: o.seed ?? 1,
    },
    backend: {
      name: 'onnx',
      model: {
        name: randomWeights ? 'gemma3-tiny' : 'gemma-3-4b-it',
        label: randomWeights ? 'gemma3-tiny, random weights: speed only' : 'gemma-3-4b-it (onnx-community, q4)',
        path: randomWeights ? null : '/models/gemma-3-4b-it-ONNX',
        randomWeights,
        details: { dtype: 'fp32', ep: 'cpu', layers: 2 },
      },
      replicas: repl,
    },
    environment: {
      hostname: 'testbox',
      platform: 'linux',
      arch: 'x64',
      cpuModel: 'Test CPU @ 3.0GHz',
      cpuCores: 16,
      memoryGiB: 125.7,
      gpus: [{ index: 0, name: 'NVIDIA A100-SXM4-40GB', memTotalMiB: 40960, driverVersion: '550.54.15', uuid: 'GPU-0000' }],
      node: 'v20.20.2',
      packages: { 'onnxruntime-node': '1.30.0', sharp: '0.35.5' },
      gemmaBench: { version: '0.1.0', gitCommit: '010e7e3aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' },
    },
    workload: {
      source: 'synthetic:1:3',
      images: IMAGES,
      prompts: ['Extract all the text in this document and summarise what it is about.'],
      setHash: o.setHash ?? 'f'.repeat(64),
      skipped: 0,
    },
    requests: records,
    summary,
    telemetry: { source: null, fallbackReason: null, gpus: [], summary: { source: null, samples: 0, firstAtMs: null, lastAtMs: null, gpus: [], cpu: null }, samples: [] },
  };
}
