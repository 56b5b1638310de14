import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startTelemetry } from '../../src/telemetry/telemetry.js';
import type { TelemetryProblem, TelemetrySample } from '../../src/telemetry/types.js';
import { eventually, fakeNvidiaSmi, fixture, tempFile } from './helpers.js';

const FAKE = fakeNvidiaSmi();
const A100_ENV = { FAKE_SMI_TICKS: fixture('a100-10x.ticks.csv'), FAKE_SMI_INFO: fixture('a100-10x.info.csv') };

function collector() {
  const samples: TelemetrySample[] = [];
  const problems: TelemetryProblem[] = [];
  return { samples, problems, onSample: (s: TelemetrySample) => samples.push(s), onProblem: (p: TelemetryProblem) => problems.push(p) };
}

test('nvidia-smi absent: CPU sampler, with the reason said', async () => {
  const c = collector();
  const t = await startTelemetry({ intervalMs: 50, nvidiaSmiPath: '/nonexistent/dir/nvidia-smi', ...c });
  assert.equal(t.source, 'cpu');
  assert.equal(t.gpus, undefined);
  assert.equal(t.fallbackReason, 'nvidia-smi not found (/nonexistent/dir/nvidia-smi)');
  assert.deepEqual(
    c.problems.map((p) => [p.kind, p.level, p.message]),
    [['fallback', 'info', `${t.fallbackReason}: showing CPU utilisation`]],
  );
  await eventually(() => c.samples.length >= 1, 'a CPU sample');
  await t.stop();
  assert.equal(c.samples[0]!.source, 'cpu');
});

test('a working nvidia-smi: GPU sampler, GPUs recorded from the probe', async () => {
  const c = collector();
  const t = await startTelemetry({ intervalMs: 50, nvidiaSmiPath: FAKE, ...c, env: A100_ENV });
  assert.equal(t.source, 'nvidia-smi');
  assert.equal(t.fallbackReason, undefined);
  assert.equal(t.gpus!.length, 10);
  assert.equal(t.gpus![0]!.driverVersion, '550.90.07');
  await eventually(() => c.samples.length >= 2, 'two GPU samples');
  await t.stop();
  const s = c.samples[0]!;
  assert.equal(s.source, 'nvidia-smi');
  if (s.source === 'nvidia-smi') assert.equal(s.gpus.length, 10);
  assert.ok(c.problems.every((p) => p.kind !== 'fallback'));
});

test('preferCpu skips the probe entirely', async () => {
  const c = collector();
  const record = tempFile('record.json');
  const t = await startTelemetry({ intervalMs: 50, nvidiaSmiPath: FAKE, preferCpu: true, ...c, env: { ...A100_ENV, FAKE_SMI_RECORD: record } });
  assert.equal(t.source, 'cpu');
  assert.match(t.fallbackReason!, /CPU telemetry requested/);
  await t.stop();
  assert.equal(existsSync(record), false, 'nvidia-smi never ran');
});

test('nvidia-smi present but the driver is not: CPU, with the driver message as a warning', async () => {
  const c = collector();
  const t = await startTelemetry({ intervalMs: 50, nvidiaSmiPath: FAKE, ...c, env: { ...A100_ENV, FAKE_SMI_PROBE: 'fail' } });
  assert.equal(t.source, 'cpu');
  assert.match(t.fallbackReason!, /couldn't communicate with the NVIDIA driver/);
  assert.equal(c.problems[0]!.level, 'warn');
  await t.stop();
});

test('a hung probe times out to CPU', async () => {
  const c = collector();
  const t = await startTelemetry({ intervalMs: 50, nvidiaSmiPath: FAKE, probeTimeoutMs: 300, ...c, env: { ...A100_ENV, FAKE_SMI_PROBE: 'hang' } });
  assert.equal(t.source, 'cpu');
  assert.match(t.fallbackReason!, /did not answer/);
  await t.stop();
});

test('nvidia-smi that dies mid-run: a problem, no crash, stop() still resolves', async () => {
  const c = collector();
  const t = await startTelemetry({
    intervalMs: 50,
    nvidiaSmiPath: FAKE,
    ...c,
    env: { ...A100_ENV, FAKE_SMI_EXIT_AFTER_TICKS: '1', FAKE_SMI_EXIT_MESSAGE: 'Xid 79: GPU has fallen off the bus' },
  });
  assert.equal(t.source, 'nvidia-smi');
  await eventually(() => c.problems.some((p) => p.kind === 'exited'), 'the exit problem');
  const p = c.problems.find((x) => x.kind === 'exited')!;
  assert.match(p.message, /fallen off the bus/);
  assert.equal(c.samples.length, 1);
  await t.stop();
});

test('a bad interval is refused before probing', async () => {
  await assert.rejects(startTelemetry({ intervalMs: 0, onSample: () => {}, onProblem: () => {} }), RangeError);
});
