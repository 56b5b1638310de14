// The dashboard reducer alone, on recorded event streams: a real CPU run (test/fixtures/ui/run-cpu.ndjson,
// `gemma-bench run --json --requests 6 --max-new-tokens 8 --warmup 1`), a real run with broken images
// (run-errors.ndjson) and a synthetic 4-GPU / 2-replica nvidia-smi stream (gpu-4x2.ndjson).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineEvent } from '../../src/engine/events.js';
import {
  ERRORS_KEPT_MAX,
  initialDashboardState,
  isUrgent,
  LATENCY_SERIES_MAX,
  reduce,
  reduceAll,
  replicaOfGpu,
  type DashboardInput,
  type DashboardState,
} from '../../src/ui/state.js';
import { loadStream } from './helpers.js';

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}

test('a real CPU run folds into the final numbers the engine reported', () => {
  const events = loadStream('run-cpu');
  const s = reduceAll(events);
  const started = events.find((e): e is Extract<EngineEvent, { type: 'run-started' }> => e.type === 'run-started')!;
  const finished = events.find((e): e is Extract<EngineEvent, { type: 'run-finished' }> => e.type === 'run-finished')!;
  assert.equal(s.status, 'finished');
  assert.equal(s.runId, started.runId);
  assert.equal(s.preset?.name, 'balanced');
  assert.equal(s.backend?.model.randomWeights, true);
  assert.equal(s.plannedRequests, 7);
  assert.equal(s.requestsDone, 7);
  assert.equal(s.warmupDone, 1);
  assert.equal(s.requestsFailed, 0);
  assert.equal(s.errorCount, 0);
  assert.deepEqual(s.finished?.summary, finished.summary);
  assert.equal(s.finished?.file, finished.file);
  // One sparkline point per completed measured request, in completion order.
  const e2e = events.flatMap((e) => (e.type === 'request-done' && !e.record.warmup && e.record.status === 'ok' ? [e.record.e2eMs!] : []));
  assert.deepEqual(s.latencySeries, e2e);
  assert.equal(s.latencySeries.length, 6);
  // CPU telemetry, with the engine's reason for showing CPUs.
  assert.equal(s.telemetry?.kind, 'cpu');
  assert.equal(s.telemetryNote, 'CPU telemetry requested');
  assert.equal(s.replicas.length, 1);
  assert.deepEqual(s.replicas[0].gpuIndices, []);
  assert.equal(s.atMs, finished.at);
});

test('percentiles update live: each progress event replaces the snapshot', () => {
  const events = loadStream('run-cpu');
  const progress = events.filter((e): e is Extract<EngineEvent, { type: 'progress' }> => e.type === 'progress');
  const firstWithData = progress.findIndex((p) => p.snapshot.metrics.e2eMs.count > 0);
  assert.ok(firstWithData >= 0);
  const cut = events.indexOf(progress[firstWithData]);
  const mid = reduceAll(events.slice(0, cut + 1));
  assert.equal(mid.status, 'running');
  assert.equal(mid.progress?.snapshot.metrics.e2eMs.p50, progress[firstWithData].snapshot.metrics.e2eMs.p50);
  const later = reduceAll(events.slice(cut + 1, events.indexOf(progress.at(-1)!) + 1), mid);
  assert.equal(later.progress?.snapshot.metrics.e2eMs.count, progress.at(-1)!.snapshot.metrics.e2eMs.count);
  assert.ok(later.progress!.snapshot.metrics.e2eMs.count > mid.progress!.snapshot.metrics.e2eMs.count);
});

test('the reducer is pure: frozen inputs, same result twice, no shared mutation', () => {
  const events = deepFreeze(loadStream('run-cpu'));
  let s: DashboardState = deepFreeze({ ...initialDashboardState });
  const seen: DashboardState[] = [];
  for (const e of events) {
    const next = reduce(s, e);
    seen.push(next);
    s = deepFreeze(next);
  }
  assert.deepEqual(reduceAll(events), s);
  // Earlier states were not changed by later events.
  assert.equal(seen[0].requestsDone, 0);
});

test('a real run with broken images: failed requests are counted and the last errors kept', () => {
  const events = loadStream('run-errors');
  const s = reduceAll(events);
  const failed = events.filter((e) => e.type === 'request-done' && e.record.status === 'failed').length;
  assert.ok(failed >= 3);
  assert.equal(s.requestsFailed, failed);
  assert.equal(s.errorCount, failed);
  assert.equal(s.errors.length, Math.min(failed, ERRORS_KEPT_MAX));
  assert.ok(s.errors.every((e) => e.source === 'request' && /failed: /.test(e.message)));
  assert.ok(s.errors.some((e) => /empty file|not an image|truncated/.test(e.message)));
  // The workload warnings are kept as logs, not errors.
  assert.ok(s.logs.some((l) => l.level === 'warn' && /its requests will fail/.test(l.message)));
});

test('synthetic GPU stream: 4 GPUs mapped to 2 replicas from their devices, a lost GPU, a failure', () => {
  const s = reduceAll(loadStream('gpu-4x2'));
  assert.equal(s.backend?.name, 'transformers');
  assert.deepEqual(
    s.replicas.map((r) => [r.replica, r.gpuIndices]),
    [
      [0, [0, 1]],
      [1, [2, 3]],
    ],
  );
  assert.deepEqual(replicaOfGpu(s.replicas), { 0: 0, 1: 0, 2: 1, 3: 1 });
  assert.equal(s.telemetry?.kind, 'gpu');
  const gpus = s.telemetry?.kind === 'gpu' ? s.telemetry.gpus : [];
  assert.equal(gpus.length, 5);
  assert.equal(gpus.find((g) => g.index === 2)?.state, 'lost');
  assert.equal(s.requestsFailed, 1);
  assert.match(s.errors[0].message, /CUDA out of memory/);
  assert.equal(s.finished?.status, 'completed');
});

