// End to end: the real binary (`node dist/src/cli/main.js` with no arguments) in a real pseudo-terminal (tmux,
// 100x50), with a temporary GEMMA_BENCH_HOME. Opens the app, types settings (few requests, few new tokens) and
// runs the tiny model, sees the dashboard change between two captures, measures how fast a key is answered
// while the run is busy, finds the run in the list, saves a user preset and runs it, stops that run with q
// (saved as interrupted), compares the two runs, and quits with exit code 0.
// UPDATE_SCREENS=1 writes the captured screens to test/fixtures/ui/screens/*.txt (for the README).
// Skipped, with the reason, when tmux is not installed or the project is not built.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT } from '../helpers/repo.js';

const COLS = 100;
const ROWS = 50;
/** Pause between keys: Ink reads several keys arriving in one chunk as one pasted string. */
const KEY_GAP_MS = 120;
/** Generous: a key must change the screen within this while inference runs (measured values are reported). */
const KEY_ANSWER_BOUND_MS = 1500;
const KEY_SAMPLES = 5;

const SCREENS_DIR = join(REPO_ROOT, 'test', 'fixtures', 'ui', 'screens');
const update = process.env.UPDATE_SCREENS === '1';
const socket = `gemma-bench-e2e-${process.pid}`;
const home = mkdtempSync(join(tmpdir(), 'gemma-bench-tui-'));

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const cli = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const launcher = join(REPO_ROOT, 'test', 'fixtures', 'ui', 'launch-interactive.mjs');

/** Ink draws nothing live when CI is set (is-in-ci); the app under test gets a plain user's environment. */
const NO_CI = 'env -u CI -u CONTINUOUS_INTEGRATION';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
/** The visible screen of a session; with `scrollback`, also what scrolled off (lines joined as printed). */
const capture = (session = 'tui', scrollback = false) => tmux('capture-pane', '-p', ...(scrollback ? ['-J', '-S', '-200'] : []), '-t', session);

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

