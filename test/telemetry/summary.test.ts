import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNvidiaSmiInfo, parseNvidiaSmiSamples } from '../../src/telemetry/parse-nvidia-smi.js';
import {
  downsample,
  groupGpusByReplica,
  replicaOf,
  replicaOfGpuFromGroups,
  summarizeTelemetry,
  TelemetrySummarizer,
} from '../../src/telemetry/summary.js';
import { GpuTickAssembler } from '../../src/telemetry/tick-assembler.js';
import type { CpuTelemetrySample, GpuSample, GpuTelemetrySample, TelemetrySample } from '../../src/telemetry/types.js';
import { readFixture } from './helpers.js';

/** Recorded ticks as the sampler would emit them (atMs 0, 500, 1000, ...). */
function recordedTicks(name: string, info?: string): GpuTelemetrySample[] {
  const a = new GpuTickAssembler(info ? parseNvidiaSmiInfo(readFixture(info)).gpus : []);
  const out: GpuTelemetrySample[] = [];
  for (const g of parseNvidiaSmiSamples(readFixture(name)).gpus) out.push(...a.addRow(g, out.length * 500).map((t) => t.sample));
  const last = a.flush();
  if (last) out.push(last.sample);
  return out.map((s, i) => ({ ...s, atMs: i * 500 }));
}

const gpu = (index: number, v: Partial<GpuSample> = {}): GpuSample => ({
  index,
  uuid: `GPU-${index}`,
  name: 'NVIDIA A100-SXM4-40GB',
  utilPct: null,
  memUsedMiB: null,
  memTotalMiB: 40960,
  powerW: null,
  tempC: null,
  smClockMHz: null,
  state: 'ok',
  ...v,
});

const FIVE_BY_TWO = replicaOfGpuFromGroups([
  [0, 1],
  [2, 3],
  [4, 5],
  [6, 7],
  [8, 9],
]);

test('per-GPU summary of the 10 x A100 recording, grouped by replica', () => {
  const ticks = recordedTicks('a100-10x.ticks.csv', 'a100-10x.info.csv');
  assert.equal(ticks.length, 6);
  const s = summarizeTelemetry(ticks, { replicaOfGpu: FIVE_BY_TWO });
  assert.equal(s.source, 'nvidia-smi');
  assert.equal(s.samples, 6);
  assert.equal(s.firstAtMs, 0);
  assert.equal(s.lastAtMs, 2500);
  assert.equal(s.cpu, null);
  assert.equal(s.gpus.length, 10);
  assert.deepEqual(s.gpus[0], {
    index: 0,
    uuid: 'GPU-a4afaa2e-bdb5-c393-3cdd-17b545ed66d2',
    name: 'NVIDIA A100-SXM4-40GB',
    replica: 0,
    samples: 6,
    missingSamples: 0,
    utilMeanPct: 77.83, // (0 + 87 + 93 + 100 + 96 + 91) / 6
    utilMaxPct: 100,
    memPeakMiB: 34117,
    memTotalMiB: 40960,
    powerMeanW: 307.88, // (61.32 + 312.47 + 356.8 + 398.15 + 377.02 + 341.5) / 6
    powerMaxW: 398.15,
    tempMaxC: 63,
  });
  const g9 = s.gpus[9]!;
  assert.equal(g9.replica, 4);
  assert.equal(g9.samples, 3);
  assert.equal(g9.missingSamples, 3, 'the ticks after it vanished');
  assert.equal(g9.utilMeanPct, 58.33); // (12 + 79 + 84) / 3
  assert.equal(g9.utilMaxPct, 84);
  assert.equal(g9.powerMaxW, 322.91);
  // The whole summary is plain JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
});

