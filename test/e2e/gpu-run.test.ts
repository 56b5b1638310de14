// A SYNTHESIZED GPU run end to end (no GPU here): the real `gemma-bench run --backend transformers` binary with the
// fake worker (test/fixtures/transformers/fake-worker.mjs replaying the synthesized 27B transcript) standing in for
// Python, and the fake nvidia-smi (test/fixtures/telemetry) naming 8 H100 SXM GPUs on PATH. The saved run carries
// what a real GPU run would: nvidia-smi telemetry of the replica's GPUs, peak GPU memory per request and per replica
// and GPU, and the roofline against the H100 SXM table entry; `runs show` and the Markdown export say them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { test } from 'node:test';
import type { RunFile } from '../../src/engine/types.js';
import { fakeNvidiaSmi, fakePython, smiInfo } from '../engine/backends/transformers/helpers.js';
import { CLI } from '../helpers/cli-run.js';

const home = mkdtempSync(join(tmpdir(), 'gb-gpu-run-'));
const smi = fakeNvidiaSmi();
const env: NodeJS.ProcessEnv = {
  ...process.env,
  GEMMA_BENCH_HOME: home,
  GEMMA_BENCH_DEBUG: '',
  PATH: `${dirname(smi)}${delimiter}${process.env.PATH}`,
  FAKE_SMI_INFO: smiInfo('h100-8x.info.csv'),
  FAKE_SMI_TICKS: smiInfo('h100-8x.ticks.csv'),
  FAKE_TF_TIME_SCALE: '1',
};
delete env.CUDA_VISIBLE_DEVICES;
delete env.GEMMA_BENCH_PYTHON;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, cwd: home, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a synthesized 27B run on 2 H100s: telemetry, peak memory and the roofline in the saved run, runs show and Markdown', () => {
  const args = ['run', '--backend', 'transformers', '--model', 'google/gemma-3-27b-it', '--python', fakePython(), '--synthetic', '3', '--requests', '4', '--warmup', '0', '--batch-size', '1', '--max-new-tokens', '8', '--json'];
  // The transcript's second batch is a CUDA out-of-memory: 1 of 4 requests fails by design, over the default
  // --max-error-rate of 0.05.
  const r = cli([...args, '--max-error-rate', '0.5']);
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.trim().split('\n').slice(-3).join('\n')}`);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  const fin = events.find((e) => e.type === 'run-finished')!;
  assert.ok(fin.file, 'saved');
  const run = JSON.parse(readFileSync(fin.file, 'utf8')) as RunFile;

  // nvidia-smi telemetry of GPUs 0 and 1 (the replica's), from the fake's H100 rows.
  assert.equal(run.telemetry.source, 'nvidia-smi');
  assert.ok(events.some((e) => e.type === 'telemetry' && e.sample.source === 'nvidia-smi'));
  assert.deepEqual(run.environment.gpus.slice(0, 2).map((g) => g.name), ['NVIDIA H100 80GB HBM3', 'NVIDIA H100 80GB HBM3']);

  // Peak GPU memory: on every completed request, and per replica and GPU in the summary.
  const ok = run.requests.filter((x) => x.status === 'ok');
  assert.ok(ok.length >= 2);
  for (const x of ok) assert.deepEqual(x.peakMemory?.map((p) => p.gpu), ['0', '1']);
  assert.deepEqual(run.summary.perReplica[0].peakMemory, [
    { gpu: '0', allocatedMiB: 29871.4, reservedMiB: 32768 },
    { gpu: '1', allocatedMiB: 26014.2, reservedMiB: 27648 },
  ]);

  // The roofline: the H100 SXM entry, 2 GPUs per replica, the 27B's cost, floors and % of floor for the medians.
  const rl = run.summary.roofline!;
  assert.equal(rl.unknown, null);
  assert.equal(rl.gpu, 'NVIDIA H100 80GB HBM3');
  assert.deepEqual([rl.peak!.entry, rl.peak!.bf16Tflops, rl.peak!.memTBs], ['H100 SXM', 989, 3.35]);
  assert.equal(rl.gpusPerReplica, 2);
  assert.equal(rl.model, 'google/gemma-3-27b-it');
  assert.equal(rl.bytesPerParam, 2);
  assert.ok(rl.prefillTflop! > 20 && rl.prefillTflop! < 120, `prefill ${rl.prefillTflop} TFLOP`);
  assert.ok(rl.ttftFloorMs! > 5 && rl.tpotFloorMs! > 5, `floors ${rl.ttftFloorMs} / ${rl.tpotFloorMs} ms`);
  assert.equal(rl.ttftP50Ms, run.summary.metrics.ttftMs.p50);
  assert.equal(rl.tpotP50Ms, run.summary.metrics.tpotMs.p50);
  assert.ok(Math.abs(rl.ttftPctOfFloor! - (rl.ttftFloorMs! / rl.ttftP50Ms!) * 100) < 1e-9);
  assert.ok(Math.abs(rl.tpotPctOfFloor! - (rl.tpotFloorMs! / rl.tpotP50Ms!) * 100) < 1e-9);
  assert.ok(rl.ttftPctOfFloor! > 0 && rl.ttftPctOfFloor! < 100 && rl.tpotPctOfFloor! > 0 && rl.tpotPctOfFloor! < 100);
  assert.match(rl.notes.join('\n'), /device_map="auto"/);
  assert.deepEqual(fin.summary.roofline, rl, 'the run-finished event carries it too (the dashboard reads it there)');

  const show = cli(['runs', 'show', run.id]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^Roofline: +TTFT [\d.]+% of the floor \([\d.]+ m?s of [\d.]+ m?s\), TPOT [\d.]+% of the floor \([\d.]+ m?s of [\d.]+ m?s\) on H100 SXM x2 \(989 TFLOP\/s BF16, 3\.35 TB\/s each\)$/m);
  assert.match(show.stdout, /peak table entry H100 SXM: NVIDIA H100 Tensor Core GPU datasheet/);
  assert.match(show.stdout, /^ {2}replica 0: GPU 0 29\.2 GiB \(reserved 32\.0\), GPU 1 25\.4 GiB \(reserved 27\.0\)$/m);
  const md = cli(['runs', 'export', run.id, '--format', 'md']);
  assert.match(md.stdout, /^- Roofline \(% of the hardware's floor\): TTFT [\d.]+% of the floor/m);
  assert.match(md.stdout, /^## Peak GPU memory$/m);
});
