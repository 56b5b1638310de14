// The import rules of DESIGN.md §2 as a table (a layer -> what it must not import), and the checker that applies
// them to a file tree held in memory: repository-relative path -> text. The tree is either the TypeScript sources
// (every import counts, type-only ones included) or the compiled output, where a rule marked `transitive` is also
// applied to every module its layer loads at runtime, followed import by import.
import ts from 'typescript';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

export interface ImportRule {
  /** How a violation names the rule. */
  readonly title: string;
  /** The folders (or modules) whose files the rule governs, e.g. 'src/engine'. */
  readonly from: readonly string[];
  /** Folders under `from` that it does not govern. */
  readonly exceptFrom?: readonly string[];
  /** Project folders or modules (without extension) these files must not import; matched as path prefixes. */
  readonly mustNotImport?: readonly string[];
  /** Project folders or modules allowed all the same (a narrower match than `mustNotImport`). */
  readonly allowed?: readonly string[];
  /** Whitelist instead: the project folders these files may import besides their own folder. */
  readonly mayImportOnly?: readonly string[];
  /** Packages and Node built-ins they must not import, with their subpaths ('fs' covers 'node:fs/promises'). */
  readonly mustNotImportPackages?: readonly string[];
  /** Also holds for every module the governed files load at runtime (checked on the compiled output). */
  readonly transitive?: boolean;
}

const UI_PACKAGES = ['ink', 'react', 'ink-spinner', '@alcalzone/ink-table'];
const IO_PACKAGES = ['sharp', 'onnxruntime-node', 'child_process', 'fs', 'worker_threads'];
/** The project modules that do I/O or inference, which the UI must not reach: the run store and its sink, the
 *  engine's run, workload, synthetic-input and preparation modules, and every backend implementation. */
const IO_MODULES = [
  'src/store/run-store', 'src/store/run-sink',
  'src/engine/run-benchmark', 'src/engine/workload', 'src/engine/synthetic', 'src/engine/prepare',
  'src/engine/backends',
];

/** The rule table. Every folder of src/ is governed by at least one row (a test checks it). */
export const RULES: readonly ImportRule[] = [
  { title: 'engine never imports store, cli, app, ui, report', from: ['src/engine'], mustNotImport: ['src/store', 'src/cli', 'src/app', 'src/ui', 'src/report'] },
  { title: 'telemetry imports only itself and util', from: ['src/telemetry'], mayImportOnly: ['src/util'] },
  { title: 'store never imports ui, cli, app', from: ['src/store'], mustNotImport: ['src/ui', 'src/cli', 'src/app'] },
  { title: 'report never imports cli, app, ui, store', from: ['src/report'], mustNotImport: ['src/cli', 'src/app', 'src/ui', 'src/store'] },
  { title: 'ui never imports app, cli', from: ['src/ui'], mustNotImport: ['src/app', 'src/cli'] },
  {
    title: 'ui does no I/O (no sharp, onnxruntime-node, child_process, fs, worker_threads, run store, engine run/workload/synthetic/prepare, backends)',
    from: ['src/ui'], mustNotImport: IO_MODULES, mustNotImportPackages: IO_PACKAGES, transitive: true,
  },
  { title: 'config never imports cli, app, ui, store, report', from: ['src/config'], mustNotImport: ['src/cli', 'src/app', 'src/ui', 'src/store', 'src/report'] },
  { title: 'panscan imports only itself and util', from: ['src/panscan'], mayImportOnly: ['src/util'] },
  { title: 'model imports only itself and util', from: ['src/model'], mayImportOnly: ['src/util'] },
  { title: 'util imports nothing of the project', from: ['src/util'], mayImportOnly: [] },
  { title: 'serve (the test server) never imports cli, app, ui, store, report', from: ['src/serve'], mustNotImport: ['src/cli', 'src/app', 'src/ui', 'src/store', 'src/report'] },
  {
    title: 'no layer below the UI imports ink or react',
    from: ['src/panscan', 'src/engine', 'src/telemetry', 'src/store', 'src/report', 'src/config', 'src/model', 'src/util', 'src/serve'],
    mustNotImportPackages: UI_PACKAGES,
  },
  { title: 'raw parsed flag values never leave src/cli', from: ['src'], exceptFrom: ['src/cli'], mustNotImport: ['src/cli/args', 'src/cli/run-flags'] },
  // app is a composition root like cli (cli/main starts it); it may share the exit codes of src/cli/command,
  // a leaf module whose only import (CommandDef, flag definitions, not values) is type-only.
  { title: 'app imports from cli only the exit codes (src/cli/command)', from: ['src/app'], mustNotImport: ['src/cli'], allowed: ['src/cli/command'] },
  { title: 'cli is the composition root: it may import every layer', from: ['src/cli'] },
];

export interface Violation {
  /** The importing file, repository-relative. */
  readonly file: string;
  /** The project module (repository-relative, no extension) or the package specifier as written. */
  readonly imports: string;
  readonly rule: string;
  /** For a transitive violation: the chain of files from the governed layer to `file`. */
  readonly via?: readonly string[];
}

export const formatViolation = (v: Violation): string =>
  `${v.file} imports ${v.imports} (rule: ${v.rule}${v.via ? `; loaded at runtime via ${v.via.join(' -> ')}` : ''})`;

