// End-to-end: the real `gemma-bench run` binary on the built-in tiny model (real onnxruntime in worker threads,
// real preprocessing, real tokenizer) over a small synthetic set, then the saved run file checked against the
// definitions of DESIGN.md §5; and the faults of §9 (bad images, bad presets, a dying replica, SIGTERM).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nearestRankPercentile } from '../../src/engine/stats.js';
import type { RunFile } from '../../src/engine/types.js';
import { FAULT_ENV } from '../../src/engine/backends/onnx/index.js';
import { onnxProviders } from '../../src/engine/backends/onnx/providers.js';
import { nobodyCannotRun } from '../helpers/nobody.js';
import { csvFields } from '../helpers/csv.js';
import { REPO_ROOT } from '../helpers/repo.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const home = mkdtempSync(join(tmpdir(), 'gb-e2e-'));
const env = { ...process.env, GEMMA_BENCH_HOME: home, GEMMA_BENCH_DEBUG: '' };
const SMALL = ['--synthetic', '4', '--max-new-tokens', '4', '--no-telemetry'];

function cli(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...env, ...extraEnv }, cwd: home, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Whether this machine's python3 has torch (the missing-package test needs it absent). */
function pythonHasTorch(): boolean {
  return spawnSync('python3', ['-c', 'import importlib.util as u; print(u.find_spec("torch") is not None)'], { encoding: 'utf8' }).stdout.trim() === 'True';
}

