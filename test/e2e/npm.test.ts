// End to end: npm is quiet and installs stay offline-safe. `npx gemma-bench` prints no npm warning (the project
// has no .npmrc key npm does not know), and `npm ci` of this package.json and lockfile downloads nothing from
// outside the npm registry: onnxruntime-node's postinstall (which fetches CUDA binaries from NuGet on linux/x64)
// is denied by package.json's allowScripts on an npm that reads it (npm 11 here), and skipped by the
// ONNXRUNTIME_NODE_INSTALL=skip environment variable on one that does not (npm 10). The install runs from npm's
// cache (--offline), so it needs no network at all; it skips, saying why, when the cache lacks a package.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/repo.js';

const dir = mkdtempSync(join(tmpdir(), 'gb-npm-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const npm = (args: readonly string[], o: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }) =>
  spawnSync('npm', args, { encoding: 'utf8', cwd: o.cwd, env: o.env ?? process.env, timeout: o.timeout ?? 300_000 });

test('npx in the project prints no npm warning', () => {
  assert.ok(!existsSync(join(REPO_ROOT, '.npmrc')), 'no project .npmrc: its keys are npm config, and npm warns about unknown ones');
  // npx reads the project's npm configuration first whatever it runs; the built CLI itself, so the check does not
  // depend on how the package's bin got linked.
  const r = spawnSync('npx', ['--no', '--', 'node', join('dist', 'src', 'cli', 'main.js'), '--version'], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
  assert.doesNotMatch(r.stderr, /npm warn|Unknown (project|user|cli) config/i, r.stderr);
});

test('npm ci downloads nothing from outside the npm registry (onnxruntime-node postinstall denied or skipped)', { timeout: 600_000 }, (t) => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: unknown; allowScripts?: Record<string, boolean> };
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false, 'package.json denies onnxruntime-node its install script');
  // The dependencies only: the project's own scripts (prepare builds it) are not what this checks.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...pkg, scripts: {} }, null, 2));
  copyFileSync(join(REPO_ROOT, 'package-lock.json'), join(dir, 'package-lock.json'));
  const version = npm(['--version'], { cwd: dir }).stdout.trim();
  const readsAllowScripts = npm(['config', 'get', 'allow-scripts'], { cwd: dir }).stdout.trim() !== 'undefined';
  const env = { ...process.env };
  delete env.ONNXRUNTIME_NODE_INSTALL;
  // An npm without allowScripts needs the variable, as the README says.
  if (!readsAllowScripts) env.ONNXRUNTIME_NODE_INSTALL = 'skip';
  t.diagnostic(`npm ${version}: ${readsAllowScripts ? 'allowScripts denies the postinstall' : 'ONNXRUNTIME_NODE_INSTALL=skip skips it'}`);
  const r = npm(['ci', '--offline', '--foreground-scripts', '--no-audit', '--no-fund'], { cwd: dir, env });
  const out = r.stdout + r.stderr;
  if (r.status !== 0 && /ENOTCACHED/.test(out)) return t.skip(`npm's cache lacks a package of the lockfile (run npm ci once first): ${/request to (\S+)/.exec(out)?.[1] ?? ''}`);
  assert.equal(r.status, 0, out);
  assert.doesNotMatch(out, /nuget|Downloading https?:|ENOTFOUND/i, 'no download outside the registry');
  assert.doesNotMatch(out, /npm warn/i, out);
  // The CPU binaries ship inside the npm package; the CUDA ones (downloaded by the postinstall) are absent.
  const bin = join(dir, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');
  if (process.platform === 'linux' && process.arch === 'x64') {
    assert.ok(existsSync(join(bin, 'onnxruntime_binding.node')));
    assert.ok(!existsSync(join(bin, 'libonnxruntime_providers_cuda.so')));
  }
  // And the README says how.
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  assert.match(readme, /ONNXRUNTIME_NODE_INSTALL=skip npm install/);
  assert.match(readme, /allowScripts/);
});
