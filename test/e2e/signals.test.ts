// End to end: signals, however many and whenever they come, on the real binary. Two or three SIGINTs (and a
// SIGTERM) sent to `gemma-bench run` while it loads its modules, while its replica loads the model, and while
// requests are being decoded, to the interactive app (Ctrl-C keys in tmux) and to `gemma-bench serve` with a
// request streaming. Each time: exit 130, the partial run saved as interrupted (run and the app), and no native
// abort ("terminate called after throwing an instance of 'Napi::Error'", exit 134), which a worker thread ended
// inside an onnxruntime call used to cause.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RunFile } from '../../src/engine/types.js';
import { CLI_PATH, watchCli, type Watched } from '../helpers/cli-child.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { hasTmux, NO_CI, Tmux } from '../helpers/tmux.js';

const home = mkdtempSync(join(tmpdir(), 'gb-signals-'));
const env = { ...process.env, GEMMA_BENCH_HOME: home, GEMMA_BENCH_DEBUG: '' };
const tmux = new Tmux(`gemma-bench-signals-${process.pid}`);
const ABORTED = /terminate called|Napi::Error|Aborted|core dumped/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Many requests with few tokens each: decode steps come fast, so a signal lands inside a session.run often. */
const LONG_RUN = ['run', '--requests', '200', '--max-new-tokens', '8'];

before(() => {
  // Builds the tiny model and the synthetic set once, so the timed runs below start alike.
  const r = spawnSync(process.execPath, [CLI_PATH, 'run', '--requests', '1', '--warmup', '0', '--max-new-tokens', '1', '--no-telemetry'], { encoding: 'utf8', env, timeout: 180_000 });
  assert.equal(r.status, 0, r.stderr);
});
after(() => {
  tmux.kill();
  rmSync(home, { recursive: true, force: true });
});

/** The run file the plain presenter says it saved. */
function savedRun(w: Watched): RunFile {
  const m = /status (\w+); run (\S+) saved to (\S+)/.exec(w.out());
  assert.ok(m, `a saved run; it printed:\n${w.out()}\n${w.err()}`);
  return JSON.parse(readFileSync(m[3], 'utf8')) as RunFile;
}

async function signals(w: Watched, ...steps: (NodeJS.Signals | number)[]): Promise<void> {
  for (const s of steps) {
    if (typeof s === 'number') await sleep(s);
    else w.child.kill(s);
  }
}

/**
 * Exit 130, as a shell sees it: the process returns 130, or, for a signal that arrives while Node is already
 * tearing the finished process down (its signal handlers gone, Node restores the default action), it ends by that
 * signal, which a shell reports as 128 + 2 = 130 too. Never by SIGABRT (the native abort this is about).
 */
function assertExit130(r: { code: number | null; signal: NodeJS.Signals | null }, what: string, printed: string): void {
  assert.notEqual(r.signal, 'SIGABRT', `${what}: no native abort`);
  assert.ok(r.code === 130 || (r.code === null && (r.signal === 'SIGINT' || r.signal === 'SIGTERM')), `${what}: exit 130 (got ${r.code}, signal ${r.signal}); it printed:\n${printed}`);
}

async function expectInterrupted(w: Watched, what: string): Promise<RunFile> {
  const r = await w.exited;
  assert.doesNotMatch(w.out() + w.err(), ABORTED, `${what}: no native abort`);
  assertExit130(r, what, `${w.out()}\n${w.err()}`);
  const run = savedRun(w);
  assert.equal(run.status, 'interrupted', what);
  return run;
}

test('run: a second SIGINT while requests are decoded stops at once, saves the run as interrupted, exits 130 (five tries)', { timeout: 180_000 }, async () => {
  for (let i = 0; i < 5; i++) {
    const w = watchCli(LONG_RUN, { env });
    await w.waitFor(/measuring/, 60_000);
    await w.waitFor(/\d+\/202 done/, 30_000);
    // The reproduction of the report: kill -INT; sleep 0.25; kill -INT (then once more, and a SIGTERM).
    await signals(w, 'SIGINT', 250, 'SIGINT', 100 + 50 * i, 'SIGINT', 30, 'SIGTERM');
    const run = await expectInterrupted(w, `try ${i + 1}`);
    assert.ok(run.requests.length < 202, 'stopped early');
    assert.ok(run.requests.some((r) => r.status === 'cancelled') || run.requests.length > 0);
    assert.match(w.err(), /SIGINT again: stopping at once/);
  }
});