/** Every module specifier a file names: static imports and re-exports (type-only included), `import x = require()`,
 *  dynamic `import()`, `import('...')` types and `require()` calls. Comments and strings are not imports. */
export function specifiers(path: string, text: string): string[] {
  const kind = path.endsWith('.tsx') ? ts.ScriptKind.TSX : /\.[cm]?jsx?$/.test(path) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, kind);
  const out: string[] = [];
  const literal = (n: ts.Node | undefined) => {
    if (n && ts.isStringLiteralLike(n)) out.push(n.text);
  };
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) literal(n.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) literal(n.moduleReference.expression);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) literal(n.argument.literal);
    else if (ts.isCallExpression(n) && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) literal(n.arguments[0]);
    ts.forEachChild(n, visit);
  };
  visit(source);
  return out;
}

const stripExt = (p: string) => p.replace(/\.([cm]?[jt]sx?)$/, '');
const isRelative = (spec: string) => spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..';
/** 'src/engine' covers 'src/engine' itself and everything under it. */
const under = (module: string, folder: string) => module === folder || module.startsWith(`${folder}/`);
/** 'fs' covers 'fs', 'node:fs' and 'node:fs/promises'. */
const isPackage = (spec: string, name: string) => {
  const bare = spec.replace(/^node:/, '');
  return bare === name || bare.startsWith(`${name}/`);
};
/** The project module a relative specifier names, repository-relative and without extension. */
const targetOf = (file: string, spec: string) => stripExt(posix.normalize(posix.join(posix.dirname(file), spec)));
/** The folder of src/ a file belongs to ('src/engine' for 'src/engine/backends/onnx/index.ts'). */
const layerOf = (file: string) => file.split('/').slice(0, 2).join('/');

const governs = (rule: ImportRule, file: string) =>
  rule.from.some((f) => under(stripExt(file), f)) && !(rule.exceptFrom ?? []).some((f) => under(stripExt(file), f));

/** Why one import breaks one rule, or undefined when it does not. `file` is the importer. */
function breaks(rule: ImportRule, file: string, spec: string): string | undefined {
  if (!isRelative(spec)) return (rule.mustNotImportPackages ?? []).some((p) => isPackage(spec, p)) ? spec : undefined;
  const target = targetOf(file, spec);
  if ((rule.allowed ?? []).some((a) => under(target, a))) return undefined;
  if ((rule.mustNotImport ?? []).some((m) => under(target, m))) return target;
  if (rule.mayImportOnly) {
    const home = layerOf(file);
    if (!under(target, home) && !rule.mayImportOnly.some((m) => under(target, m))) return target;
  }
  return undefined;
}

/** The direct violations in a tree of sources (or compiled files): every import of every governed file. */
export function checkDirect(files: ReadonlyMap<string, string>, rules: readonly ImportRule[] = RULES): Violation[] {
  const out: Violation[] = [];
  for (const [file, text] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    const specs = specifiers(file, text);
    for (const rule of rules) {
      if (!governs(rule, file)) continue;
      for (const spec of specs) {
        const imports = breaks(rule, file, spec);
        if (imports !== undefined) out.push({ file, imports, rule: rule.title });
      }
    }
  }
  return out;
}

/** The violations of the `transitive` rules among the modules the governed files load at runtime: starting from the
 *  governed files of a compiled tree, follows every relative import that names a file of the tree, and applies the
 *  rule to every import of every file reached (the governed files included). A forbidden module is named at the
 *  import that reaches it and not walked further, so one stray import is one violation.
 *  Also returns how many files it reached, so a caller can check the walk went somewhere. */
export function checkTransitive(files: ReadonlyMap<string, string>, rules: readonly ImportRule[] = RULES): { violations: Violation[]; reached: number } {
  const out: Violation[] = [];
  let reached = 0;
  for (const rule of rules.filter((r) => r.transitive)) {
    const parent = new Map<string, string | null>();
    const queue = [...files.keys()].filter((f) => governs(rule, f)).sort();
    for (const f of queue) parent.set(f, null);
    for (let i = 0; i < queue.length; i++) {
      const file = queue[i];
      for (const spec of specifiers(file, files.get(file)!)) {
        const imports = breaks(rule, file, spec);
        if (imports !== undefined) {
          const via = chain(parent, file);
          out.push(via.length ? { file, imports, rule: rule.title, via } : { file, imports, rule: rule.title });
          continue; // named at the edge that reaches it: what the forbidden module loads in turn is not walked
        }
        if (!isRelative(spec)) continue;
        const next = posix.normalize(posix.join(posix.dirname(file), spec));
        if (files.has(next) && !parent.has(next)) {
          parent.set(next, file);
          queue.push(next);
        }
      }
    }
    reached = Math.max(reached, queue.length);
  }
  return { violations: out, reached };
}

function chain(parent: ReadonlyMap<string, string | null>, file: string): string[] {
  const path: string[] = [];
  for (let f: string | null | undefined = parent.get(file); f; f = parent.get(f)) path.unshift(f);
  return path;
}

/** Reads the files under `root/dir` whose names end in one of `exts`, keyed by their path relative to `root`
 *  with forward slashes ('src/ui/state.ts'). */
export function readTree(root: string, dir: string, exts: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (exts.some((e) => name.endsWith(e)) && !name.endsWith('.d.ts')) out.set(relative(root, p).split(sep).join('/'), readFileSync(p, 'utf8'));
    }
  };
  walk(join(root, dir));
  return out;
}
