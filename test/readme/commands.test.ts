// Every gemma-bench command the README shows uses flags that exist, GPU and server examples included (they cannot
// run here; examples.test.ts runs the rest). And the README's GPU sweep, on a SYNTHESIZED 10-GPU box: not a GPU run.
//
// Rules:
//   - Fenced sh/bash lines: bash expands each line (gemma-bench and npx are functions that only print their
//     arguments; see readme.ts), and every `--flag` of each invocation must be listed by that command's `--help`
//     (`runs SUB --help` for runs). Where the help's placeholder is a list of lower-case values (`ts|hf`,
//     `dynamic|static`), the value must be one of them. `sweep --grid KEY=...` keys must be among the help's grid
//     keys, and `--recipe NAME` among its recipes.
//   - Inline code spans that start with `gemma-bench ` (tables, prose): only the flag names are checked (their values
//     are often placeholders such as N or URL), against the command's help (for runs: any subcommand's).
//   - The GPU sweep (the README line that runs `sweep --recipe panscan-grid --backend transformers`) runs against
//     the fake worker (test/fixtures/transformers/fake-worker.mjs, replaying a SYNTHESIZED transcript with its fault
//     batches left out) standing in for Python and the fake nvidia-smi naming 10 A100s, with `/data/docs/*.png`
//     replaced by `examples/*.png`, `--csv` put in a temporary folder and `--requests 2 --max-new-tokens 2` added:
//     it checks the flags parse, the recipe's five points, and that `--gpus-per-replica 2 --replicas auto` gives 5
//     replicas on GPU pairs 0-1 ... 8-9. Nothing here says how fast anything is on a GPU.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import type { RunFile } from '../../src/engine/types.js';
import { CLI } from '../helpers/cli-run.js';
import { FIXTURES_DIR, REPO_ROOT } from '../helpers/repo.js';
import { gemmaBenchArgv, mentionsGemmaBench, readReadme, shellCommands } from './readme.js';

interface Help {
  readonly flags: Map<string, string | null>;
  readonly gridKeys: readonly string[];
  readonly recipes: readonly string[];
}

const helps = new Map<string, Help>();

/** What `gemma-bench <words> --help` lists: each flag with its placeholder, sweep's grid keys and recipes. */
function help(words: readonly string[]): Help {
  const key = words.join(' ');
  const known = helps.get(key);
  if (known) return known;
  const r = spawnSync(process.execPath, [CLI, ...words, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '200' } });
  assert.equal(r.status, 0, `gemma-bench ${key} --help: ${r.stderr}`);
  const flags = new Map<string, string | null>();
  for (const m of r.stdout.matchAll(/^\s+(?:-\w, )?--([a-z0-9-]+)(?: (\S+))?(?: {2,}|$)/gm)) flags.set(m[1], m[2] ?? null);
  const grid = /^Grid keys: (.+?)\./m.exec(r.stdout);
  const recipes = [...r.stdout.matchAll(/^ {2}([a-z0-9-]+): /gm)].map((m) => m[1]);
  const h: Help = { flags, gridKeys: grid ? grid[1].split(', ') : [], recipes };
  helps.set(key, h);
  return h;
}

const RUNS_SUBCOMMANDS = ['list', 'show', 'export', 'rm'];

/** The help that applies to an invocation: `runs SUB`, or the command's own. */
function helpFor(argv: readonly string[]): { words: string[]; help: Help } {
  const words = argv[0] === 'runs' && RUNS_SUBCOMMANDS.includes(argv[1]) ? argv.slice(0, 2) : argv.slice(0, 1);
  return { words: [...words], help: help(words) };
}

