// The sampler and the probe against a fake nvidia-smi (test/fixtures/telemetry/fake-nvidia-smi.mjs) that
// replays recorded output with the requested interval. No timing assertions: only "eventually" waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { parseNvidiaSmiInfo, parseNvidiaSmiSamples } from '../../src/telemetry/parse-nvidia-smi.js';
import { probeNvidiaSmi } from '../../src/telemetry/gpu-probe.js';
import {
  NvidiaSmiSpawnError,
  startNvidiaSmiSampler,
  tickQuietGapMs,
} from '../../src/telemetry/nvidia-smi-sampler.js';
import type { GpuTelemetrySample, TelemetryProblem } from '../../src/telemetry/types.js';
import { eventually, fakeNvidiaSmi, fixture, isAlive, readFixture, sleep, tempFile } from './helpers.js';

const FAKE = fakeNvidiaSmi();
const A100_ENV = { FAKE_SMI_TICKS: fixture('a100-10x.ticks.csv'), FAKE_SMI_INFO: fixture('a100-10x.info.csv') };
const H100_ENV = { FAKE_SMI_TICKS: fixture('h100-8x.ticks.csv'), FAKE_SMI_INFO: fixture('h100-8x.info.csv') };

function collector() {
  const samples: GpuTelemetrySample[] = [];
  const problems: TelemetryProblem[] = [];
  return { samples, problems, onSample: (s: GpuTelemetrySample) => samples.push(s), onProblem: (p: TelemetryProblem) => problems.push(p) };
}

test('quiet gap stays well inside one interval', () => {
  assert.equal(tickQuietGapMs(500), 125);
  assert.equal(tickQuietGapMs(50), 20);
  assert.equal(tickQuietGapMs(10_000), 250);
});

test('probe: the environment query of a working box', async () => {
  const r = await probeNvidiaSmi({ nvidiaSmiPath: FAKE, env: A100_ENV });
  assert.equal(r.ok, true);
  if (r.ok) {
    assert.deepEqual(r.gpus, parseNvidiaSmiInfo(readFixture('a100-10x.info.csv')).gpus);
    assert.deepEqual(r.problems, []);
  }
});

