import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNvidiaSmiInfo, parseNvidiaSmiSampleLine, parseNvidiaSmiSamples } from '../../src/telemetry/parse-nvidia-smi.js';
import { GpuTickAssembler, type AssembledTick } from '../../src/telemetry/tick-assembler.js';
import type { GpuSample, TelemetryProblem } from '../../src/telemetry/types.js';
import { readFixture } from './helpers.js';

/** Feeds rows (atMs = position) and collects closed ticks, then flushes as the sampler's quiet gap would. */
function assemble(rows: GpuSample[], a: GpuTickAssembler): { ticks: AssembledTick[]; problems: TelemetryProblem[] } {
  const ticks: AssembledTick[] = [];
  rows.forEach((g, i) => ticks.push(...a.addRow(g, 1000 + i)));
  const last = a.flush();
  if (last) ticks.push(last);
  return { ticks, problems: ticks.flatMap((t) => t.problems) };
}

const a100Rows = () => parseNvidiaSmiSamples(readFixture('a100-10x.ticks.csv')).gpus;
const a100Info = () => parseNvidiaSmiInfo(readFixture('a100-10x.info.csv')).gpus;

test('A100 box with the probe: complete ticks close on their last row, GPU 9 is marked missing once', () => {
  const a = new GpuTickAssembler(a100Info());
  const rows = a100Rows();
  // Ticks 1-3 close as soon as GPU 9's row arrives (no waiting for a gap).
  const early: AssembledTick[] = [];
  rows.slice(0, 30).forEach((g, i) => early.push(...a.addRow(g, 1000 + i)));
  assert.equal(early.length, 3);
  assert.equal(a.hasPending, false);
  const rest = assemble(rows.slice(30), a);
  const ticks = [...early, ...rest.ticks];
  assert.equal(ticks.length, 6);
  for (const t of ticks) {
    assert.equal(t.sample.source, 'nvidia-smi');
    assert.deepEqual(
      t.sample.gpus.map((g) => g.index),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  }
  assert.deepEqual(
    ticks.map((t) => t.sample.gpus[9]!.state),
    ['ok', 'ok', 'ok', 'missing', 'missing', 'missing'],
  );
  // A missing GPU keeps its identity (for the UI) but has no readings.
  const missing = ticks[3]!.sample.gpus[9]!;
  assert.equal(missing.uuid, 'GPU-c60fcc33-ae67-fa7a-88bb-4402d7501fc9');
  assert.equal(missing.utilPct, null);
  // Each tick is stamped with its first row's receipt time.
  assert.deepEqual(
    ticks.map((t) => t.sample.atMs),
    [1000, 1010, 1020, 1000, 1009, 1018],
  );
  const problems = ticks.flatMap((t) => t.problems);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.kind, 'gpu-missing');
  assert.equal(problems[0]!.gpuIndex, 9);
  assert.match(problems[0]!.message, /GPU 9 \(NVIDIA A100-SXM4-40GB\) stopped reporting/);
});

test('without a probe, ticks are split where the index repeats', () => {
  const { ticks, problems } = assemble(a100Rows(), new GpuTickAssembler());
  assert.equal(ticks.length, 6);
  assert.deepEqual(
    ticks.map((t) => t.sample.gpus.filter((g) => g.state === 'ok').length),
    [10, 10, 10, 9, 9, 9],
  );
  assert.equal(problems.filter((p) => p.kind === 'gpu-missing').length, 1);
});

test('H100 box: a [GPU is lost] row is kept as lost, reported once, identity from the probe', () => {
  const info = parseNvidiaSmiInfo(readFixture('h100-8x.info.csv')).gpus;
  const { ticks, problems } = assemble(parseNvidiaSmiSamples(readFixture('h100-8x.ticks.csv')).gpus, new GpuTickAssembler(info));
  assert.equal(ticks.length, 4);
  assert.ok(ticks.every((t) => t.sample.gpus.length === 8));
  assert.deepEqual(
    ticks.map((t) => t.sample.gpus[5]!.state),
    ['ok', 'ok', 'lost', 'lost'],
  );
  assert.equal(ticks[2]!.sample.gpus[5]!.uuid, info[5]!.uuid);
  assert.equal(ticks[2]!.sample.gpus[5]!.name, 'NVIDIA H100 80GB HBM3');
  assert.deepEqual(
    problems.map((p) => [p.kind, p.gpuIndex, p.level]),
    [['gpu-lost', 5, 'error']],
  );
});