/** The problems of one invocation's flags against its help (empty when all is well). */
function flagProblems(argv: readonly string[]): string[] {
  if (argv.length === 0) return []; // the interactive app
  const { words, help: h } = helpFor(argv);
  const problems: string[] = [];
  for (let i = words.length; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') break;
    if (!a.startsWith('--')) continue;
    const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (!h.flags.has(name)) {
      problems.push(`gemma-bench ${words.join(' ')}: no flag --${name}`);
      continue;
    }
    const placeholder = h.flags.get(name);
    if (placeholder === null || placeholder === undefined) continue;
    const value = inline ?? argv[++i];
    const values = placeholder.split('|');
    if (values.length > 1 && values.every((v) => /^[a-z0-9_.]+$/.test(v)) && !values.includes(value)) {
      problems.push(`gemma-bench ${words.join(' ')} --${name} ${value}: not one of ${placeholder}`);
    }
    if (name === 'grid' && !h.gridKeys.includes(value.split('=')[0])) problems.push(`sweep --grid ${value}: no grid key ${value.split('=')[0]} (${h.gridKeys.join(', ')})`);
    if (name === 'recipe' && !h.recipes.includes(value)) problems.push(`sweep --recipe ${value}: not a built-in recipe (${h.recipes.join(', ')})`);
  }
  return problems;
}

const md = readReadme();
const scratch = mkdtempSync(join(tmpdir(), 'gb-readme-commands-'));

test("every fenced gemma-bench command of the README uses flags its command's --help lists", () => {
  const problems: string[] = [];
  let checked = 0;
  for (const c of shellCommands(md)) {
    if (!mentionsGemmaBench(c.text)) continue;
    for (const argv of gemmaBenchArgv(c.text, scratch, ['vllm', 'python', 'sleep'])) {
      checked++;
      problems.push(...flagProblems(argv).map((p) => `README line ${c.line}: ${p}`));
    }
  }
  assert.ok(checked >= 15, `only ${checked} invocations found`);
  assert.deepEqual(problems, []);
});

