import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { cpuSampleFrom, cpuUtilisation, startCpuSampler, type CpuTimes } from '../../src/telemetry/cpu-sampler.js';
import type { CpuTelemetrySample, TelemetryProblem } from '../../src/telemetry/types.js';
import { eventually, sleep } from './helpers.js';

const t = (user: number, nice: number, sys: number, idle: number, irq: number): CpuTimes => ({ user, nice, sys, idle, irq });

test('per-core utilisation is busy (user+nice+sys+irq) over total time between snapshots', () => {
  const prev = [t(1000, 0, 500, 9000, 0), t(2000, 10, 300, 5000, 5), t(100, 0, 100, 100, 0), t(0, 0, 0, 0, 0)];
  const next = [
    t(1100, 0, 550, 9050, 0), // busy 150 of 200 -> 75 %
    t(2000, 10, 300, 5100, 5), // idle only -> 0 %
    t(100, 0, 100, 100, 0), // no time passed -> null, not NaN
    t(10, 5, 5, 0, 20), // nice and irq count as busy -> 100 %
  ];
  const r = cpuUtilisation(prev, next);
  assert.deepEqual(r.cores, [
    { core: 0, utilPct: 75 },
    { core: 1, utilPct: 0 },
    { core: 2, utilPct: null },
    { core: 3, utilPct: 100 },
  ]);
  // All cores together: (150 + 0 + 40) busy over (200 + 100 + 40) total.
  assert.equal(r.utilPct, Math.round(((100 * 190) / 340) * 10) / 10);
});

test('counters that go backwards or cores that appear/disappear never give NaN', () => {
  const r = cpuUtilisation([t(500, 0, 0, 500, 0), t(1, 1, 1, 1, 1)], [t(400, 0, 0, 600, 0)]);
  assert.deepEqual(r.cores, [{ core: 0, utilPct: null }]);
  assert.equal(r.utilPct, null);
  assert.deepEqual(cpuUtilisation([], []), { cores: [], utilPct: null });
  // One-third busy rounds to one decimal.
  assert.equal(cpuUtilisation([t(0, 0, 0, 0, 0)], [t(1, 0, 0, 2, 0)]).cores[0]!.utilPct, 33.3);
});

test('a sample carries RSS and system memory in MiB', () => {
  const MiB = 1024 * 1024;
  const s = cpuSampleFrom([t(0, 0, 0, 0, 0)], [t(50, 0, 0, 50, 0)], {
    atMs: 1234.5,
    rssBytes: 150.25 * MiB,
    totalMemBytes: 16384 * MiB,
    freeMemBytes: 4096 * MiB,
  });
  assert.deepEqual(s, {
    atMs: 1234.5,
    source: 'cpu',
    cpus: [{ core: 0, utilPct: 50 }],
    utilPct: 50,
    processRssMiB: 150.3,
    memUsedMiB: 12288,
    memTotalMiB: 16384,
  });
});

test('the sampler emits deltas between successive snapshots and stops', async () => {
  let calls = 0;
  // Core 0 gains 30 busy + 70 idle per read; core 1 is fully busy.
  const readers = {
    cpuTimes: () => {
      const k = calls++;
      return [t(30 * k, 0, 0, 70 * k, 0), t(0, 0, 100 * k, 0, 0)];
    },
    rssBytes: () => 100 * 1024 * 1024,
    totalMemBytes: () => 1024 * 1024 * 1024,
    freeMemBytes: () => 512 * 1024 * 1024,
    nowMs: () => 1e12 + calls,
  };
  const samples: CpuTelemetrySample[] = [];
  const sampler = startCpuSampler({ intervalMs: 50, onSample: (s) => samples.push(s), readers });
  await eventually(() => samples.length >= 2, 'two CPU samples');
  await sampler.stop();
  for (const s of samples) {
    assert.deepEqual(s.cpus, [
      { core: 0, utilPct: 30 },
      { core: 1, utilPct: 100 },
    ]);
    assert.equal(s.utilPct, 65);
    assert.equal(s.processRssMiB, 100);
    assert.equal(s.memUsedMiB, 512);
    assert.equal(s.memTotalMiB, 1024);
  }
  const n = samples.length;
  await sleep(150);
  assert.equal(samples.length, n, 'nothing after stop()');
});

test('a failing reader is reported once and sampling goes on', async () => {
  let k = 0;
  const problems: TelemetryProblem[] = [];
  const samples: CpuTelemetrySample[] = [];
  const sampler = startCpuSampler({
    intervalMs: 50,
    onSample: (s) => samples.push(s),
    onProblem: (p) => problems.push(p),
    readers: {
      cpuTimes: () => {
        k += 1;
        if (k === 2 || k === 3) throw new Error('EIO reading /proc/stat');
        return [t(k, 0, 0, k, 0)];
      },
    },
  });
  await eventually(() => samples.length >= 1, 'a sample after the failures');
  await sampler.stop();
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.source, 'cpu');
  assert.match(problems[0]!.message, /EIO/);
});

test('the real OS readers give one entry per core and sane memory', async () => {
  const samples: CpuTelemetrySample[] = [];
  const sampler = startCpuSampler({ intervalMs: 50, onSample: (s) => samples.push(s) });
  await eventually(() => samples.length >= 1, 'a CPU sample');
  await sampler.stop();
  const s = samples[0]!;
  assert.equal(s.cpus.length, cpus().length);
  assert.ok(s.memTotalMiB > 0 && s.memUsedMiB >= 0 && s.memUsedMiB <= s.memTotalMiB);
  assert.ok(s.processRssMiB > 0);
  for (const c of s.cpus) assert.ok(c.utilPct === null || (c.utilPct >= 0 && c.utilPct <= 100));
  assert.throws(() => startCpuSampler({ intervalMs: 1, onSample: () => {} }), RangeError);
});
