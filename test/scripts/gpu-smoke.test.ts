// scripts/gpu-smoke.sh (issue 11) cannot run its checks here (no GPU): its syntax (`bash -n`), its usage and set-up
// refusals, and that it carries the seven checks with the 27B thresholds are what this machine can check.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/repo.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'gpu-smoke.sh');

test('bash -n scripts/gpu-smoke.sh passes, and the script is executable', () => {
  const r = spawnSync('bash', ['-n', SCRIPT], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.ok((statSync(SCRIPT).mode & 0o111) !== 0, 'executable');
});

test('it takes the path of a node binary: usage without one, a refusal for a non-node path (exit 2)', () => {
  const none = spawnSync('bash', [SCRIPT], { encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^usage: .*gpu-smoke\.sh NODE \[PYTHON\]/);
  const bad = spawnSync('bash', [SCRIPT, '/nonexistent/node'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^FAIL 0 setup: \/nonexistent\/node is not an executable node binary/);
});

test('the seven checks, the 8-minute limit and the 27B self-test thresholds are there', () => {
  const text = readFileSync(SCRIPT, 'utf8');
  assert.match(text, /^TOTAL_LIMIT_S=480$/m);
  assert.match(text, /^TTFT_MAX_MS=330$/m);
  assert.match(text, /^ITL_MAX_MS=85$/m);
  const checks = [...text.matchAll(/^run_check (\d) "([^"]+)"/gm)].map((m) => [Number(m[1]), m[2]]);
  assert.deepEqual(
    checks.map(([n]) => n),
    [1, 2, 3, 4, 5, 6, 7],
  );
  assert.match(text, /--model-size 27b --self-test --self-test-crops 3/);
  assert.match(text, /--kv-cache", "static"/);
  assert.match(text, /verify_tiny_model\.py --model-dir/);
  assert.match(text, /run --ep cuda/);
});