test('null-only metrics summarise to null; lost readings are not averaged in', () => {
  const s = summarizeTelemetry(recordedTicks('h100-8x.ticks.csv', 'h100-8x.info.csv'));
  const g3 = s.gpus[3]!;
  assert.equal(g3.powerMeanW, null, 'power was [N/A] / N/A throughout');
  assert.equal(g3.powerMaxW, null);
  assert.notEqual(g3.utilMeanPct, null);
  assert.equal(g3.replica, undefined, 'no mapping, no replica key');
  assert.ok(!('replica' in g3));
  const g5 = s.gpus[5]!;
  assert.equal(g5.samples, 2);
  assert.equal(g5.missingSamples, 2);
  const g6 = s.gpus[6]!;
  assert.equal(g6.samples, 4, 'an [Unknown Error] temperature does not drop the row');
  const none = summarizeTelemetry([{ atMs: 0, source: 'nvidia-smi', gpus: [gpu(0)] }]).gpus[0]!;
  assert.deepEqual(
    [none.utilMeanPct, none.utilMaxPct, none.memPeakMiB, none.powerMeanW, none.powerMaxW, none.tempMaxC],
    [null, null, null, null, null, null],
  );
  assert.equal(none.memTotalMiB, 40960);
  // Nothing at all.
  assert.deepEqual(new TelemetrySummarizer().summary(), { source: null, samples: 0, firstAtMs: null, lastAtMs: null, gpus: [], cpu: null });
});

test('CPU summary: per-core mean and max, peak RSS and memory', () => {
  const cpu = (atMs: number, u0: number | null, u1: number | null, all: number | null, rss: number, mem: number): CpuTelemetrySample => ({
    atMs,
    source: 'cpu',
    cpus: [
      { core: 0, utilPct: u0 },
      { core: 1, utilPct: u1 },
    ],
    utilPct: all,
    processRssMiB: rss,
    memUsedMiB: mem,
    memTotalMiB: 16384,
  });
  const s = summarizeTelemetry([cpu(0, 10, null, 10, 100, 4000), cpu(500, 30, 50, 40, 180, 4100), cpu(1000, 20, 70, 45, 150, 3900)]);
  assert.equal(s.source, 'cpu');
  assert.deepEqual(s.gpus, []);
  assert.deepEqual(s.cpu, {
    samples: 3,
    cores: 2,
    utilMeanPct: 31.67,
    utilMaxPct: 45,
    perCore: [
      { core: 0, utilMeanPct: 20, utilMaxPct: 30 },
      { core: 1, utilMeanPct: 60, utilMaxPct: 70 },
    ],
    rssPeakMiB: 180,
    memPeakMiB: 4100,
    memTotalMiB: 16384,
  });
});

test('replica grouping: replicas in order, unowned GPUs last, Map or object mapping', () => {
  const gpus = [gpu(3), gpu(0), gpu(9), gpu(2), gpu(1)];
  const mapping = { 0: 1, 1: 1, 2: 0, 3: 0 };
  const groups = groupGpusByReplica(gpus, mapping);
  assert.deepEqual(
    groups.map((g) => [g.replica, g.gpus.map((x) => x.index)]),
    [
      [0, [2, 3]],
      [1, [0, 1]],
      [null, [9]],
    ],
  );
  assert.deepEqual(groupGpusByReplica(gpus, new Map(Object.entries(mapping).map(([k, v]) => [Number(k), v]))), groups);
  assert.deepEqual(
    groupGpusByReplica(gpus, undefined).map((g) => g.replica),
    [null],
  );
  assert.equal(replicaOf(FIVE_BY_TWO, 7), 3);
  assert.equal(replicaOf(FIVE_BY_TWO, 10), undefined);
  assert.throws(() => replicaOfGpuFromGroups([[0, 1], [1, 2]]), /GPU 1 is in two replicas/);
});

