// End to end: images that cannot be used, on the real binary. A folder where no image decodes is refused before
// any model loads (exit 2, each file and its problem in the same words a request would use); a folder where some
// cannot be read runs on the others and says so up front; requests that fail while running count against
// --max-error-rate (over it: stopped early, saved as failed with the reason, exit 1; under it: reported, exit 0).
// --pixel-limit on every command that reads images, and `panscan --out` for an image over sharp's own limit.
// A missing image is a usage error (exit 2) for panscan and infer too, said once, before anything loads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { RunFile } from '../../src/engine/types.js';
import { CLI_PATH } from '../helpers/cli-child.js';
import { REPO_ROOT } from '../helpers/repo.js';

const home = mkdtempSync(join(tmpdir(), 'gb-images-'));
const env = { ...process.env, GEMMA_BENCH_HOME: home, GEMMA_BENCH_DEBUG: '' };
const RECEIPT = join(REPO_ROOT, 'examples', 'receipt.png');
const QUICK = ['--max-new-tokens', '2', '--warmup', '0', '--no-telemetry'];

function cli(args: readonly string[], timeout = 180_000) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], { encoding: 'utf8', env, cwd: home, timeout, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

function folder(name: string, files: Record<string, Buffer | string>): string {
  const dir = join(home, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, content] of Object.entries(files)) writeFileSync(join(dir, f), content);
  return dir;
}

const receipt = readFileSync(RECEIPT);
/** The receipt cut in half: its header reads, its pixels do not (found only by decoding, i.e. by a request). */
const truncated = receipt.subarray(0, Math.floor(receipt.length / 2));

function savedRun(stdout: string): RunFile {
  const m = /saved to (\S+\.json)/.exec(stdout);
  assert.ok(m, `a saved run:\n${stdout}`);
  return JSON.parse(readFileSync(m[1], 'utf8')) as RunFile;
}

before(() => {
  const r = cli(['run', '--requests', '1', ...QUICK]);
  assert.equal(r.code, 0, r.stderr);
});
after(() => rmSync(home, { recursive: true, force: true }));

test('no image decodes: refused before loading anything (exit 2), every file named with its friendly problem', () => {
  const dir = folder('none', { 'empty.png': Buffer.alloc(0), 'notes.png': 'these are my notes, not a picture' });
  for (const command of ['run', 'sweep']) {
    const r = cli([command, '--images', dir, '--requests', '4', ...(command === 'sweep' ? ['--grid', 'max-crops=2,4'] : [])]);
    assert.equal(r.code, 2, `${command}: ${r.stderr}`);
    assert.match(r.stderr, /none of the 2 image\(s\) of .* can be used:/);
    assert.match(r.stderr, /empty\.png: empty file \(0 bytes\)/);
    assert.match(r.stderr, /notes\.png: not an image: it is plain text, starting "these are my notes, not a picture", despite its \.png name/);
    assert.doesNotMatch(r.stderr + r.stdout, /Input Buffer is empty|replica \d ready|loading/);
  }
  assert.deepEqual(readdirSync(join(home, 'runs')).filter((f) => f.endsWith('.json') && !f.startsWith('.')).length, 1, 'only the warm-up run is saved');
});

test('some images cannot be read: said up front (how many, which, why, in the friendly words), the run goes on without them', () => {
  const dir = folder('some', { 'a.png': receipt, 'empty.png': Buffer.alloc(0) });
  const r = cli(['run', '--images', dir, '--requests', '3', ...QUICK]);
  assert.equal(r.code, 0, r.stderr);
  const warn = r.stderr.indexOf('1 of 2 image(s) cannot be used and are skipped:');
  assert.ok(warn >= 0, r.stderr);
  assert.ok(warn < r.stderr.indexOf('loading'), 'before the model loads');
  assert.match(r.stderr, /empty\.png: empty file \(0 bytes\)/);
  assert.doesNotMatch(r.stderr, /Input Buffer is empty/);
  const run = savedRun(r.stdout);
  assert.equal(run.summary.completed, 3);
  assert.equal(run.summary.failed, 0);
});

