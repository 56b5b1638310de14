// End to end over real HTTP: two `gemma-bench serve` processes (the tiny model behind vLLM's API, on 127.0.0.1,
// free ports) as two endpoints of the openai backend, through the real `gemma-bench run` and `sweep` binaries:
// one replica per endpoint, measurements, the servers' /metrics in the run file, the pan-and-scan parity check,
// an API key that never reaches the run file, and the configuration errors an endpoint can give.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import type { EngineEvent } from '../../src/engine/events.js';
import type { RunFile } from '../../src/engine/types.js';
import { REPO_ROOT } from '../helpers/repo.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const home = mkdtempSync(join(tmpdir(), 'gb-e2e-openai-'));
const SECRET = 'sk-test-never-saved-0123456789';
const tmp = join(home, 'tmp');
mkdirSync(tmp);
const env = { ...process.env, GEMMA_BENCH_HOME: home, GEMMA_BENCH_DEBUG: '', OPENAI_API_KEY: SECRET, TMPDIR: tmp };
const SMALL = ['--synthetic', '4', '--max-new-tokens', '4', '--warmup', '0', '--no-telemetry'];

const servers: ChildProcess[] = [];
const urls: string[] = [];

/** Starts `gemma-bench serve --port 0 --json` and resolves with the URL it prints when ready. */
function serve(): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--json', '--threads', '1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve((JSON.parse(l) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

/** As cli(), without blocking this process (which serves the DCGM page the child scrapes). */
function cliAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, cwd: home });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, cwd: home, timeout: 240_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const events = (stdout: string): EngineEvent[] => stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as EngineEvent);
const runFile = (file: string): RunFile => JSON.parse(readFileSync(file, 'utf8')) as RunFile;

before(async () => {
  urls.push(...(await Promise.all([serve(), serve()])));
});

after(async () => {
  for (const s of servers) s.kill('SIGTERM');
  await Promise.all(servers.map((s) => new Promise((r) => (s.exitCode !== null ? r(null) : s.once('exit', r)))));
  rmSync(home, { recursive: true, force: true });
});

test('run: two servers as two endpoints, one replica each, measured as vllm bench serve does and saved', () => {
  const r = cli(['run', '--backend', 'openai', '--endpoint', urls[0], '--endpoint', `${urls[1]}/v1`, '--requests', '8', '--concurrency', '4', '--json', ...SMALL]);
  assert.equal(r.code, 0, r.stderr);
  const ev = events(r.stdout);
  const ready = ev.filter((e) => e.type === 'replica-ready');
  assert.deepEqual(ready.map((e) => (e.type === 'replica-ready' ? e.devices[0] : '')), urls);
  assert.ok(ready.every((e) => e.type === 'replica-ready' && e.gpuIndices.length === 0));
  const finished = ev.find((e): e is Extract<EngineEvent, { type: 'run-finished' }> => e.type === 'run-finished')!;
  assert.equal(finished.status, 'completed');
  assert.equal('run' in finished, false, 'NDJSON leaves the embedded run file out');
  const run = runFile(finished.file!);
  assert.equal(run.backend.name, 'openai');
  assert.equal(run.settings.replicas, 2);
  assert.equal(run.summary.completed, 8);
  assert.deepEqual(run.summary.perReplica.map((p) => p.completed).reduce((a, b) => a + b, 0), 8);
  assert.ok(run.summary.perReplica.every((p) => p.completed > 0), 'least-loaded dispatch uses both endpoints');
  for (const rec of run.requests) {
    assert.equal(rec.status, 'ok');
    assert.equal(rec.outputTokens, 4, 'usage.completion_tokens with ignore_eos');
    assert.equal(rec.promptTokens, rec.promptTokensExpected, 'the server applied the pan-and-scan settings');
    assert.ok(rec.ttftMs! > 0 && rec.ttftMs! <= rec.e2eMs!);
    assert.equal(rec.tokenTimesMs.length, 4);
  }
  assert.deepEqual(run.summary.promptTokenParity, { checked: 8, mismatched: 0 });
  // The API key travels in the Authorization header only.
  assert.doesNotMatch(readFileSync(finished.file!, 'utf8'), new RegExp(SECRET));
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(SECRET));
  assert.equal(run.backend.model.details.apiKey, 'from $OPENAI_API_KEY');
  // The unique image variants prepared for the run are gone with it.
  assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('gemma-bench-images-')), []);
});