test('probe: absent, broken, GPU-less and hung nvidia-smi each give a reason', async () => {
  const absent = await probeNvidiaSmi({ nvidiaSmiPath: '/nonexistent/dir/nvidia-smi' });
  assert.deepEqual(absent, { ok: false, reason: 'not-found', message: 'nvidia-smi not found (/nonexistent/dir/nvidia-smi)' });
  const notExec = await probeNvidiaSmi({ nvidiaSmiPath: fixture('a100-10x.info.csv') });
  assert.equal(notExec.ok, false);
  if (!notExec.ok) assert.equal(notExec.reason, 'not-executable');
  const broken = await probeNvidiaSmi({ nvidiaSmiPath: FAKE, env: { ...A100_ENV, FAKE_SMI_PROBE: 'fail' } });
  assert.equal(broken.ok, false);
  if (!broken.ok) {
    assert.equal(broken.reason, 'failed');
    assert.match(broken.message, /exit 9/);
    assert.match(broken.message, /couldn't communicate with the NVIDIA driver/);
  }
  const none = await probeNvidiaSmi({ nvidiaSmiPath: FAKE, env: { ...A100_ENV, FAKE_SMI_PROBE: 'no-devices' } });
  assert.equal(none.ok, false);
  if (!none.ok) assert.equal(none.reason, 'no-gpus');
  const hung = await probeNvidiaSmi({ nvidiaSmiPath: FAKE, timeoutMs: 300, env: { ...A100_ENV, FAKE_SMI_PROBE: 'hang' } });
  assert.equal(hung.ok, false);
  if (!hung.ok) {
    assert.equal(hung.reason, 'timeout');
    assert.match(hung.message, /did not answer within 300 ms/);
  }
});

test('sampler: one child, ticks grouped per loop, GPU 9 marked missing, stop() ends the child', async () => {
  const c = collector();
  const record = tempFile('record.json');
  const gpus = parseNvidiaSmiInfo(readFixture('a100-10x.info.csv')).gpus;
  const sampler = await startNvidiaSmiSampler({ intervalMs: 50, nvidiaSmiPath: FAKE, gpus, ...c, env: { ...A100_ENV, FAKE_SMI_RECORD: record } });
  await eventually(() => c.samples.length >= 7, '7 samples');
  const pid = sampler.pid!;
  assert.ok(pid > 0);
  await sampler.stop();
  assert.equal(isAlive(pid), false, 'child gone after stop()');

  // The child got the documented arguments and PCI ordering.
  const rec = JSON.parse(readFileSync(record, 'utf8')) as { argv: string[]; CUDA_DEVICE_ORDER: string; pid: number };
  assert.deepEqual(rec.argv.slice(-2), ['-lms', '50']);
  assert.equal(rec.CUDA_DEVICE_ORDER, 'PCI_BUS_ID');
  assert.equal(rec.pid, pid);

  // Recorded ticks come back in order, one sample per tick, every GPU present in every sample.
  const rows = parseNvidiaSmiSamples(readFixture('a100-10x.ticks.csv')).gpus;
  assert.deepEqual(c.samples[0]!.gpus, rows.slice(0, 10));
  assert.deepEqual(c.samples[2]!.gpus, rows.slice(20, 30));
  for (const s of c.samples) {
    assert.equal(s.source, 'nvidia-smi');
    assert.equal(s.gpus.length, 10);
  }
  assert.deepEqual(
    c.samples.slice(0, 7).map((s) => s.gpus[9]!.state),
    ['ok', 'ok', 'ok', 'missing', 'missing', 'missing', 'missing'],
  );
  assert.deepEqual(c.samples[3]!.gpus.slice(0, 9), rows.slice(30, 39));
  for (let i = 1; i < c.samples.length; i++) assert.ok(c.samples[i]!.atMs > c.samples[i - 1]!.atMs, 'timestamps increase');
  assert.ok(Math.abs(c.samples[0]!.atMs - Date.now()) < 60_000, 'atMs is wall-clock ms');
  assert.deepEqual(
    c.problems.map((p) => [p.kind, p.gpuIndex]),
    [['gpu-missing', 9]],
  );

  // No samples after stop(); stop() again is harmless.
  const n = c.samples.length;
  await sleep(150);
  assert.equal(c.samples.length, n);
  await sampler.stop();
  await sampler.done;
});

test('sampler: CRLF rows written one by one, garbage, [N/A], a lost GPU and stderr chatter', async () => {
  const c = collector();
  const sampler = await startNvidiaSmiSampler({
    intervalMs: 100,
    // Rows arrive ~2 ms apart; a wide gap keeps a slow machine from splitting a tick.
    quietGapMs: 90,
    nvidiaSmiPath: FAKE,
    ...c,
    env: { ...H100_ENV, FAKE_SMI_SPLIT_WRITES: '1', FAKE_SMI_ROW_GAP_MS: '2', FAKE_SMI_STDERR: 'WARNING: infoROM is corrupted at gpu 0000:2A:00.0' },
  });
  await eventually(() => c.samples.length >= 5, '5 samples');
  await sampler.stop();
  for (const s of c.samples) {
    assert.deepEqual(
      s.gpus.map((g) => g.index),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(s.gpus[3]!.powerW, null);
    assert.equal(s.gpus[2]!.smClockMHz, null);
    assert.ok(s.gpus.every((g) => g.uuid === null || !g.uuid.includes('\r')));
  }
  assert.deepEqual(
    c.samples.slice(0, 5).map((s) => s.gpus[5]!.state),
    ['ok', 'ok', 'lost', 'lost', 'lost'],
  );
  const kinds = c.problems.map((p) => p.kind);
  assert.equal(kinds.filter((k) => k === 'gpu-lost').length, 1, 'lost reported once');
  assert.ok(kinds.includes('parse'), 'the NVML garbage line is reported');
  const parse = c.problems.find((p) => p.kind === 'parse')!;
  assert.match(parse.line!, /Failed to initialize NVML/);
  const stderr = c.problems.find((p) => p.kind === 'stderr');
  assert.match(stderr?.message ?? '', /infoROM is corrupted/);
  assert.ok(!kinds.includes('exited'));
});

test('sampler: nvidia-smi exiting early is a problem, not a crash', async () => {
  const c = collector();
  const sampler = await startNvidiaSmiSampler({
    intervalMs: 50,
    nvidiaSmiPath: FAKE,
    ...c,
    env: {
      ...A100_ENV,
      FAKE_SMI_EXIT_AFTER_TICKS: '2',
      FAKE_SMI_EXIT_CODE: '3',
      FAKE_SMI_EXIT_MESSAGE: 'NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver.',
    },
  });
  await sampler.done;
  assert.equal(c.samples.length, 2, 'both ticks printed before the exit are delivered');
  const exited = c.problems.filter((p) => p.kind === 'exited');
  assert.equal(exited.length, 1);
  assert.equal(exited[0]!.level, 'error');
  assert.match(exited[0]!.message, /exit 3/);
  assert.match(exited[0]!.message, /couldn't communicate with the NVIDIA driver/);
  await sampler.stop();
});

test('sampler: nvidia-smi dying at start is reported once as an exit', async () => {
  const c = collector();
  // No FAKE_SMI_TICKS: the fake dies reading it, as a real nvidia-smi without a driver would die at start.
  const sampler = await startNvidiaSmiSampler({ intervalMs: 50, nvidiaSmiPath: FAKE, ...c, env: { FAKE_SMI_TICKS: '/nonexistent' } });
  await sampler.done;
  assert.equal(c.samples.length, 0);
  assert.equal(c.problems.filter((p) => p.kind === 'exited').length, 1);
});

test('sampler: stop() escalates to SIGKILL when SIGTERM is ignored', async () => {
  const c = collector();
  const sampler = await startNvidiaSmiSampler({ intervalMs: 50, nvidiaSmiPath: FAKE, ...c, env: { ...A100_ENV, FAKE_SMI_IGNORE_SIGTERM: '1' } });
  await eventually(() => c.samples.length >= 1, 'a sample');
  const pid = sampler.pid!;
  await sampler.stop();
  assert.equal(isAlive(pid), false);
  assert.ok(c.problems.every((p) => p.kind !== 'exited'), 'a requested stop is not an unexpected exit');
});

test('sampler: an absent binary rejects with NvidiaSmiSpawnError (ENOENT) so the caller can fall back', async () => {
  const c = collector();
  await assert.rejects(
    startNvidiaSmiSampler({ intervalMs: 50, nvidiaSmiPath: '/nonexistent/dir/nvidia-smi', ...c }),
    (e: unknown) => e instanceof NvidiaSmiSpawnError && e.code === 'ENOENT' && /not found/.test(e.message),
  );
  assert.deepEqual(c.problems, []);
});

test('sampler: intervals below the minimum are refused', () => {
  assert.throws(() => startNvidiaSmiSampler({ intervalMs: 5, nvidiaSmiPath: FAKE, onSample: () => {} }), RangeError);
  assert.throws(() => startNvidiaSmiSampler({ intervalMs: Number.NaN, nvidiaSmiPath: FAKE, onSample: () => {} }), RangeError);
});

test('fake fixture script exists next to its recordings', () => {
  assert.ok(existsSync(fixture('fake-nvidia-smi.mjs')));
});