test('local inputs: preparing, stop requested, stream failed, stream ended', () => {
  let s = reduce(initialDashboardState, { type: 'ui:preparing', message: 'reading image headers' });
  assert.equal(s.status, 'preparing');
  assert.equal(s.preparing, 'reading image headers');
  // Info logs before run-started are preparation progress.
  s = reduce(s, { type: 'log', at: 5, level: 'info', message: 'building the tiny model' });
  assert.equal(s.preparing, 'building the tiny model');
  s = reduce(s, { type: 'ui:stop-requested' });
  assert.equal(s.status, 'stopping');
  assert.equal(s.stopRequested, true);
  assert.equal(reduce(s, { type: 'ui:stop-requested' }), s, 'a second stop changes nothing');
  const ended = reduce(s, { type: 'ui:stream-ended' });
  assert.equal(ended.status, 'failed');
  assert.match(ended.fatal ?? '', /stopped before the run started/);

  const broken = reduce(reduce(initialDashboardState, { type: 'ui:preparing', message: 'x' }), { type: 'ui:stream-failed', message: 'no images matched "*.png"' });
  assert.equal(broken.status, 'failed');
  assert.equal(broken.fatal, 'no images matched "*.png"');
  assert.equal(broken.errorCount, 1);
  assert.equal(reduce(broken, { type: 'ui:stream-ended' }), broken);
});

test('a stop during the run shows as stopping until run-finished says interrupted', () => {
  const events = loadStream('run-cpu');
  const cut = events.findIndex((e) => e.type === 'request-done');
  let s = reduceAll(events.slice(0, cut + 1));
  s = reduce(s, { type: 'ui:stop-requested' });
  assert.equal(s.status, 'stopping');
  s = reduce(s, events.find((e) => e.type === 'progress')!);
  assert.equal(s.status, 'stopping', 'later events keep the stopping status');
  const fin = events.find((e): e is Extract<EngineEvent, { type: 'run-finished' }> => e.type === 'run-finished')!;
  s = reduce(s, { ...fin, status: 'interrupted' });
  assert.equal(s.status, 'finished');
  assert.equal(s.finished?.status, 'interrupted');
});

test('the latency series and the error list are bounded', () => {
  const base = loadStream('run-cpu').find((e): e is Extract<EngineEvent, { type: 'request-done' }> => e.type === 'request-done' && !e.record.warmup)!;
  const inputs: DashboardInput[] = [];
  for (let i = 0; i < LATENCY_SERIES_MAX + 30; i++) inputs.push({ ...base, at: i, record: { ...base.record, id: i, e2eMs: i } });
  for (let i = 0; i < 20; i++) inputs.push({ ...base, at: 1000 + i, record: { ...base.record, id: 1000 + i, status: 'failed', error: `boom ${i}` } });
  const s = reduceAll(inputs);
  assert.equal(s.latencySeries.length, LATENCY_SERIES_MAX);
  assert.equal(s.latencySeries.at(-1), LATENCY_SERIES_MAX + 29);
  assert.equal(s.errors.length, ERRORS_KEPT_MAX);
  assert.equal(s.errorCount, 20);
  assert.match(s.errors.at(-1)!.message, /boom 19/);
});

test('telemetry: GPU samples become the GPU view, CPU samples the CPU view; the fallback reason is a field', () => {
  const gpu = reduce(initialDashboardState, { type: 'telemetry', at: 10, sample: { atMs: 5, source: 'nvidia-smi', gpus: [] } });
  assert.deepEqual(gpu.telemetry, { kind: 'gpu', atMs: 5, gpus: [] });
  assert.equal(gpu.telemetrySamples, 1);
  const note = reduce(initialDashboardState, { type: 'telemetry-started', at: 3, source: 'cpu', gpus: [], fallbackReason: 'nvidia-smi not found (nvidia-smi)' });
  assert.equal(note.telemetryNote, 'nvidia-smi not found (nvidia-smi)');
  assert.equal(reduce(note, { type: 'telemetry-started', at: 4, source: 'nvidia-smi', gpus: [], fallbackReason: null }).telemetryNote, null);
});

test('GPU ownership comes from replica-ready, never from parsing device names', () => {
  const s = reduce(initialDashboardState, { type: 'replica-ready', at: 1, replica: 0, devices: ['http://gpu:3'], gpuIndices: [4, 5], loadMs: 9 });
  assert.deepEqual(s.replicas[0].gpuIndices, [4, 5]);
  const cpu = reduce(initialDashboardState, { type: 'replica-ready', at: 1, replica: 0, devices: ['cuda:3'], gpuIndices: [], loadMs: 9 });
  assert.deepEqual(cpu.replicas[0].gpuIndices, []);
});

test('urgent inputs: run-finished and the UI own end-of-run inputs, not progress', () => {
  const events = loadStream('run-cpu');
  assert.equal(isUrgent(events.find((e) => e.type === 'run-finished')!), true);
  assert.equal(isUrgent(events.find((e) => e.type === 'progress')!), false);
  assert.equal(isUrgent({ type: 'ui:stop-requested' }), true);
});