test('--max-error-rate: a run failing more than the share stops early, is saved as failed with the reason, exits 1', () => {
  const dir = folder('mostly-bad', { 'a.png': receipt, 'b.png': truncated, 'c.png': truncated, 'd.png': truncated });
  const r = cli(['run', '--images', dir, '--requests', '40', '--concurrency', '1', '--batch-size', '1', ...QUICK]);
  assert.equal(r.code, 1, r.stderr);
  const run = savedRun(r.stdout);
  assert.equal(run.status, 'failed');
  assert.ok(run.requests.length < 40, `stopped early (${run.requests.length} of 40 requests)`);
  assert.ok(run.notes.some((n) => /failed: \d+ of \d+ measured requests failed \(\d+(\.\d)?%\), over --max-error-rate 0\.05 \(5%\); stopped early/.test(n)), run.notes.join('\n'));
  assert.ok(run.requests.some((x) => x.status === 'failed' && /truncated PNG/.test(x.error ?? '')));
  assert.match(r.stdout, /status failed/);

  // Under the share: the failures are reported, the run completes, exit 0.
  const ok = cli(['run', '--images', dir, '--requests', '8', '--concurrency', '1', '--batch-size', '1', '--max-error-rate', '0.8', ...QUICK]);
  assert.equal(ok.code, 0, ok.stderr);
  const done = savedRun(ok.stdout);
  assert.equal(done.status, 'completed');
  assert.equal(done.summary.failed, 6);
  assert.equal(done.summary.completed, 2);
  assert.match(ok.stdout, /failed 6/);

  const bad = cli(['run', '--max-error-rate', '1.5']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--max-error-rate must be a number >= 0 and <= 1 \(got 1\.5\)/);
});

test('--pixel-limit: infer and serve take it, as run and panscan do; panscan --out writes an image over sharp\'s own limit', { timeout: 240_000 }, async () => {
  // 17000 x 16000 = 272 Mpx: over Pillow's limit (89 Mpx) and over sharp's default limit for inputs (268 Mpx).
  const huge = join(home, 'huge.png');
  await sharp({ create: { width: 17000, height: 16000, channels: 3, background: { r: 200, g: 180, b: 160 } }, limitInputPixels: false }).png().toFile(huge);

  const refused = cli(['infer', huge, '--max-new-tokens', '1']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /over the limit of 89,478,485.*raise the limit with --pixel-limit N/);
  for (const command of ['infer', 'serve', 'run', 'sweep', 'panscan']) {
    const help = cli([command, '--help']);
    assert.match(help.stdout, /--pixel-limit N/, `${command} --help lists --pixel-limit`);
  }

  const out = join(home, 'crops');
  const p = cli(['panscan', huge, '--pixel-limit', '500000000', '--out', out]);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /size 17000x16000 {2}crops 0/);
  assert.deepEqual(readdirSync(out).sort(), ['huge.0.png', 'huge.grid.png']);
  assert.match(p.stderr, new RegExp(`wrote 2 files to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const grid = await sharp(join(out, 'huge.grid.png'), { limitInputPixels: false }).metadata();
  assert.deepEqual([grid.width, grid.height], [17000, 16000]);
});

test('a missing image is a usage error (exit 2) for panscan and infer, named once, before any model loads', () => {
  const missing = join(home, 'no-such.png');
  const p = cli(['panscan', RECEIPT, missing]);
  assert.equal(p.code, 2, p.stderr);
  assert.match(p.stderr, /no-such\.png: file not found/);
  const i = cli(['infer', missing]);
  assert.equal(i.code, 2, i.stderr);
  assert.equal(i.stderr.split('no-such.png').length - 1, 1, `named once:\n${i.stderr}`);
  assert.doesNotMatch(i.stderr, /replica \d ready/);
  // An image that is there but cannot be decoded: panscan reports it and exits 1.
  const dir = folder('cut', { 'cut.png': truncated });
  const c = cli(['panscan', join(dir, 'cut.png')]);
  assert.equal(c.code, 1, c.stderr);
  assert.match(c.stderr, /cut\.png: truncated PNG/);
  copyFileSync(RECEIPT, join(dir, 'ok.png'));
});