test('run: SIGINTs while the replica loads the model, and while the modules load, still save an interrupted run', { timeout: 120_000 }, async () => {
  const loading = watchCli(LONG_RUN, { env });
  await loading.waitFor(/\bloading\b/, 60_000);
  await signals(loading, 'SIGINT', 20, 'SIGINT', 20, 'SIGINT');
  const run = await expectInterrupted(loading, 'during model load');
  assert.ok(run.notes.some((n) => /stopped by the user/.test(n)), run.notes.join('\n'));

  for (const delay of [150, 400, 900]) {
    const early = watchCli(LONG_RUN, { env });
    await signals(early, delay, 'SIGINT', 100, 'SIGINT');
    const r = await expectInterrupted(early, `${delay} ms after start`);
    assert.equal(r.summary.completed, 0);
  }
});

test('the interactive app: Ctrl-C twice during a run saves it as interrupted and exits 130', { timeout: 180_000 }, async (t) => {
  if (!hasTmux()) return t.skip('tmux is not installed (apt-get install -y tmux)');
  const appHome = mkdtempSync(join(tmpdir(), 'gb-signals-app-'));
  try {
    const models = join(home, 'models');
    const cmd = `cd '${REPO_ROOT}' && ln -s '${models}' '${appHome}/models' && ${NO_CI} GEMMA_BENCH_HOME='${appHome}' node '${CLI_PATH}' 2>'${appHome}/stderr'; echo "__EXIT__=$?"; sleep 60`;
    tmux.start('app', 100, 40, cmd);
    await tmux.waitScreen('app', /▸ Preset/, 30_000, 'the home screen');
    await tmux.keys('app', 120, 'Tab', 'Tab', 'Tab', 'Tab');
    await tmux.text('app', '200');
    await tmux.keys('app', 120, 'Tab', 'Tab');
    await tmux.text('app', '8');
    await tmux.keys('app', 120, 'Enter');
    await tmux.waitScreen('app', /measuring\n[\s\S]*E2E +\d/, 90_000, 'the run measuring');
    await tmux.keys('app', 250, 'C-c');
    await tmux.keys('app', 50, 'C-c', 'C-c');
    const s = await tmux.waitScreen('app', /__EXIT__=\d+/, 60_000, 'the app to exit', true);
    assert.match(s, /__EXIT__=130/);
    const stderr = readFileSync(join(appHome, 'stderr'), 'utf8');
    assert.doesNotMatch(s + stderr, ABORTED);
    const files = readdirSync(join(appHome, 'runs')).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
    assert.equal(files.length, 1, files.join(', '));
    const run = JSON.parse(readFileSync(join(appHome, 'runs', files[0]), 'utf8')) as RunFile;
    assert.equal(run.status, 'interrupted');
  } finally {
    rmSync(appHome, { recursive: true, force: true });
  }
});

test('serve: SIGINT twice while a response streams ends it cleanly with 130, no abort', { timeout: 120_000 }, async () => {
  const w = watchCli(['serve', '--port', '0', '--json', '--threads', '1'], { env });
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: w.child.stdout! }).once('line', (l) => resolve((JSON.parse(l) as { url: string }).url));
    void w.exited.then(() => reject(new Error(`serve exited early: ${w.err()}`)));
  });
  const png = readFileSync(join(REPO_ROOT, 'examples', 'receipt.png')).toString('base64');
  const body = {
    model: 'tiny',
    stream: true,
    max_tokens: 400,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'What is the total?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] }],
  };
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const reader = res.body!.getReader();
  let text = '';
  while (!/"content"/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  await signals(w, 'SIGINT', 40, 'SIGINT', 40, 'SIGINT');
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
  const r = await w.exited;
  assert.doesNotMatch(w.out() + w.err(), ABORTED);
  assertExit130(r, 'serve', w.err());
  assert.match(text, /"finish_reason":"abort"/);
  assert.match(w.err(), /again: already stopping/);
  assert.ok(existsSync(home));
});
