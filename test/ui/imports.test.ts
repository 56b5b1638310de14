// The UI does no I/O of its own (DESIGN.md §2): no file under src/ui imports sharp, onnxruntime-node,
// child_process, fs, the run store or the engine's run module, directly (source, type imports included) or
// through the modules it pulls in at runtime (the compiled output, followed import by import).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../helpers/repo.js';

const BANNED_PACKAGES = ['sharp', 'onnxruntime-node', 'node:child_process', 'child_process', 'node:fs', 'fs', 'node:fs/promises', 'fs/promises', 'node:worker_threads', 'worker_threads'];
/** Repository-relative module paths (without extension) the UI must not reach. */
const BANNED_MODULES = ['src/store/run-store', 'src/engine/run-benchmark', 'src/engine/workload', 'src/engine/synthetic', 'src/engine/backends/onnx/index', 'src/cli/run-flags'];

const IMPORT_RE = /(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT_RE)) out.push(m[1] ?? m[2]);
  return out;
}

function filesUnder(dir: string, exts: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, exts));
    else if (exts.some((e) => name.endsWith(e))) out.push(p);
  }
  return out;
}

const stripExt = (p: string) => p.replace(/\.(tsx?|jsx?)$/, '');

function problemsOf(file: string, root: string): string[] {
  const problems: string[] = [];
  for (const spec of specifiers(readFileSync(file, 'utf8'))) {
    const bare = spec.replace(/^node:/, '');
    if (BANNED_PACKAGES.includes(spec) || BANNED_PACKAGES.includes(bare) || bare.startsWith('fs/')) problems.push(`${relative(root, file)} imports ${spec}`);
    if (spec.startsWith('.')) {
      const target = relative(root, stripExt(resolve(dirname(file), spec))).split('\\').join('/');
      if (BANNED_MODULES.includes(target)) problems.push(`${relative(root, file)} imports ${target}`);
    }
  }
  return problems;
}

test('no source file under src/ui imports an I/O module (type imports included)', () => {
  const files = filesUnder(join(REPO_ROOT, 'src', 'ui'), ['.ts', '.tsx']);
  assert.ok(files.length >= 10, `found ${files.length} files`);
  const problems = files.flatMap((f) => problemsOf(f, REPO_ROOT));
  assert.deepEqual(problems, []);
});

test('nothing the UI loads at runtime reaches an I/O module (compiled output, followed transitively)', () => {
  const distRoot = join(REPO_ROOT, 'dist');
  const uiDir = join(distRoot, 'src', 'ui');
  const seen = new Set<string>();
  const queue = filesUnder(uiDir, ['.js']);
  const problems: string[] = [];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    problems.push(...problemsOf(file, distRoot));
    for (const spec of specifiers(text)) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (existsSync(target)) queue.push(target);
    }
  }
  assert.ok(seen.size > 10);
  assert.deepEqual(problems, []);
});

test('the checker itself catches what it should', () => {
  assert.deepEqual(specifiers(`import sharp from 'sharp';\nimport type { X } from '../store/run-store.js';\nconst m = await import('node:fs');`), ['sharp', '../store/run-store.js', 'node:fs']);
});
