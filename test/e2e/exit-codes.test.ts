// End to end: exit codes and messages as the README's table says, on the real binary, for the mistakes a new user
// makes: a negative number for a flag (the range message, not the parser's "argument is ambiguous"), a mistyped
// flag (the closest one suggested), make-model into a folder holding something else (a usage error, 2), and the
// README's table itself (every code it lists is one the commands return). Missing images (2 for panscan and
// infer too) are in images.test.ts; unwritable data directories in data-dir.test.ts; signals in signals.test.ts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH } from '../helpers/cli-child.js';
import { REPO_ROOT } from '../helpers/repo.js';

const home = mkdtempSync(join(tmpdir(), 'gb-exit-'));
const env = { ...process.env, GEMMA_BENCH_HOME: home, GEMMA_BENCH_DEBUG: '' };
after(() => rmSync(home, { recursive: true, force: true }));

function cli(args: readonly string[]) {
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: 'utf8', env, cwd: home, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a negative number gets the range message that names the flag (exit 2)', () => {
  for (const [args, re] of [
    [['run', '--requests', '-1'], /--requests must be an integer >= 1 \(got -1\)/],
    [['run', '--min-ratio', '-0.5'], /--min-ratio must be a number > 0 \(got -0\.5\)/],
    [['sweep', '--grid', 'max-crops=2', '--concurrency', '-3'], /--concurrency must be an integer >= 1 \(got -3\)/],
    [['panscan', 'x.png', '--max-crops', '-2'], /--max-crops must be an integer >= 1 \(got -2\)/],
    [['serve', '--port', '-1'], /--port must be an integer >= 0 and <= 65535 \(got "-1"\)/],
  ] as const) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /ambiguous/);
  }
});

test('an unknown flag suggests the closest one (exit 2)', () => {
  for (const [args, re] of [
    [['run', '--requets', '4'], /Unknown option '--requets'; did you mean --requests\?/],
    [['run', '--max-new-token', '4'], /did you mean --max-new-tokens\?/],
    [['compare', 'a', 'b', '--wdie'], /did you mean --wide\?/],
    [['infer', 'x.png', '--pixel-limt', '9'], /did you mean --pixel-limit\?/],
    [['runs', 'list', '--jsn'], /did you mean --json\?/],
  ] as const) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.match(r.stderr, /--help/);
  }
  const far = cli(['run', '--zzzzzz']);
  assert.equal(far.code, 2);
  assert.doesNotMatch(far.stderr, /did you mean/, 'no suggestion when nothing is close');
});

test('make-model into a folder holding something else is a usage error (exit 2); into a new or earlier build folder it works', () => {
  const busy = join(home, 'busy');
  mkdirSync(busy);
  writeFileSync(join(busy, 'notes.txt'), 'mine');
  const r = cli(['make-model', '--out', busy]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /is not empty and is not a gemma-bench model build; refusing to replace it\. Give a new or empty directory/);
  assert.deepEqual(readdirSync(busy), ['notes.txt']);
  const file = join(home, 'a-file');
  writeFileSync(file, 'x');
  assert.equal(cli(['make-model', '--out', file]).code, 2);
  const fresh = join(home, 'model');
  assert.equal(cli(['make-model', '--out', fresh]).code, 0);
  assert.equal(cli(['make-model', '--out', fresh, '--seed', '1']).code, 0, 'an earlier build is replaced');
});

test("the README's exit-code table lists 0, 1, 2 and 130/143, as the commands return them", () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('Exit codes, the same for every command'));
  for (const code of ['| 0 |', '| 1 |', '| 2 |', '| 130 / 143 |']) assert.ok(table.includes(code), code);
  assert.match(table, /\| 2 \|[^\n]*a missing image \(`panscan`, `infer`\)[^\n]*`make-model` into a folder that is not empty/);
  assert.equal(cli(['--version']).code, 0);
  assert.equal(cli(['no-such-command']).code, 2);
});
