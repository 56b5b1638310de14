// Real inference benchmarks on the built-in tiny model (CPU, onnxruntime in worker threads), through the real
// engine: (1) TTFT p50/p95 and decode ms/token for images with 0 and 3 crops, with 1 and 2 replicas;
// (2) crop-grouped versus FIFO micro-batching on a mixed document set: p95 e2e and req/s. Prints JSON.
// Random weights: these numbers measure speed only.
import sharp from 'sharp';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPreset } from '../src/config/load-preset.js';
import { OnnxBackend } from '../src/engine/backends/onnx/index.js';
import { runBenchmark } from '../src/engine/run-benchmark.js';
import { ensureSyntheticSet } from '../src/engine/synthetic.js';
import type { RunSummary } from '../src/engine/types.js';
import { resolveRunSpec } from '../src/config/resolve-run-spec.js';
import { buildWorkload } from '../src/engine/workload.js';
import { DEFAULT_PROMPT } from '../src/panscan/prompt.js';
import type { PreprocessSettings } from '../src/panscan/preprocess.js';

const home = mkdtempSync(join(tmpdir(), 'gb-bench-tiny-'));
process.env.GEMMA_BENCH_HOME = home;
const PRE: PreprocessSettings = { panScan: { minRatioToActivate: 2.0, maxNumCrops: 6, minCropSize: 448 }, exifOrientation: 'ignore', pixelLimit: 1e9 };
const r2 = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);

async function png(file: string, w: number, h: number): Promise<string> {
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 2654435761) >>> 24;
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png({ compressionLevel: 1 }).toFile(file);
  return file;
}

async function bench(files: string[], o: { replicas: number; requests: number; warmup: number; concurrency: number; batchSize: number; batching: 'crop' | 'fifo'; maxNewTokens: number }): Promise<RunSummary> {
  const backend = await OnnxBackend.create({ model: 'tiny', threads: availableParallelism(), log: () => {} });
  const workload = await buildWorkload('bench', files, [DEFAULT_PROMPT], PRE);
  // The balanced preset's pan-and-scan knobs, as PRE.
  const spec = resolveRunSpec(loadPreset('balanced'), { name: 'bench', requests: o.requests, concurrency: o.concurrency, warmup: o.warmup, maxNewTokens: o.maxNewTokens, batchSize: o.batchSize, batching: o.batching, replicas: o.replicas, pixelLimit: PRE.pixelLimit, telemetry: false });
  let summary: RunSummary | null = null;
  for await (const e of runBenchmark(spec, { backend, workload })) {
    if (e.type === 'run-finished') summary = e.summary;
  }
  return summary!;
}

const dir = join(home, 'img');
await sharp({ create: { width: 1, height: 1, channels: 3, background: 'white' } }).png().toFile(join(home, 'x.png')).catch(() => {});
(await import('node:fs')).mkdirSync(dir, { recursive: true });
const noCrops = await png(join(dir, 'photo_1024x1024.png'), 1024, 1024);
const threeCrops = await png(join(dir, 'tall_896x3000.png'), 896, 3000);

const throughput = [];
for (const [crops, file] of [[0, noCrops], [3, threeCrops]] as const) {
  for (const replicas of [1, 2]) {
    const s = await bench([file], { replicas, requests: 8, warmup: 2, concurrency: replicas, batchSize: 1, batching: 'crop', maxNewTokens: 32 });
    throughput.push({
      crops, replicas, requests: s.completed,
      ttftP50Ms: r2(s.metrics.ttftMs.p50), ttftP95Ms: r2(s.metrics.ttftMs.p95),
      decodeMsPerToken: r2(s.metrics.tpotMs.p50), visionP50Ms: r2(s.metrics.visionMs.p50),
      e2eP50Ms: r2(s.metrics.e2eMs.p50), reqPerS: r2(s.throughputReqS), outputTokPerS: r2(s.outputTokensPerS),
    });
  }
}

const mixed = await ensureSyntheticSet(0, 8);
const batching = [];
for (const policy of ['crop', 'fifo'] as const) {
  const s = await bench(mixed, { replicas: 1, requests: 24, warmup: 4, concurrency: 8, batchSize: 4, batching: policy, maxNewTokens: 16 });
  batching.push({ policy, completed: s.completed, e2eP50Ms: r2(s.metrics.e2eMs.p50), e2eP95Ms: r2(s.metrics.e2eMs.p95), ttftP95Ms: r2(s.metrics.ttftMs.p95), reqPerS: r2(s.throughputReqS) });
}

process.stdout.write(`${JSON.stringify({
  bench: 'tiny-model',
  model: 'gemma3-tiny, random weights: speed only (CPU, onnxruntime-node, all cores split across replicas)',
  throughput: { what: 'closed loop, concurrency = replicas, batch 1, 8 requests + 2 warmup, 32 new tokens', results: throughput },
  batching: { what: 'synthetic set of 8 (crops 0/2/3/4), 1 replica, concurrency 8, batch 4, 24 requests + 4 warmup, 16 new tokens', results: batching },
}, null, 2)}\n`);
rmSync(home, { recursive: true, force: true });