test('run: the servers\' /metrics are scraped and summarised per endpoint', () => {
  const r = cli(['run', '--backend', 'openai', '--endpoint', urls[0], '--endpoint', urls[1], '--duration', '2.5', '--concurrency', '2', '--synthetic', '4', '--max-new-tokens', '4', '--warmup', '0']);
  assert.equal(r.code, 0, r.stderr);
  const file = /saved to (\S+\.json)/.exec(r.stdout)![1];
  const run = runFile(file);
  const servers = run.telemetry.servers;
  assert.ok(servers, 'server telemetry kept');
  assert.deepEqual(servers.summary.map((s) => s.endpoint).sort(), [...urls].sort());
  for (const s of servers.summary) {
    assert.equal(s.kind, 'vllm');
    assert.ok(s.samples >= 2, `${s.endpoint}: ${s.samples} scrapes`);
    assert.ok((s.generationTokensPerS ?? 0) > 0, 'the server counted the tokens it generated');
  }
});

test('run: GPUs behind an endpoint come from its DCGM exporter, grouped by endpoint in the run file', async () => {
  // A local stand-in for a DCGM exporter serving a page recorded from a real 8 x H100 machine.
  const page = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'openai', 'metrics', 'dcgm-h100x8-sampled.prom'), 'utf8');
  const exporter = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(page));
  await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
  const dcgm = `http://127.0.0.1:${(exporter.address() as AddressInfo).port}/metrics`;
  try {
    const r = await cliAsync(['run', '--backend', 'openai', '--endpoint', urls[0], '--dcgm-url', dcgm, '--duration', '2', '--concurrency', '1', '--synthetic', '4', '--max-new-tokens', '4', '--warmup', '0']);
    assert.equal(r.code, 0, r.stderr);
    const run = runFile(/saved to (\S+\.json)/.exec(r.stdout)![1]);
    const remote = run.telemetry.remoteGpus!;
    assert.ok(remote.samples.length >= 1);
    assert.equal(new Set(remote.summary.map((g) => g.endpoint)).size, 1);
    assert.equal(remote.summary[0].endpoint, urls[0]);
    assert.equal(remote.summary.length, 8);
    assert.ok(remote.summary.every((g) => g.name?.includes('H100') && g.samples >= 1));
  } finally {
    exporter.close();
  }
});

test('run: a server that ignores the pan-and-scan settings is caught by the parity check', () => {
  // Without mm_processor_kwargs the server uses vLLM's default (pan-and-scan off): cropped images cost fewer tokens.
  const r = cli(['run', '--backend', 'openai', '--endpoint', urls[0], '--requests', '4', '--no-mm-kwargs', '--preset', 'balanced', ...SMALL]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /note: pan-and-scan parity: \d+ of 4 completed requests got a prompt token count other than/);
  const run = runFile(/saved to (\S+\.json)/.exec(r.stdout)![1]);
  assert.ok(run.summary.promptTokenParity!.mismatched > 0);
});

test('sweep: the grid runs against the servers without restarting them, one saved run per point', () => {
  const r = cli(['sweep', '--backend', 'openai', '--endpoint', urls[0], '--endpoint', urls[1], '--grid', 'max-crops=2,4', '--requests', '4', ...SMALL]);
  assert.equal(r.code, 0, r.stderr);
  const groupId = /sweep (sweep-\S+): 2 of 2 point\(s\) saved/.exec(r.stdout)![1];
  const runs = readdirSync(join(home, 'runs')).filter((f) => f.endsWith('.json')).map((f) => runFile(join(home, 'runs', f))).filter((x) => x.group?.id === groupId);
  assert.equal(runs.length, 2);
  for (const run of runs) {
    assert.equal(run.backend.name, 'openai');
    assert.deepEqual(run.summary.promptTokenParity, { checked: 4, mismatched: 0 }, `point ${JSON.stringify(run.group?.point)}`);
  }
});

test('an endpoint that does not answer /v1/models is a configuration error naming the URL', () => {
  const r = cli(['run', '--backend', 'openai', '--endpoint', urls[0], '--endpoint', 'http://127.0.0.1:9', '--requests', '2', ...SMALL]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /1 of 2 endpoint\(s\) failed the \/v1\/models check:\n\s+GET http:\/\/127\.0\.0\.1:9\/v1\/models failed: connection refused/);
  const none = cli(['run', '--backend', 'openai', '--requests', '2', ...SMALL]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /needs at least one --endpoint URL/);
  const wrong = cli(['run', '--backend', 'openai', '--endpoint', urls[0], '--model', 'no-such-model', '--requests', '2', ...SMALL]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /no-such-model/);
  const flag = cli(['run', '--endpoint', urls[0], '--requests', '2', ...SMALL]);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--endpoint applies to --backend openai, not to the onnx backend/);
});