test('every inline `gemma-bench ...` of the README names flags that exist', () => {
  const problems: string[] = [];
  const lines = md.split('\n');
  let inFence = false;
  lines.forEach((line, i) => {
    if (/^```/.test(line)) inFence = !inFence;
    if (inFence) return;
    for (const m of line.matchAll(/`((?:npx )?gemma-bench [^`]+)`/g)) {
      const words = m[1].replace(/^npx /, '').split(/\s+/).slice(1);
      const cmd = words[0];
      if (!cmd || cmd.startsWith('-') || !/^[a-z-]+$/.test(cmd)) continue;
      const helpsToUse = cmd === 'runs' ? (RUNS_SUBCOMMANDS.includes(words[1]) ? [help(['runs', words[1]])] : RUNS_SUBCOMMANDS.map((s) => help(['runs', s]))) : [help([cmd])];
      for (const w of words) {
        const f = /^--([a-z0-9-]+)/.exec(w);
        if (f && !helpsToUse.some((h) => h.flags.has(f[1]))) problems.push(`README line ${i + 1}: \`${m[1]}\`: no flag --${f[1]}`);
      }
    }
  });
  assert.deepEqual(problems, []);
});

test('the flag check itself: a misspelt flag and a bad value are caught', () => {
  assert.match(flagProblems(['run', '--backend', 'transformers', '--kv-cach', 'static']).join('\n'), /no flag --kv-cach/);
  assert.match(flagProblems(['run', '--preprocess', 'python']).join('\n'), /not one of ts\|hf/);
  assert.match(flagProblems(['sweep', '--grid', 'crops=1,2']).join('\n'), /no grid key crops/);
  assert.match(flagProblems(['sweep', '--recipe', 'panscan']).join('\n'), /not a built-in recipe/);
  assert.deepEqual(flagProblems(['runs', 'show', 'latest', '--goodput', 'ttft:500']), []);
});

/** The fake Python and the fake nvidia-smi of the transformers tests, as executables in `dir`. */
function fakes(dir: string): { python: string; smiDir: string; transcript: string } {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const python = join(dir, 'python');
  writeFileSync(python, `#!/bin/sh\nexec ${q(process.execPath)} ${q(join(FIXTURES_DIR, 'transformers', 'fake-worker.mjs'))} "$@"\n`);
  const smiDir = join(dir, 'smi');
  mkdirSync(smiDir);
  writeFileSync(join(smiDir, 'nvidia-smi'), `#!/bin/sh\nexec ${q(process.execPath)} ${q(join(FIXTURES_DIR, 'telemetry', 'fake-nvidia-smi.mjs'))} "$@"\n`);
  chmodSync(python, 0o755);
  chmodSync(join(smiDir, 'nvidia-smi'), 0o755);
  // The synthesized transcript without its fault batches (CUDA OOM, a worker exit): this checks the topology.
  const t = JSON.parse(readFileSync(join(FIXTURES_DIR, 'transformers', 'transcript-27b-2x2-h100.json'), 'utf8')) as { replicas: { batches: { kind: string }[] }[] };
  for (const r of t.replicas) r.batches = r.batches.filter((b) => b.kind === 'ok');
  const transcript = join(dir, 'transcript.json');
  writeFileSync(transcript, JSON.stringify(t));
  return { python, smiDir, transcript };
}

test('the GPU sweep of the README on a SYNTHESIZED 10 x A100 box (fake worker, fake nvidia-smi): 5 points, 5 replicas of 2 GPUs', { timeout: 240_000 }, () => {
  const line = shellCommands(md).find((c) => /sweep --recipe panscan-grid --backend transformers/.test(c.text));
  assert.ok(line, 'the README shows the GPU sweep');
  const [argv] = gemmaBenchArgv(line.text, scratch);
  assert.ok(argv.includes('--gpus-per-replica') && argv.includes('auto'), argv.join(' '));
  const dir = mkdtempSync(join(tmpdir(), 'gb-readme-gpu-sweep-'));
  const cwd = join(dir, 'cwd');
  mkdirSync(cwd);
  symlinkSync(join(REPO_ROOT, 'examples'), join(cwd, 'examples'));
  const f = fakes(dir);
  const args = argv.map((a) => (a === '/data/docs/*.png' ? 'examples/*.png' : a === 'sweep.csv' ? join(dir, 'sweep.csv') : a));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GEMMA_BENCH_HOME: join(dir, 'home'),
    GEMMA_BENCH_PYTHON: f.python,
    PATH: `${f.smiDir}${delimiter}${process.env.PATH}`,
    FAKE_SMI_INFO: join(FIXTURES_DIR, 'telemetry', 'a100-10x.info.csv'),
    FAKE_SMI_TICKS: join(FIXTURES_DIR, 'telemetry', 'a100-10x.ticks.csv'),
    FAKE_TF_TRANSCRIPT: f.transcript,
    FAKE_TF_TIME_SCALE: '0.2',
    COLUMNS: '200',
  };
  delete env.CUDA_VISIBLE_DEVICES;
  const r = spawnSync(process.execPath, [CLI, ...args, '--requests', '2', '--max-new-tokens', '2'], { cwd, env, encoding: 'utf8', timeout: 220_000 });
  assert.equal(r.status, 0, `${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  assert.match(r.stdout, /5 of 5 point\(s\) saved/);
  assert.ok(existsSync(join(dir, 'sweep.csv')), 'the CSV is written where --csv says');
  const runsDir = join(dir, 'home', 'runs');
  const runs = readdirSync(runsDir).filter((n) => n.endsWith('.json')).map((n) => JSON.parse(readFileSync(join(runsDir, n), 'utf8')) as RunFile);
  assert.equal(runs.length, 5);
  for (const run of runs) {
    assert.equal(run.settings.replicas, 5, run.id);
    assert.deepEqual(
      run.summary.perReplica.map((p) => p.devices),
      [0, 2, 4, 6, 8].map((g) => [`gpu:${g}`, `gpu:${g + 1}`]),
    );
    assert.equal(run.telemetry.source, 'nvidia-smi');
    assert.equal(run.settings.batchSize, 2, 'the recipe: batches of 2');
  }
  assert.deepEqual(runs.map((x) => x.group?.point['pan-and-scan'] ?? 'on').sort(), ['off', 'on', 'on', 'on', 'on']);
});
