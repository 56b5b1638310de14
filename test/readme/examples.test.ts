// The README's examples run as written on a fresh clone, where they need no GPU.
//
// Rules (what is run, and how):
//   - Only fenced sh/bash blocks count (inline `code` in the prose is not run). Of their lines, those that run
//     gemma-bench (`gemma-bench ...` or `npx gemma-bench ...`) are run, in README order, each with `bash -c` exactly
//     as written (continuation lines joined), in one temporary working directory (with `examples/` linked into it)
//     and one fresh GEMMA_BENCH_HOME, so later examples see the runs earlier ones saved (`latest`, `latest~1`).
//     Other lines (npm, vllm, python, ...) are not run.
//   - `gemma-bench` and `npx gemma-bench` are the checkout's built binary (node dist/src/cli/main.js), through two
//     small executables put first on PATH. For `run` and `sweep` they append `--requests 2` (`--duration 2` when
//     the example has --duration, as the two exclude each other), `--max-new-tokens 2 --warmup 0`, so the whole
//     test stays within about two minutes on two cores; everything else is as written.
//   - A line whose trailing comment starts with "GPU" (`# GPU: not yet run on a GPU`) needs a GPU and is not run;
//     test/readme/commands.test.ts checks its flags instead.
//   - `gemma-bench serve` lines are not run as written (they never end); the test starts two `gemma-bench serve
//     --port 0` servers itself and gives an example's endpoints, by the order of their ports, to them. An example
//     naming more than two endpoints is skipped, saying so (each server holds ~1 GB).
//   - Placeholders: SWEEP_ID is replaced by the id the last sweep example printed; `/tmp/` by the test's
//     temporary directory.
//   - Every example must exit 0, except where its trailing comment says `# exits N`: then it must exit N.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLI } from '../helpers/cli-run.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { commentStart, mentionsGemmaBench, readReadme, shellCommands, type Command } from './readme.js';

const SERVERS = 2;
const EXIT_SKIP = 77;

/** Whether (and why not) the test runs a README command. */
function runRule(c: Command): { run: true; expectExit: number } | { run: false; why: string } {
  if (!mentionsGemmaBench(c.text)) return { run: false, why: 'does not run gemma-bench' };
  if (/^GPU\b/.test(c.comment)) return { run: false, why: 'needs a GPU (its comment says so)' };
  const code = commentStart(c.text) < 0 ? c.text : c.text.slice(0, commentStart(c.text));
  if (/gemma-bench serve\b/.test(code)) return { run: false, why: 'a server: the test starts its own' };
  const exits = /(?:^|\s)exits (\d+)\b/.exec(c.comment);
  return { run: true, expectExit: exits ? Number(exits[1]) : 0 };
}

// The wrapper standing in for `gemma-bench`: maps endpoints to the test's servers, adds the small request counts.
const WRAPPER = `
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
const args = process.argv.slice(2);
const servers = (process.env.README_TEST_SERVERS || '').split(',').filter(Boolean);
const ports = new Map();
for (let i = 0; i < args.length - 1; i++) {
  if (args[i] !== '--endpoint') continue;
  const m = /^http:\\/\\/(?:127\\.0\\.0\\.1|localhost):(\\d+)/.exec(args[i + 1]);
  if (!m) continue;
  if (!ports.has(m[1])) ports.set(m[1], servers[ports.size]);
  if (ports.get(m[1]) === undefined) {
    process.stderr.write('skipped: this example names ' + ports.size + '+ endpoints; the test starts ' + servers.length + ' servers\\n');
    process.exit(${EXIT_SKIP});
  }
  args[i + 1] = args[i + 1].replace(/^http:\\/\\/[^/]+/, ports.get(m[1]));
}
if (args[0] === 'run' || args[0] === 'sweep') {
  args.push(...(args.includes('--duration') ? ['--duration', '2'] : ['--requests', '2']), '--max-new-tokens', '2', '--warmup', '0');
}
appendFileSync(process.env.README_TEST_LOG, JSON.stringify(args) + '\\n');
const r = spawnSync(process.execPath, [${JSON.stringify(CLI)}, ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
`;

