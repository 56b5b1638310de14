// End to end: the interactive app (the real binary in tmux) on terminals from 80x24 to 160x50, resized while it
// runs. Every screen fits (no line past the width, the frame shorter than the height so Ink redraws in place),
// the wide terminal is used, a live resize redraws cleanly, ←/→ scroll sideways. Keys sent in one burst are each
// handled. And the small things a user sees: the presets' topology as it will run (CPU), the runs told apart
// (id suffix, request counts, backend), a header while preparing, a stale "cannot start" that goes.
// Skipped, with the reason, when tmux is not installed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH } from '../helpers/cli-child.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { hasTmux, NO_CI, Tmux, widest } from '../helpers/tmux.js';

const home = mkdtempSync(join(tmpdir(), 'gb-tui-sizes-'));
const env = { ...process.env, GEMMA_BENCH_HOME: home, GEMMA_BENCH_DEBUG: '' };
const tmux = new Tmux(`gemma-bench-sizes-${process.pid}`);
const GAP = 150;
const skip = hasTmux() ? false : 'tmux is not installed (apt-get install -y tmux)';
let group = '';

function cli(args: readonly string[]) {
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: 'utf8', env, timeout: 240_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

before(() => {
  if (skip) return;
  const quick = ['--warmup', '0', '--max-new-tokens', '2', '--no-telemetry', '--synthetic', '2'];
  // Two runs with the same name, and a sweep of four points whose labels differ only in the varying values.
  cli(['run', '--requests', '2', ...quick]);
  cli(['run', '--requests', '3', ...quick]);
  const out = cli(['sweep', '--grid', 'min-ratio=2.0,2.5', '--grid', 'max-crops=4,6', '--grid', 'min-crop-size=448', '--requests', '1', ...quick]);
  group = /sweep (sweep-\S+):/.exec(out)![1];
});
after(() => {
  tmux.kill();
  rmSync(home, { recursive: true, force: true });
});

/** The screen fits a cols x rows terminal: no line wider, and a blank last line (the frame is shorter). */
function fits(screen: string, cols: number, rows: number, what: string): void {
  assert.ok(widest(screen) <= cols, `${what}: a line is ${widest(screen)} wide at ${cols} columns:\n${screen}`);
  const lines = screen.split('\n');
  const used = lines.length - [...lines].reverse().findIndex((l) => l.trim() !== '');
  assert.ok(used < rows, `${what}: ${used} lines used of ${rows}:\n${screen}`);
}

function start(session: string, cols: number, rows: number, args = ''): void {
  tmux.start(session, cols, rows, `cd '${REPO_ROOT}' && ${NO_CI} GEMMA_BENCH_HOME='${home}' node '${CLI_PATH}' ${args}; echo "__EXIT__=$?"; sleep 120`);
}

test('the app at 80x24: home, keys in one burst, a stale error goes, the dashboard compact, live resize up to 160x50 and back', { skip, timeout: 240_000 }, async () => {
  start('app', 80, 24);
  let s = await tmux.waitScreen('app', /▸ Preset[\s\S]*New tokens/, 40_000, 'the home screen');
  fits(s, 80, 24, 'home 80x24');
  // The presets' topology as the onnx backend will run it: on the CPU, not "2 GPU/rep".
  assert.match(s, /● balanced +built-in p&s ratio≥2 ≤6 crops ≥448px · CPU, 1 replica/);
  assert.doesNotMatch(s, /GPU\/rep/);

  // Keys in one burst (one tmux call, one read by the app): two Tabs move twice, three Backspaces delete three.
  await tmux.keys('app', GAP, 'Tab', 'Tab');
  tmux.burst('app', 'Tab', 'Tab');
  await tmux.text('app', '512');
  s = await tmux.waitScreen('app', /▸ Requests +\[512 ?\]/, 5_000, 'focus on Requests after 2 + 2 Tabs, 512 typed');
  tmux.burst('app', 'BSpace', 'BSpace', 'BSpace');
  s = await tmux.waitScreen('app', /▸ Requests +\[32 \(preset\) ?\]/, 5_000, 'the three characters deleted by one burst');

  // A "cannot start" message goes once the field is fixed.
  await tmux.text('app', '0');
  await tmux.keys('app', GAP, 'Enter');
  await tmux.waitScreen('app', /cannot start: requests must be at least 1/, 5_000, 'Enter refused');
  await tmux.keys('app', GAP, 'BSpace');
  await tmux.text('app', '40');
  s = await tmux.waitScreen('app', /▸ Requests +\[40 ?\]/, 5_000, 'the field fixed');
  assert.doesNotMatch(s, /cannot start/);
  await tmux.keys('app', GAP, 'Tab', 'Tab');
  await tmux.text('app', '8');

  // While preparing the header says what was asked for, never "… · … · …".
  await tmux.keys('app', 50, 'Enter');
  s = await tmux.waitScreen('app', /gemma-bench · balanced · onnx/, 10_000, 'the dashboard header');
  assert.doesNotMatch(s, /… · …/);

  // The compact dashboard: title, progress and percentiles at the top; every line within 80 columns.
  s = await tmux.waitScreen('app', /measuring\n[\s\S]*E2E +\d/, 120_000, 'the run measuring');
  fits(s, 80, 24, 'dashboard 80x24');
  const lines = s.split('\n');
  assert.match(lines[0], /^gemma-bench · balanced · onnx · gemma3-tiny, random weights: speed only/);
  assert.match(lines.slice(0, 6).join('\n'), /\d+\/42 requests/);
  assert.ok(lines.findIndex((l) => /^Latency \(ms\)/.test(l)) < 12, 'the percentile table near the top');
  assert.match(s, /^Telemetry CPU \d+(\.\d+)? % over \d+ cores?/m);
  assert.match(s, /q\/esc stop/);

  // Wider and taller: the full dashboard, using the width.
  tmux.resize('app', 160, 50);
  s = await tmux.waitScreen('app', /Telemetry: CPU[\s\S]*Crops per request/, 10_000, 'the full dashboard at 160x50');
  await new Promise((r) => setTimeout(r, 500));
  s = tmux.capture('app');
  fits(s, 160, 50, 'dashboard 160x50');
  assert.ok(widest(s) > 100, `lines use the width (widest ${widest(s)})`);
  assert.equal(s.match(/^gemma-bench · /gm)?.length, 1, 'one title: a clean redraw');

  // Narrower again, mid-run: a clean frame (one title, one table), within the new size.
  tmux.resize('app', 100, 30);
  await new Promise((r) => setTimeout(r, 800));
  s = tmux.capture('app');
  fits(s, 100, 30, 'dashboard 100x30 after a resize');
  assert.equal(s.match(/^gemma-bench · /gm)?.length, 1, `one title after narrowing:\n${s}`);
  assert.equal(s.match(/^Latency \(ms\)/gm)?.length, 1, 'one percentile table');

  await tmux.keys('app', GAP, 'q');
  s = await tmux.waitScreen('app', /interrupted, saved to/, 60_000, 'the stopped run saved');
  tmux.resize('app', 80, 24);
  await new Promise((r) => setTimeout(r, 800));
  s = tmux.capture('app');
  fits(s, 80, 24, 'finished dashboard 80x24');
  assert.match(s, /interrupted, saved to/);
  await tmux.keys('app', GAP, 'q', 'q');
  await tmux.waitScreen('app', /__EXIT__=0/, 10_000, 'the app to quit');
});

test('runs and compare at 80x24 and 160x50: runs told apart, ←/→ scroll columns and runs, two runs shown, distinct headings', { skip, timeout: 120_000 }, async () => {
  start('runs', 80, 24);
  await tmux.waitScreen('runs', /▸ Preset/, 40_000, 'the home screen');
  await tmux.keys('runs', GAP, 'r');
  let s = await tmux.waitScreen('runs', /saved runs in[\s\S]*item\(s\)/, 10_000, 'the runs screen');
  fits(s, 80, 24, 'runs 80x24');
  // Two runs both named "balanced": the id suffix and the request counts tell them apart; the backend shows.
  const rows = s.split('\n').filter((l) => /\] balanced +[0-9a-f]{4} /.test(l));
  assert.ok(rows.length >= 2, s);
  const suffixes = rows.map((l) => / balanced +([0-9a-f]{4}) /.exec(l)![1]);
  assert.equal(new Set(suffixes).size, rows.length, 'each run its own id suffix');
  assert.match(s, /NAME +ID +STARTED +PRESET +BACKEND +OK\/FAIL/);
  assert.ok(rows.some((l) => / onnx +3\/0 /.test(l)) && rows.some((l) => / onnx +2\/0 /.test(l)), 'the request counts');
  assert.match(s, /←\/→ more columns/);
  assert.doesNotMatch(s, /e2e p95 ms/);
  await tmux.keys('runs', GAP, 'Right', 'Right', 'Right', 'Right');
  s = await tmux.waitScreen('runs', /e2e p95 ms/, 5_000, 'the last columns after →');
  fits(s, 80, 24, 'runs scrolled');
  assert.match(s, /NAME +.*e2e p95 ms/, 'the name stays');

  // The sweep opens as one comparison: at 80 columns the baseline and one more run, distinct headings.
  const sweepRow = s.split('\n').filter((l) => /\[[ \d]\] /.test(l)).findIndex((l) => /sweep ×4/.test(l));
  await tmux.keys('runs', GAP, ...Array<string>(sweepRow).fill('Down'), 'Enter');
  s = await tmux.waitScreen('runs', new RegExp(`compare sweep ${group}`), 10_000, 'the sweep comparison');
  fits(s, 80, 24, 'compare 80x24');
  assert.match(s, /│ 1 ratio=2 crops=4 \(base\) │ 2 ratio=2 crops=6 │/);
  assert.match(s, /showing runs 1 and 2 of 4/);
  await tmux.keys('runs', GAP, 'Right', 'Right');
  s = await tmux.waitScreen('runs', /showing runs 1 and 4 of 4/, 5_000, '→ scrolls the runs');
  assert.match(s, /│ 4 ratio=2\.5 crops=6 │/);
  await tmux.keys('runs', GAP, 'Down', 'Down', 'Down', 'Down', 'Down', 'Down');
  s = await tmux.waitScreen('runs', /Crops \(mean\)/, 5_000, '↓ scrolls the rows');
  fits(s, 80, 24, 'compare scrolled');

  // A live resize to 160x50: every run side by side, the ids in full, a clean frame.
  tmux.resize('runs', 160, 50);
  await new Promise((r) => setTimeout(r, 800));
  s = tmux.capture('runs');
  fits(s, 160, 50, 'compare 160x50');
  assert.match(s, /│ 1 ratio=2 crops=4 \(base\) │ 2 ratio=2 crops=6 │ 3 ratio=2\.5 crops=4 │ 4 ratio=2\.5 crops=6 │/);
  assert.equal(s.match(/compare sweep/g)?.length, 1, `one title:\n${s}`);
  assert.match(s, / 4 \d{8}-\d{6}-balanced-2\.5-6-448-[0-9a-f]{4} · completed · .* · preset balanced · onnx · gemma3-tiny, random weights: speed only/);
  await tmux.keys('runs', GAP, 'q');
  s = await tmux.waitScreen('runs', /saved runs in/, 5_000, 'back to the runs');
  fits(s, 160, 50, 'runs 160x50');
  assert.doesNotMatch(s, /more columns/, 'every column fits at 160');
  await tmux.keys('runs', GAP, 'q', 'q');
  await tmux.waitScreen('runs', /__EXIT__=0/, 10_000, 'the app to quit');
});

