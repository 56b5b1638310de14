// End to end, as an unprivileged user (root ignores file modes; test/helpers/nobody.ts): a data directory the
// user cannot write is refused before anything loads, with exit 2, the directory, the reason and the
// GEMMA_BENCH_HOME hint, by `run`, `sweep` and `serve`; the interactive app says so on its home screen and
// Enter refuses. Both an empty read-only directory and one whose runs/ folder is read-only.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH } from '../helpers/cli-child.js';
import { asNobodyOptions, isRoot, NOBODY_UID, nobodyCannotRun } from '../helpers/nobody.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { hasTmux, NO_CI, Tmux } from '../helpers/tmux.js';

const skip = nobodyCannotRun() ?? false;
const tmux = new Tmux(`gemma-bench-datadir-${process.pid}`);
const made: string[] = [];
after(() => {
  tmux.kill();
  for (const d of made) {
    chmodSync(d, 0o755);
    rmSync(d, { recursive: true, force: true });
  }
});

/** An empty directory the test user cannot write (as root: owned by root, 0755, and the CLI runs as nobody). */
function readOnlyHome(): string {
  const d = mkdtempSync(join(tmpdir(), 'gb-ro-home-'));
  made.push(d);
  chmodSync(d, 0o555);
  return d;
}

function asUser(args: readonly string[], home: string, timeout = 60_000) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: 'utf8', cwd: tmpdir(), env: { ...process.env, GEMMA_BENCH_HOME: home, GEMMA_BENCH_DEBUG: '' }, timeout, ...asNobodyOptions() });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

const MESSAGE = (home: string) => new RegExp(`the data directory ${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not writable \\(cannot .*permission denied \\(EACCES\\)\\)[\\s\\S]*set GEMMA_BENCH_HOME to a writable directory`);

test('run, sweep and serve refuse an unwritable data directory at once: exit 2, the directory, the reason, the hint', { skip }, () => {
  const home = readOnlyHome();
  for (const args of [
    ['run', '--requests', '4'],
    ['sweep', '--grid', 'max-crops=2,4', '--requests', '2'],
    ['serve', '--port', '0'],
  ]) {
    const r = asUser(args, home);
    assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, MESSAGE(home), args[0]);
    assert.doesNotMatch(r.stderr, /replica \d ready|loading|Error: EACCES/, `${args[0]}: nothing loaded, no raw error`);
    // Before any model loads: module loading takes about a second here, a model load several.
    assert.ok(r.ms < 15_000, `${args[0]} took ${r.ms} ms`);
  }
  assert.deepEqual(readdirSync(home), [], 'nothing written');
});

test('a writable data directory whose runs/ folder is read-only is refused too, before the benchmark', { skip }, () => {
  const home = mkdtempSync(join(tmpdir(), 'gb-ro-runs-'));
  made.push(home);
  const runs = join(home, 'runs');
  mkdirSync(runs);
  if (isRoot()) spawnSync('chown', [`${NOBODY_UID}:${NOBODY_UID}`, home]);
  chmodSync(runs, 0o555);
  const r = asUser(['run', '--requests', '2', '--max-new-tokens', '2'], home);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`cannot write in ${runs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: permission denied \\(EACCES\\)`));
  assert.deepEqual(readdirSync(runs), []);
});

test('the interactive app shows the unwritable data directory on its home screen, and Enter refuses to start', { skip, timeout: 60_000 }, async (t) => {
  if (!hasTmux()) return t.skip('tmux is not installed (apt-get install -y tmux)');
  const home = readOnlyHome();
  const as = isRoot() ? `setpriv --reuid=${NOBODY_UID} --regid=${NOBODY_UID} --clear-groups ` : '';
  tmux.start('app', 100, 40, `cd '${REPO_ROOT}' && ${NO_CI} GEMMA_BENCH_HOME='${home}' HOME=/tmp ${as}'${process.execPath}' '${CLI_PATH}'; echo "__EXIT__=$?"; sleep 60`);
  let s = await tmux.waitScreen('app', /▸ Preset[\s\S]*not writable/, 30_000, 'the home screen with the problem');
  assert.match(s.replace(/\n/g, ' '), /✖ the data directory .* is not writable/);
  await tmux.keys('app', 150, 'Enter');
  s = await tmux.waitScreen('app', /cannot start: the data directory/, 5_000, 'Enter refused');
  assert.doesNotMatch(s, /measuring|loading/);
  await tmux.keys('app', 150, 'q');
  await tmux.waitScreen('app', /__EXIT__=0/, 10_000, 'the app to quit');
  assert.deepEqual(readdirSync(home), []);
});