function events(stdout: string): Array<Record<string, any>> {
  return stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function loadRunFile(stdout: string): RunFile {
  const fin = events(stdout).find((e) => e.type === 'run-finished');
  assert.ok(fin, 'a run-finished event');
  assert.ok(fin.file, 'the run was saved');
  return JSON.parse(readFileSync(fin.file, 'utf8')) as RunFile;
}

before(() => {
  // Build the model and the synthetic set once, outside the timed tests.
  const r = cli(['make-model', '--out', join(home, 'models', 'warm'), '--json']);
  assert.equal(r.code, 0, r.stderr);
});
after(() => rmSync(home, { recursive: true, force: true }));

test('a 2-replica run on the tiny model saves a run whose records and statistics agree', () => {
  const r = cli(['run', ...SMALL, '--replicas', '2', '--requests', '8', '--warmup', '2', '--concurrency', '4', '--batch-size', '2', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const ev = events(r.stdout);
  const started = ev.find((e) => e.type === 'run-started')!;
  assert.ok(ev.findIndex((e) => e.type === 'run-started') < ev.findIndex((e) => e.type === 'request-done'));
  assert.match(started.backend.model.label, /random weights: speed only/);
  assert.ok(ev.some((e) => e.type === 'progress'), 'live progress snapshots');
  assert.equal(ev.filter((e) => e.type === 'request-done').length, 10);
  const run = loadRunFile(r.stdout);
  assert.equal(run.status, 'completed');
  assert.equal(run.requests.length, 10);
  assert.equal(run.requests.filter((x) => x.warmup).length, 2);
  assert.equal(run.summary.completed, 8);
  assert.equal(run.summary.warmup, 2);
  assert.equal(run.summary.failed, 0);
  assert.equal(run.backend.replicas.length, 2);
  assert.equal(run.summary.perReplica.length, 2);
  assert.ok(run.summary.perReplica.every((p) => p.completed > 0), 'both replicas served requests');
  assert.equal(run.workload.images.length, 4);
  assert.equal(run.workload.setHash.length, 64);
  for (const rec of run.requests) {
    const img = run.workload.images[rec.imageIndex];
    assert.equal(rec.status, 'ok');
    assert.equal(rec.crops, img.crops.length, 'crops equal the plan');
    assert.equal(rec.imageTokens, 256 * (1 + img.crops.length));
    assert.equal(rec.promptTokens, img.promptTokens[rec.promptIndex], 'prompt tokens equal the up-front count');
    assert.equal(rec.outputTokens, 4);
    assert.equal(rec.tokenTimesMs.length, 4);
    for (let i = 1; i < 4; i++) assert.ok(rec.tokenTimesMs[i] > rec.tokenTimesMs[i - 1], 'token times increase');
    assert.ok(Math.abs(rec.ttftMs! - rec.tokenTimesMs[0]) < 1e-6);
    assert.ok(Math.abs(rec.e2eMs! - (rec.queueMs! + rec.tokenTimesMs[3])) < 0.01, 'e2e = queue + time to last token');
    assert.ok(Math.abs(rec.tpotMs! - (rec.tokenTimesMs[3] - rec.tokenTimesMs[0]) / 3) < 1e-6);
  }
  // The synthetic set has images with and without crops under balanced (receipt 3, A4 0, infographic 3, photo 0).
  assert.deepEqual(run.workload.images.map((i) => i.crops.length), [3, 0, 3, 0]);
  // Warmup is excluded from the statistics; percentiles agree with the raw measured records (HDR: 3 digits).
  const measured = run.requests.filter((x) => !x.warmup);
  for (const [metric, values] of [
    ['e2eMs', measured.map((x) => x.e2eMs!)],
    ['ttftMs', measured.map((x) => x.ttftMs!)],
    ['itlMs', measured.flatMap((x) => x.tokenTimesMs.slice(1).map((t, i) => t - x.tokenTimesMs[i]))],
  ] as const) {
    const s = run.summary.metrics[metric];
    const sorted = [...values].sort((a, b) => a - b);
    assert.equal(s.count, values.length, metric);
    for (const [p, v] of [[50, s.p50], [95, s.p95], [99, s.p99]] as const) {
      const exact = nearestRankPercentile(sorted, p)!;
      assert.ok(Math.abs(v! - exact) <= exact * 0.002 + 0.002, `${metric} p${p}: ${v} vs exact ${exact}`);
    }
    assert.ok(Math.abs(s.min! - sorted[0]) < 1e-6 && Math.abs(s.max! - sorted.at(-1)!) < 1e-6);
  }
  const wall = (Math.max(...measured.map((x) => x.finishedAtMs!)) - Math.min(...measured.map((x) => x.enqueuedAtMs))) / 1000;
  assert.ok(Math.abs(run.summary.throughputReqS! - 8 / wall) < 1e-6 * (8 / wall) + 1e-9, 'throughput = completed / measured wall time');
  assert.equal(run.environment.gemmaBench.version, '0.1.0');
  assert.ok(run.environment.packages['onnxruntime-node']);
});

test('an image that cannot be read among good ones is skipped up front, with the reason; the run goes on', () => {
  const dir = join(home, 'mixed');
  mkdirSync(dir, { recursive: true });
  const synth = join(home, 'synthetic');
  const set = readdirSync(synth).find((d) => d.includes('-n4'))!;
  for (const f of readdirSync(join(synth, set)).slice(0, 2)) copyFileSync(join(synth, set, f), join(dir, f));
  writeFileSync(join(dir, 'broken.png'), 'definitely not a png');
  writeFileSync(join(dir, 'readme.txt'), 'skipped: not an image');
  const r = cli(['run', '--images', dir, '--requests', '6', '--warmup', '0', '--max-new-tokens', '2', '--no-telemetry', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const run = loadRunFile(r.stdout);
  assert.equal(run.workload.skipped, 1, 'the .txt file is skipped and counted');
  const broken = run.workload.images.findIndex((i) => i.path.endsWith('broken.png'));
  assert.match(run.workload.images[broken].error!, /not an image: it is plain text, starting "definitely not a png", despite its \.png name/);
  assert.ok(run.requests.every((x) => x.imageIndex !== broken), 'no request names the unusable image');
  assert.equal(run.summary.completed, 6);
  assert.equal(run.summary.failed, 0);
  assert.ok(run.notes.some((n) => /1 of 3 image\(s\) cannot be used and are skipped:\n  \S+broken\.png: not an image/.test(n)), run.notes.join('\n'));
  assert.equal(run.status, 'completed');
});

test('no images matched: exit 2 with a message saying what to check', () => {
  const r = cli(['run', '--images', join(home, 'nothing-here', '*.png'), ...SMALL]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no images matched/);
});

test('an invalid preset: exit 2, the file and the field named', () => {
  const f = join(home, 'bad-preset.json');
  writeFileSync(f, JSON.stringify({ name: 'bad', panScan: { enabled: true, maxNumCrops: 0 }, load: { concurrency: 2, rateRps: 3 } }));
  const r = cli(['run', '--preset', f, ...SMALL]);
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes(f), r.stderr);
  assert.match(r.stderr, /panScan\.maxNumCrops/);
  assert.match(r.stderr, /either concurrency .* or rateRps/);
});

test('a replica worker that dies mid-run: its in-flight requests fail with the reason, the others finish, the run says so', () => {
  // Its failed requests are counted against --max-error-rate (0.05 by default): allowed here, so the run goes on.
  const r = cli(['run', ...SMALL, '--replicas', '2', '--requests', '10', '--warmup', '0', '--concurrency', '2', '--max-error-rate', '0.5', '--json'], { [FAULT_ENV]: '1:1' });
  assert.equal(r.code, 0, r.stderr);
  const ev = events(r.stdout);
  assert.ok(ev.some((e) => e.type === 'replica-died' && e.replica === 1));
  const run = loadRunFile(r.stdout);
  const failed = run.requests.filter((x) => x.status === 'failed');
  assert.ok(failed.length >= 1);
  assert.ok(failed.every((x) => x.replica === 1 && /replica 1 died: worker thread exited with code 3/.test(x.error!)));
  assert.equal(run.summary.completed + run.summary.failed, 10);
  assert.ok(run.summary.completed >= 8);
  assert.ok(run.notes.some((n) => /replica 1 died/.test(n)));
  assert.match(run.summary.perReplica.find((p) => p.replica === 1)!.died ?? '', /exited with code 3/);
});

test('SIGTERM: the partial run is saved as interrupted and the exit code is non-zero', async () => {
  const child = spawn(process.execPath, [CLI, 'run', ...SMALL, '--requests', '500', '--warmup', '0', '--json'], { env, cwd: home });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  // Stop once some requests have finished.
  await new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if ((out.match(/"type":"request-done"/g) ?? []).length >= 2) {
        clearInterval(t);
        child.kill('SIGTERM');
        resolve();
      }
    }, 50);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 143);
  const run = loadRunFile(out);
  assert.equal(run.status, 'interrupted');
  assert.ok(run.summary.completed >= 2);
  assert.ok(run.requests.length < 500);
  assert.ok(run.notes.some((n) => /interrupted/.test(n)));
});

test('a read-only runs directory: refused before the run (exit 2), the reason and the fix, and no file written', { skip: nobodyCannotRun() ?? false }, () => {
  // Root ignores file modes, so the run goes as user nobody in a data directory it owns, except runs/.
  const ro = mkdtempSync(join(tmpdir(), 'gb-e2e-ro-'));
  cpSync(join(home, 'models'), join(ro, 'models'), { recursive: true });
  const runs = join(ro, 'runs');
  mkdirSync(runs);
  const root = process.getuid?.() === 0;
  if (root) {
    for (const p of [ro, join(ro, 'models'), ...readdirSync(join(ro, 'models'), { recursive: true }).map((f) => join(ro, 'models', String(f)))]) chownSync(p, 65534, 65534);
    chmodSync(ro, 0o755);
  }
  chmodSync(runs, 0o555);
  const r = spawnSync(process.execPath, [CLI, 'run', '--synthetic', '2', '--requests', '2', '--warmup', '0', '--max-new-tokens', '2', '--no-telemetry'], {
    encoding: 'utf8', cwd: ro, env: { ...env, GEMMA_BENCH_HOME: ro }, timeout: 180_000, ...(root ? { uid: 65534, gid: 65534 } : {}),
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /the data directory .* is not writable \(cannot write in .*runs: permission denied \(EACCES\)\)[\s\S]*set GEMMA_BENCH_HOME to a writable directory/);
  assert.deepEqual(readdirSync(runs), [], 'no run file and no temp file');
  rmSync(ro, { recursive: true, force: true });
});

test('missing Python packages are a configuration error: one message with what to install, nothing run or saved, exit 2 (run and sweep)', { skip: pythonHasTorch() ? 'torch is installed in python3 here' : false }, () => {
  const args = ['--backend', 'transformers', '--weights', 'random', '--model-size', '27b', '--synthetic', '2', '--requests', '2', '--no-telemetry', '--python', 'python3'];
  const saved = () => (existsSync(join(home, 'runs')) ? readdirSync(join(home, 'runs')).length : 0);
  const before = saved();
  const r = cli(['run', ...args]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^gemma-bench run: the Python environment of .* cannot run the worker|^gemma-bench run: the transformers backend needs the Python packages torch, transformers and accelerate; missing from .*: torch, transformers, accelerate\. Install them with: pip install torch transformers accelerate/m);
  assert.equal(r.stdout, '', 'no run started, so no summary');
  const j = cli(['run', ...args, '--json']);
  assert.equal(j.code, 2);
  assert.equal(j.stdout.trim(), '', 'no events: nothing ran');
  const s = cli(['sweep', ...args, '--grid', 'max-crops=2,4']);
  assert.equal(s.code, 2, s.stderr);
  assert.match(s.stderr, /pip install torch transformers accelerate/);
  const noPython = cli(['run', ...args.slice(0, -1), '/nonexistent/python3']);
  assert.equal(noPython.code, 2);
  assert.match(noPython.stderr, /the Python interpreter "\/nonexistent\/python3" was not found/);
  assert.equal(saved(), before, 'nothing saved');
  const bad = cli(['run', '--backend', 'transformers', '--model-size', '99b', '--no-telemetry']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--model-size must be one of 4b, 12b, 27b/);
});

test('--ep cuda without the CUDA execution provider: what is missing, how to install it, that transformers needs none; exit 2', { skip: onnxProviders().providers.includes('cuda') ? 'the CUDA execution provider is installed here' : false }, () => {
  const r = cli(['run', '--ep', 'cuda', ...SMALL, '--requests', '2']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^gemma-bench run: --ep cuda: the CUDA execution provider of onnxruntime-node is not installed \(onnxruntime-node 1\.\d+\.\d+ here has cpu[^)]*\)\. To install it, run in gemma-bench's directory on a machine with internet access: ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules\/onnxruntime-node\/script\/install\.js \(it needs the CUDA 12 and cuDNN 9 libraries\)\. Or use --backend transformers, which runs on the GPUs through PyTorch and needs no execution provider\.$/m);
  assert.doesNotMatch(r.stderr, /shard/, 'not the sharding message, though the preset asks for 2 GPUs per replica');
  assert.equal(r.stdout, '');
});

test('sweep: one run per grid point, saved as a group, one table, a CSV with the promised columns; compare opens the group', () => {
  const csv = join(home, 'sweep.csv');
  const r = cli(['sweep', '--grid', 'min-ratio=1.2,2.0', '--grid', 'max-crops=2,4', '--grid', 'min-crop-size=256', '--synthetic', '2', '--requests', '2', '--warmup', '0', '--max-new-tokens', '2', '--no-telemetry', '--csv', csv]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /sweep (sweep-\S+): 4 of 4 point\(s\) saved/);
  const group = /sweep (sweep-\S+):/.exec(r.stdout)![1];
  assert.match(r.stdout, /min-ratio +max-crops +min-crop-size +completed/);
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(lines.length, 5, 'a header and one row per point');
  const header = lines[0].split(',');
  for (const col of ['min_ratio', 'max_crops', 'min_crop_size', 'latency_p50_ms', 'latency_p95_ms', 'throughput_req_s', 'tokens_per_s_mean']) assert.ok(header.includes(col), col);
  const rows = lines.slice(1).map((l) => Object.fromEntries(csvFields(l).map((v, i) => [header[i], v])));
  assert.deepEqual(rows.map((x) => `${x.min_ratio}/${x.max_crops}/${x.min_crop_size}`).sort(), ['1.2/2/256', '1.2/4/256', '2/2/256', '2/4/256']);
  // The synthetic pair is a receipt (ratio 3.33, crops under every point) and an A4 page (1.41: crops only at 1.2).
  const runs = JSON.parse(cli(['runs', 'list', '--json']).stdout) as { runs: Array<{ ok: boolean; group?: { id: string } | null }> };
  assert.equal(runs.runs.filter((x) => x.ok && x.group?.id === group).length, 4);
  const cmp = cli(['compare', group]);
  assert.equal(cmp.code, 0, cmp.stderr);
  assert.match(cmp.stdout, /E2E p50/);
  const bad = cli(['sweep', '--grid', 'colour=red']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown key "colour"; grid keys are min-ratio, max-crops/);
});

test('infer --json prints the documented fields for one real request; make-model writes the layout', () => {
  const receipt = join(REPO_ROOT, 'examples', 'receipt.png');
  const r = cli(['infer', receipt, '--max-new-tokens', '3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(out).sort(), ['model', 'numCrops', 'outputTokens', 'preprocessMs', 'promptTokens', 'tokenIds', 'tokenTimesMs', 'ttftMs', 'visionMs'].sort());
  assert.equal(out.model, 'gemma3-tiny, random weights: speed only');
  assert.equal(out.numCrops, 3, 'HF defaults: the 600x2000 receipt gets 3 crops');
  assert.equal(out.outputTokens, 3);
  assert.equal((out.tokenIds as number[]).length, 3);
  const times = out.tokenTimesMs as number[];
  assert.equal(out.ttftMs, times[0]);
  assert.ok(times[0] < times[1] && times[1] < times[2]);
  const dir = join(home, 'made');
  const m = cli(['make-model', '--out', dir, '--seed', '3', '--json']);
  assert.equal(m.code, 0, m.stderr);
  assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'decoder_model_merged.onnx', 'embed_tokens.onnx', 'vision_encoder.onnx']);
  const withModel = cli(['infer', receipt, '--model', dir, '--max-new-tokens', '2', '--json']);
  assert.equal(withModel.code, 0, withModel.stderr);
  const missing = cli(['infer', receipt, '--model', join(home, 'nope')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /model directory not found/);
});
