// signalChild never reaches our own process group. The check runs in a detached Node process (its own process
// group), so that a regression kills that process and its group only, never the test runner.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/repo.js';

const MODULE_URL = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'util', 'signal-child.js')).href;

function inOwnGroup(script: string) {
  // setsid: a new session and process group, so kill(0, ...) inside reaches only the script and its children.
  return spawnSync('setsid', ['--wait', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
}

test('a child whose spawn failed (missing program) is not signalled, and nothing else is', () => {
  const r = inOwnGroup(`
    import { spawn } from 'node:child_process';
    import { signalChild } from ${JSON.stringify(MODULE_URL)};
    const c = spawn('/no/such/program', [], { stdio: 'ignore' });
    c.on('error', () => {});
    const sent = signalChild(c, 'SIGKILL');
    setTimeout(() => { console.log('survived sent=' + sent); }, 100);
  `);
  assert.equal(r.signal, null, `the process group was signalled (${r.signal})`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'survived sent=false');
});

test('a running child is signalled; one that has exited is not', () => {
  const r = inOwnGroup(`
    import { spawn } from 'node:child_process';
    import { once } from 'node:events';
    import { signalChild } from ${JSON.stringify(MODULE_URL)};
    const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore' });
    await once(c, 'spawn');
    const first = signalChild(c, 'SIGTERM');
    const [code, sig] = await once(c, 'exit');
    const again = signalChild(c, 'SIGKILL');
    console.log([first, sig, again].join(' '));
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'true SIGTERM false');
});
