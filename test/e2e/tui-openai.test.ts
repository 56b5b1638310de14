// End to end: the interactive app (the real binary in tmux, 100x50) benchmarking a real `gemma-bench serve` over
// HTTP: the backend chosen on the home screen, its endpoint typed into the Endpoints field, the run watched on the
// dashboard (the Server panel fed by the server's /metrics, the pan-and-scan parity line) and saved.
// Skipped, with the reason, when tmux is not installed or the project is not built.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RunFile } from '../../src/engine/types.js';
import { REPO_ROOT } from '../helpers/repo.js';

const KEY_GAP_MS = 120;
const socket = `gemma-bench-e2e-openai-${process.pid}`;
const home = mkdtempSync(join(tmpdir(), 'gemma-bench-tui-openai-'));
const cli = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const NO_CI = 'env -u CI -u CONTINUOUS_INTEGRATION';
let server: ChildProcess | null = null;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const capture = () => tmux('capture-pane', '-p', '-t', 'tui');

async function keys(...ks: string[]): Promise<void> {
  for (const k of ks) {
    tmux('send-keys', '-t', 'tui', k);
    await sleep(KEY_GAP_MS);
  }
}

async function text(s: string): Promise<void> {
  for (const ch of s) {
    tmux('send-keys', '-t', 'tui', '-l', ch);
    await sleep(KEY_GAP_MS / 2);
  }
}

async function waitScreen(re: RegExp, timeoutMs: number, what: string): Promise<string> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    last = capture();
    if (re.test(last)) return last;
    await sleep(100);
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what} (${re}); the screen was:\n${last}`);
}

function serve(): Promise<string> {
  server = spawn(process.execPath, [cli, 'serve', '--port', '0', '--json', '--threads', '1'], { env: { ...process.env, GEMMA_BENCH_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: server!.stdout! }).once('line', (l) => resolve((JSON.parse(l) as { url: string }).url));
    server!.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
}

after(async () => {
  try {
    tmux('kill-server');
  } catch {
    // not started
  }
  server?.kill('SIGTERM');
  if (server && server.exitCode === null) await new Promise((r) => server!.once('exit', r));
  rmSync(home, { recursive: true, force: true });
});

test('the app benchmarks a server: backend and endpoint chosen on the home screen, Server panel live, run saved', { timeout: 180_000 }, async (t) => {
  if (!hasTmux) return t.skip('tmux is not installed (apt-get install -y tmux): the end-to-end TUI test needs a real terminal');
  if (!existsSync(cli)) return t.skip('dist/src/cli/main.js is missing: run `npm run build` first');
  const url = await serve();
  tmux('new-session', '-d', '-s', 'tui', '-x', '100', '-y', '50', `cd '${REPO_ROOT}' && ${NO_CI} GEMMA_BENCH_HOME='${home}' node '${cli}'; echo "__EXIT__=$?"; sleep 60`);
  await waitScreen(/▸ Preset[\s\S]*max-throughput/, 30_000, 'the home screen');
  // Preset -> Images -> Backend: cycle onnx -> transformers -> openai, then the Endpoints field appears.
  await keys('Tab', 'Tab', 'Right', 'Right');
  await waitScreen(/\(●\) openai[\s\S]*Endpoints/, 5_000, 'the openai backend with its Endpoints field');
  await keys('Tab');
  await text(url);
  await waitScreen(/✔ 1 endpoint/, 5_000, 'the endpoint accepted');
  // Endpoints -> Model (empty: the server's first model) -> Requests -> Warmup -> New tokens.
  await keys('Tab', 'Tab');
  await text('6');
  await keys('Tab');
  await text('0');
  await keys('Tab');
  await text('4');
  await keys('Enter');

  const live = await waitScreen(/Server \(its \/metrics[\s\S]*127\.0\.0\.1/, 60_000, 'the Server panel');
  assert.match(live, /gemma-bench · balanced · openai · tiny via http:\/\/127\.0\.0\.1:\d+/);
  const done = await waitScreen(/completed, saved to/, 90_000, 'the run to finish');
  assert.match(done, /Pan-and-scan parity ok: prompt tokens as expected in 6 of 6 requests/);
  assert.match(done, /6\/6 requests/);

  const file = readdirSync(join(home, 'runs')).find((f) => f.endsWith('.json') && !f.startsWith('.'))!;
  const run = JSON.parse(readFileSync(join(home, 'runs', file), 'utf8')) as RunFile;
  assert.equal(run.backend.name, 'openai');
  assert.equal(run.summary.completed, 6);
  assert.deepEqual(run.backend.replicas.map((r) => r.devices), [[url]]);
  await keys('q');
  await waitScreen(/▸ Preset/, 10_000, 'home again');
  await keys('q');
  await waitScreen(/__EXIT__=0/, 10_000, 'the app to exit 0');
});