const work = mkdtempSync(join(tmpdir(), 'gb-readme-examples-'));
const cwd = join(work, 'cwd');
const bin = join(work, 'bin');
const home = join(work, 'home');
const log = join(work, 'invocations.ndjson');
const servers: ChildProcess[] = [];
let serverUrls: string[] = [];

function setUp(): void {
  mkdirSync(cwd);
  mkdirSync(bin);
  symlinkSync(join(REPO_ROOT, 'examples'), join(cwd, 'examples'));
  writeFileSync(join(work, 'wrapper.mjs'), WRAPPER);
  writeFileSync(join(bin, 'gemma-bench'), `#!/bin/sh\nexec '${process.execPath}' '${join(work, 'wrapper.mjs')}' "$@"\n`);
  writeFileSync(join(bin, 'npx'), '#!/bin/sh\nif [ "$1" = gemma-bench ]; then shift; exec gemma-bench "$@"; fi\necho "npx is stubbed in this test" >&2\nexit 127\n');
  chmodSync(join(bin, 'gemma-bench'), 0o755);
  chmodSync(join(bin, 'npx'), 0o755);
}

const env = (): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}`, GEMMA_BENCH_HOME: home, README_TEST_LOG: log, README_TEST_SERVERS: serverUrls.join(','), COLUMNS: '160' };
  delete e.GEMMA_BENCH_PYTHON;
  return e;
};

/** `gemma-bench serve --port 0 --json`: resolves with its URL once it listens. */
function startServer(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--json', '--threads', '1'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    servers.push(child);
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start within 60 s: ${err}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

const commands = shellCommands(readReadme());

before(async () => {
  setUp();
  // The built-in model is built once, before the servers start (two builds at once would race for its folder).
  const made = spawnSync(process.execPath, [CLI, 'infer', join(REPO_ROOT, 'examples', 'receipt.png'), '--max-new-tokens', '1', '--json'], { env: env(), encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  if (commands.some((c) => runRule(c).run && /--endpoint\b/.test(c.text))) {
    serverUrls = await Promise.all(Array.from({ length: SERVERS }, () => startServer()));
  }
});

after(() => {
  for (const s of servers) s.kill('SIGTERM');
});

test('the README has examples to run, and the rules leave most of them in', () => {
  const ran = commands.filter((c) => runRule(c).run);
  assert.ok(ran.length >= 10, `only ${ran.length} runnable examples found`);
});

let lastSweepId: string | null = null;

for (const c of commands) {
  const rule = runRule(c);
  const name = `README line ${c.line}: ${c.text.length > 110 ? c.text.slice(0, 107) + '...' : c.text}`;
  if (!rule.run) {
    if (mentionsGemmaBench(c.text)) test(name, { skip: rule.why }, () => {});
    continue;
  }
  test(name, { timeout: 120_000 }, (t) => {
    let text = c.text.replace(/(^|\s)\/tmp\//g, `$1${work}/`);
    if (/\bSWEEP_ID\b/.test(text)) {
      assert.ok(lastSweepId, 'SWEEP_ID: no earlier example ran a sweep');
      text = text.replace(/\bSWEEP_ID\b/g, lastSweepId);
    }
    const r = spawnSync('bash', ['-c', text], { cwd, env: env(), encoding: 'utf8', timeout: 110_000 });
    if (r.status === EXIT_SKIP && /^skipped: /m.test(r.stderr)) {
      t.skip(r.stderr.trim());
      return;
    }
    const sweep = /^sweep (sweep-[\w-]+):/m.exec(r.stdout);
    if (sweep) lastSweepId = sweep[1];
    assert.equal(r.status, rule.expectExit, `exit ${r.status} (expected ${rule.expectExit}) for: ${text}\nstdout:\n${r.stdout.slice(-3000)}\nstderr:\n${r.stderr.slice(-3000)}`);
  });
}

test('every example that ran reached gemma-bench with the small request counts', () => {
  assert.ok(existsSync(log), 'no example ran gemma-bench');
  const calls = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
  for (const a of calls.filter((x) => x[0] === 'run' || x[0] === 'sweep')) assert.ok(a.includes('--max-new-tokens'), a.join(' '));
});