test('downsample: bucket means, monotonic timestamps, nulls kept null, states merged', () => {
  const samples: GpuTelemetrySample[] = Array.from({ length: 10 }, (_, i) => ({
    atMs: 1000 + i * 500,
    source: 'nvidia-smi',
    gpus: [
      gpu(0, { utilPct: i * 10, memUsedMiB: 1000 + i, powerW: null }),
      i >= 7 ? gpu(1, { state: 'missing', memTotalMiB: null }) : gpu(1, { utilPct: 50, tempC: 40 + i }),
    ],
  }));
  const d = downsample(samples, 3) as GpuTelemetrySample[];
  assert.equal(d.length, 3);
  // Buckets of sizes 3, 3, 4 (floor(i * n / m) boundaries).
  assert.deepEqual(
    d.map((x) => x.atMs),
    [1500, 3000, 4750],
  );
  assert.deepEqual(
    d.map((x) => x.gpus[0]!.utilPct),
    [10, 40, 75],
  );
  assert.deepEqual(
    d.map((x) => x.gpus[0]!.memUsedMiB),
    [1001, 1004, 1007.5],
  );
  assert.ok(d.every((x) => x.gpus[0]!.powerW === null));
  assert.deepEqual(
    d.map((x) => x.gpus[1]!.state),
    ['ok', 'ok', 'ok'],
    'a GPU that reported at all in a bucket is ok',
  );
  assert.equal(d[2]!.gpus[1]!.tempC, 46, 'only the reporting rows count');
  const allMissing = downsample([samples[8]!, samples[9]!], 1) as GpuTelemetrySample[];
  assert.equal(allMissing[0]!.gpus[1]!.state, 'missing');
  assert.equal(allMissing[0]!.gpus[1]!.memTotalMiB, null);
  assert.equal(allMissing[0]!.gpus[1]!.uuid, 'GPU-1');
});

test('downsample: short input is returned as is (sorted), bad maxPoints refused', () => {
  const a: TelemetrySample = { atMs: 2, source: 'nvidia-smi', gpus: [gpu(0, { utilPct: 1 })] };
  const b: TelemetrySample = { atMs: 1, source: 'nvidia-smi', gpus: [gpu(0, { utilPct: 2 })] };
  assert.deepEqual(downsample([a, b], 5), [b, a]);
  assert.deepEqual(downsample([], 5), []);
  assert.throws(() => downsample([a], 0), RangeError);
  assert.throws(() => downsample([a], 1.5), RangeError);
});

test('downsample: a long run keeps strictly increasing timestamps and the value range', () => {
  const ticks = recordedTicks('a100-10x.ticks.csv', 'a100-10x.info.csv');
  // 1000 ticks of recorded data, out of order on input.
  const long: GpuTelemetrySample[] = Array.from({ length: 1000 }, (_, i) => ({ ...ticks[i % ticks.length]!, atMs: i * 500 })).reverse();
  const d = downsample(long, 97) as GpuTelemetrySample[];
  assert.equal(d.length, 97);
  for (let i = 1; i < d.length; i++) assert.ok(d[i]!.atMs > d[i - 1]!.atMs);
  for (const x of d) {
    assert.equal(x.gpus.length, 10);
    const u = x.gpus[0]!.utilPct!;
    assert.ok(u >= 0 && u <= 100);
  }
  assert.ok(d[0]!.atMs >= 0 && d.at(-1)!.atMs <= 999 * 500);
});

test('downsample: CPU samples average per core', () => {
  const c = (atMs: number, u: number | null, rss: number): CpuTelemetrySample => ({
    atMs,
    source: 'cpu',
    cpus: [{ core: 0, utilPct: u }],
    utilPct: u,
    processRssMiB: rss,
    memUsedMiB: 1000,
    memTotalMiB: 2000,
  });
  const d = downsample([c(0, 10, 100), c(1, null, 200), c(2, 30, 300), c(3, 50, 400)], 2) as CpuTelemetrySample[];
  assert.deepEqual(d, [
    { atMs: 0.5, source: 'cpu', cpus: [{ core: 0, utilPct: 10 }], utilPct: 10, processRssMiB: 150, memUsedMiB: 1000, memTotalMiB: 2000 },
    { atMs: 2.5, source: 'cpu', cpus: [{ core: 0, utilPct: 40 }], utilPct: 40, processRssMiB: 350, memUsedMiB: 1000, memTotalMiB: 2000 },
  ]);
});