async function waitScreen(re: RegExp, timeoutMs: number, what: string, session = 'tui', scrollback = false): Promise<string> {
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    last = capture(session, scrollback);
    if (re.test(last)) return last;
    await sleep(100);
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what} (${re}); the screen was:\n${last}`);
}

/** Between two screen polls: short, but not a busy loop competing with the app for the CPU. */
const POLL_GAP_MS = 4;

/** Sends a key and polls the screen until `re` shows; returns the ms it took (resolution: one poll). */
async function timeKey(key: string, re: RegExp): Promise<number> {
  await sleep(150); // let the previous frame settle
  const t0 = performance.now();
  tmux('send-keys', '-t', 'tui', key);
  for (;;) {
    if (re.test(capture())) return performance.now() - t0;
    if (performance.now() - t0 > 10_000) return Number.POSITIVE_INFINITY;
    await sleep(POLL_GAP_MS);
  }
}

const screens: Record<string, string> = {};
function keep(name: string, screen: string): void {
  const clean = screen
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n+$/, '\n')
    .split(home)
    .join('$GEMMA_BENCH_HOME');
  screens[name] = clean;
}

after(() => {
  try {
    tmux('kill-server');
  } catch {
    // not started
  }
  rmSync(home, { recursive: true, force: true });
});

test('the interactive app in a real terminal: run, watch, stop, list, compare, quit', { timeout: 240_000 }, async (t) => {
  if (!hasTmux) return t.skip('tmux is not installed (apt-get install -y tmux): the end-to-end TUI test needs a real terminal');
  if (!existsSync(cli)) return t.skip('dist/src/cli/main.js is missing: run `npm run build` first');
  const wired = readFileSync(cli, 'utf8').includes('runInteractive');
  const program = wired ? cli : launcher;
  if (!wired) t.diagnostic('dist/src/cli/main.js does not call runInteractive() yet: driving test/fixtures/ui/launch-interactive.mjs (the same app)');
  const started = Date.now();

  tmux('new-session', '-d', '-s', 'tui', '-x', String(COLS), '-y', String(ROWS), `cd '${REPO_ROOT}' && ${NO_CI} GEMMA_BENCH_HOME='${home}' node '${program}'; echo "__EXIT__=$?"; sleep 120`);

  // Home: the built-in presets. The same key timing as below with nothing running, for reference.
  let s = await waitScreen(/▸ Preset[\s\S]*max-throughput/, 30_000, 'the home screen');
  const idle: number[] = [];
  for (let i = 0; i < KEY_SAMPLES; i++) idle.push(await timeKey('?', /Help: home keys/), await timeKey('q', /↑\/↓ preset · tab next field/));
  // Then type the settings of a small run.
  await keys('Tab', 'Tab', 'Tab', 'Tab');
  // Long enough that the key timing below happens while requests are still running.
  await text('12');
  await keys('Tab');
  await text('1');
  await keys('Tab');
  await text('16');
  s = await waitScreen(/Requests +\[12\][\s\S]*Warmup +\[1\][\s\S]*New tokens +\[16/, 5_000, 'the typed settings');
  keep('home', s);
  await keys('Enter');

  // The live dashboard: two captures that differ while the run goes.
  const first = await waitScreen(/(warmup|measuring)\n/, 60_000, 'the run to start');
  const a = await waitScreen(/measuring\n[\s\S]*E2E +\d/, 60_000, 'the first measured request');
  assert.match(a, /gemma-bench · balanced · onnx · gemma3-tiny, random weights: speed only/);
  assert.match(a, /Telemetry: CPU/);
  assert.match(a, /q\/esc stop \(the partial run is saved as interrupted\) · \? help/);

  // Key latency while inference runs: ? opens help, ? closes it; time until the screen shows the change.
  const latencies: number[] = [];
  let help = '';
  for (let i = 0; i < KEY_SAMPLES; i++) {
    const open = await timeKey('?', /Help: dashboard keys/);
    if (!help) help = capture();
    const close = await timeKey('?', /q\/esc stop/);
    latencies.push(open, close);
    if (!/measuring/.test(capture())) break;
  }
  keep('help', help);
  const stats = (xs: readonly number[]) => {
    const v = [...xs].sort((x, y) => x - y);
    return { n: v.length, min: v[0], median: v[Math.floor(v.length / 2)], max: v.at(-1)! };
  };
  const line = (label: string, xs: readonly number[]) => {
    const x = stats(xs);
    return `${label}: n=${x.n} min=${x.min.toFixed(0)} ms median=${x.median.toFixed(0)} ms max=${x.max.toFixed(0)} ms`;
  };
  const lines = [
    'key -> screen change (tmux send-keys, then capture-pane polled until the screen shows it; includes both tmux calls)',
    line('while a run is busy (dashboard, ? help open/close)', latencies),
    line('idle, for reference (home, ? help open / q close)', idle),
  ];
  const report = lines.join('\n');
  for (const l of lines) t.diagnostic(l);
  screens['key-latency'] = `${report}\nbusy samples (ms): ${latencies.map((x) => x.toFixed(1)).join(' ')}\nidle samples (ms): ${idle.map((x) => x.toFixed(1)).join(' ')}\n`;
  assert.ok(stats(latencies).median < KEY_ANSWER_BOUND_MS, report);

  const b = await waitScreen(/measuring\n/, 10_000, 'the run still measuring');
  assert.notEqual(first, b, 'the dashboard changed between two captures');
  assert.notEqual(a, b, 'the dashboard changed between two captures');
  keep('dashboard-running', b);

  s = await waitScreen(/completed, saved to/, 90_000, 'the run to finish');
  assert.match(s, /✔ completed/);
  assert.match(s, /13\/13 requests/);
  // The final screen's 95% intervals come from a worker thread a moment after the run is saved.
  s = await waitScreen(/95% CI E2E p50 \d/, 10_000, 'the final 95% intervals');
  keep('dashboard-finished', s);

  // The run is in the list.
  await keys('r');
  s = await waitScreen(/\[ \] balanced +[0-9a-f]{4} +\d\d-\d\d \d\d:\d\d +balanced +onnx +12\/0 +completed/, 10_000, 'the run in the list');
  keep('runs-one', s);

  // Save the typed settings as a user preset, pick it, run it with more requests and stop it with q.
  await keys('q');
  await waitScreen(/▸ Preset/, 5_000, 'home again');
  await keys('s');
  await text('e2e-quick');
  await keys('Enter');
  await waitScreen(/saved preset e2e-quick to /, 10_000, 'the preset to be saved');
  assert.ok(existsSync(join(home, 'presets', 'e2e-quick.json')));
  await keys('Down', 'Down', 'Down', 'Down');
  await waitScreen(/● e2e-quick +user +p&s/, 5_000, 'the user preset selected');
  await keys('Tab', 'Tab', 'Tab', 'Tab', 'BSpace');
  await text('30');
  await keys('Enter');
  s = await waitScreen(/gemma-bench · e2e-quick · onnx[\s\S]*measuring\n[\s\S]*E2E +\d/, 60_000, 'the second run measuring');
  await keys('q');
  await waitScreen(/stopping: finishing in-flight work/, 5_000, 'the stop to show');
  s = await waitScreen(/interrupted, saved to/, 60_000, 'the partial run to be saved');
  keep('dashboard-stopped', s);

  // Both runs in the list; compare them side by side.
  await keys('r');
  s = await waitScreen(/e2e-quick +[0-9a-f]{4} +\d\d-\d\d[\s\S]*balanced +[0-9a-f]{4} +\d\d-\d\d/, 10_000, 'both runs in the list');
  keep('runs', s);
  await keys('Down', 'Space', 'Up', 'Space', 'c');
  s = await waitScreen(/compare 2 run\(s\)/, 10_000, 'the comparison');
  assert.match(s, /1 balanced \(base\)/);
  assert.match(s, /2 e2e-quick/);
  assert.match(s, /E2E p50 \(ms\)/);
  assert.match(s, /\*/);
  assert.match(s, /\([+-]\d+(\.\d)?%\)/);
  assert.match(s, /not completed: .*interrupted/);
  keep('compare', s);

  // Back out and quit.
  await keys('q');
  await waitScreen(/saved runs in/, 5_000, 'the runs list');
  await keys('q');
  await waitScreen(/▸ Preset/, 5_000, 'home');
  await keys('q');
  await waitScreen(/__EXIT__=0/, 10_000, 'the app to exit with 0');

  const runs = readdirSync(join(home, 'runs')).filter((f) => f.endsWith('.json') && !f.startsWith('.'));
  const statuses = runs.map((f) => (JSON.parse(readFileSync(join(home, 'runs', f), 'utf8')) as { status: string }).status).sort();
  assert.deepEqual(statuses, ['completed', 'interrupted'], `run files: ${runs.join(', ')}`);
  t.diagnostic(`end-to-end took ${((Date.now() - started) / 1000).toFixed(1)} s`);

  if (update) {
    mkdirSync(SCREENS_DIR, { recursive: true });
    for (const [name, screen] of Object.entries(screens)) writeFileSync(join(SCREENS_DIR, `${name}.txt`), screen);
    t.diagnostic(`wrote ${Object.keys(screens).length} screens to ${SCREENS_DIR}`);
  }
});

test('under CI on a real terminal: no blank live screen; the app says why and `run` prints plain progress', { timeout: 120_000 }, async (t) => {
  if (!hasTmux) return t.skip('tmux is not installed (apt-get install -y tmux): the end-to-end TUI test needs a real terminal');
  if (!existsSync(cli)) return t.skip('dist/src/cli/main.js is missing: run `npm run build` first');
  const ciHome = mkdtempSync(join(tmpdir(), 'gemma-bench-tui-ci-'));
  const inTerminal = async (session: string, args: string, re: RegExp, timeoutMs: number, what: string) => {
    tmux('new-session', '-d', '-s', session, '-x', String(COLS), '-y', String(ROWS), `cd '${REPO_ROOT}' && CI=true GEMMA_BENCH_HOME='${ciHome}' node '${cli}' ${args}; echo "__EXIT__=$?"; sleep 60`);
    return waitScreen(re, timeoutMs, what, session, true);
  };
  try {
    const app = await inTerminal('ci-app', '', /__EXIT__=\d+/, 30_000, 'the app to refuse');
    assert.match(app, /the interactive app cannot draw here: CI is set in the environment/);
    assert.match(app, /env -u CI/);
    assert.match(app, /__EXIT__=2/);

    const run = await inTerminal('ci-run', 'run --requests 2 --warmup 0 --max-new-tokens 2', /__EXIT__=\d+/, 90_000, 'the run to finish');
    assert.match(run, /run \d{8}-\d{6}-balanced-\w+: preset balanced, onnx backend/);
    assert.match(run, /status completed; run \S+ saved to /);
    assert.match(run, /__EXIT__=0/);
  } finally {
    rmSync(ciHome, { recursive: true, force: true });
  }
});
