// Harness overhead: the engine (scheduler, dispatch, metrics, events, run-file save) around a backend that does
// no work, so what is measured is gemma-bench's own cost per request. The no-op backend lives here, in bench/,
// and is used for nothing else. Prints JSON. Target (issue 4): under 0.2 ms per request at 1000+ requests/s.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveRunSpec } from '../src/config/resolve-run-spec.js';
import { persistRuns } from '../src/store/run-sink.js';
import type { Backend, InferRequest, InferResult, Replica } from '../src/engine/backend.js';
import { nowMs } from '../src/util/clock.js';
import { runBenchmark } from '../src/engine/run-benchmark.js';
import type { Workload } from '../src/engine/types.js';
import { loadPreset } from '../src/config/load-preset.js';

const TOKENS_PER_REQUEST = 256;

function noopReplica(id: number): Replica {
  return {
    id,
    devices: [`noop:${id}`],
    gpuIndices: [],
    loadMs: 0,
    capacity: 1,
    died: new Promise<string>(() => {}),
    async infer(batch: readonly InferRequest[]): Promise<InferResult[]> {
      const t = nowMs();
      return batch.map((r) => ({
        id: r.id, ok: true, error: null, crops: 0, imageTokens: 256, promptTokens: 300, outputTokens: TOKENS_PER_REQUEST,
        preprocessMs: 0.01, visionMs: 0.01, startedAt: t,
        tokenTimes: Array.from({ length: TOKENS_PER_REQUEST }, (_, i) => t + i * 1e-3),
        tokenIds: Array.from({ length: TOKENS_PER_REQUEST }, () => 1),
      }));
    },
    async close() {},
  };
}

const noopBackend: Backend = {
  name: 'noop',
  telemetry: 'cpu',
  resolveReplicas: async (_g, r) => (r === 'auto' ? 1 : r),
  model: () => ({ name: 'noop', label: 'no-op backend (harness overhead only)', path: null, randomWeights: true, details: {} }),
  start: async (o) => Array.from({ length: o.replicas }, (_, i) => noopReplica(i)),
};

async function measure(requests: number, replicas: number, concurrency: number, batchSize: number) {
  const dir = mkdtempSync(join(tmpdir(), 'gb-harness-'));
  const spec = resolveRunSpec(loadPreset('balanced'), { requests, concurrency, warmup: 0, maxNewTokens: TOKENS_PER_REQUEST, batchSize, batching: 'crop', replicas, telemetry: false });
  const workload: Workload = {
    source: 'bench', prompts: ['q'], setHash: 'x', skipped: 0,
    images: [{ path: '/dev/null', sha256: 'x', bytes: 0, width: 896, height: 896, crops: [], imageTokens: 256, promptTokens: [300], error: null }],
  };
  let events = 0;
  let measureStartAt = 0;
  let savingAt = 0;
  const t0 = nowMs();
  for await (const e of persistRuns(runBenchmark(spec, { backend: noopBackend, workload }), dir)) {
    events++;
    // `at` is stamped by the engine when it emits, so consumer lag does not blur the window.
    if (e.type === 'phase' && e.phase === 'measuring') measureStartAt = e.at;
    if (e.type === 'phase' && e.phase === 'saving') savingAt = e.at;
  }
  const total = nowMs() - t0;
  rmSync(dir, { recursive: true, force: true });
  const schedule = savingAt - measureStartAt;
  return {
    requests, replicas, concurrency, batchSize, tokensPerRequest: TOKENS_PER_REQUEST, events,
    perRequestMs: Math.round((schedule / requests) * 10000) / 10000,
    requestsPerS: Math.round(requests / (schedule / 1000)),
    perRequestMsIncludingSave: Math.round((total / requests) * 10000) / 10000,
  };
}

const results = [];
await measure(500, 2, 16, 1); // JIT warmup
for (const [n, r, c, b] of [[5000, 1, 1, 1], [5000, 4, 64, 1], [5000, 4, 64, 8]] as const) results.push(await measure(n, r, c, b));
process.stdout.write(`${JSON.stringify({ bench: 'harness-overhead', what: 'engine + metrics + events per request around a no-op backend (256 output tokens per request); excluding and including the run-file save', targetMsPerRequest: 0.2, results }, null, 2)}\n`);