test('a device-handle error maps to a GPU by PCI bus id and marks it lost', () => {
  const info = [
    { index: 0, uuid: 'GPU-a', name: 'NVIDIA L4', pciBusId: '00000000:01:00.0' },
    { index: 1, uuid: 'GPU-b', name: 'NVIDIA L4', pciBusId: '00000000:3B:00.0' },
  ];
  const a = new GpuTickAssembler(info);
  const row = (i: number) => {
    const r = parseNvidiaSmiSampleLine(`${i}, GPU-${'ab'[i]}, NVIDIA L4, 50, 100, 23034, 40, 50, 2040`);
    assert.equal(r.kind, 'gpu');
    return (r as { gpu: GpuSample }).gpu;
  };
  assert.equal(a.addRow(row(0), 1).length, 0);
  assert.equal(a.addRow(row(1), 2).length, 1);
  const p1 = a.deviceError('0000:3B:00.0', 'GPU is lost. Reboot the system to recover this GPU', true, 3);
  assert.equal(p1.length, 1);
  assert.equal(p1[0]!.kind, 'gpu-lost');
  assert.equal(p1[0]!.gpuIndex, 1);
  // nvidia-smi repeats the message every tick: reported once.
  assert.deepEqual(a.deviceError('0000:3B:00.0', 'GPU is lost. Reboot the system to recover this GPU', true, 4), []);
  a.addRow(row(0), 5);
  const t = a.flush()!;
  assert.equal(t.sample.gpus[1]!.state, 'lost');
  assert.deepEqual(t.problems, [], 'lost already said; not also "missing"');
  // An unmapped bus id or a non-lost reason is still reported, once.
  const other = a.deviceError('0000:99:00.0', 'Unknown Error', false, 6);
  assert.equal(other.length, 1);
  assert.equal(other[0]!.kind, 'parse');
  assert.match(other[0]!.message, /0000:99:00\.0 cannot be read: Unknown Error/);
  assert.deepEqual(a.deviceError('0000:99:00.0', 'Unknown Error', false, 7), []);
});

test('a GPU that comes back is reported as back and stops being missing', () => {
  const rows = parseNvidiaSmiSamples(readFixture('a100-10x.ticks.csv')).gpus;
  const a = new GpuTickAssembler(a100Info());
  // Ticks 1-4 (GPU 9 missing in 4), then tick 1 again (GPU 9 present).
  const replay = [...rows.slice(0, 39), ...rows.slice(0, 10)];
  const { ticks, problems } = assemble(replay, a);
  assert.deepEqual(
    ticks.map((t) => t.sample.gpus[9]!.state),
    ['ok', 'ok', 'ok', 'missing', 'ok'],
  );
  assert.deepEqual(
    problems.map((p) => p.kind),
    ['gpu-missing', 'gpu-back'],
  );
});

test('a GPU not named by the probe still appears', () => {
  const a = new GpuTickAssembler([{ index: 0, uuid: 'GPU-a', name: 'NVIDIA L4' }]);
  const r = parseNvidiaSmiSampleLine('1, GPU-b, NVIDIA L4, 5, 100, 23034, 40, 50, 2040');
  assert.equal(r.kind, 'gpu');
  const t = [...a.addRow((r as { gpu: GpuSample }).gpu, 1)];
  assert.equal(t.length, 0, 'GPU 0 not yet seen: tick incomplete');
  const done = a.flush()!;
  assert.deepEqual(
    done.sample.gpus.map((g) => [g.index, g.state]),
    [
      [0, 'missing'],
      [1, 'ok'],
    ],
  );
  assert.deepEqual(a.knownIndices(), [0, 1]);
});