test('CLI tables fit the terminal (and COLUMNS in a pipe); --wide prints every column', { skip, timeout: 60_000 }, async () => {
  const piped = (args: string[], columns?: number) => {
    const r = spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: 'utf8', env: { ...env, ...(columns ? { COLUMNS: String(columns) } : {}) } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  for (const args of [['runs', 'list'], ['compare', group], ['compare', 'latest~5', 'latest~4']]) {
    const narrow = piped(args, 80);
    assert.ok(widest(narrow) <= 80, `${args.join(' ')} at COLUMNS=80: ${widest(narrow)}\n${narrow}`);
    // Two runs fit once the units move to the row labels; more columns than that are left out, and said so.
    if (args[1] !== 'latest~5') assert.match(narrow, /--wide shows them all/, args.join(' '));
    const wide = piped([...args, '--wide'], 80);
    assert.ok(widest(wide) > 100, `${args.join(' ')} --wide: ${widest(wide)}`);
    assert.ok(widest(piped(args)) > 100, `${args.join(' ')} in a pipe without COLUMNS: every column`);
  }
  // On a terminal: process.stdout.columns.
  tmux.start('cli', 90, 40, `cd '${home}' && COLUMNS= GEMMA_BENCH_HOME='${home}' node '${CLI_PATH}' runs list; echo "__EXIT__=$?"; sleep 60`);
  const s = await tmux.waitScreen('cli', /__EXIT__=0/, 20_000, 'runs list on a terminal');
  assert.ok(widest(s) <= 90, s);
  assert.match(s, /ID +NAME +STATUS/);
});
