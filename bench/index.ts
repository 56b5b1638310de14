// `npm run bench`: every benchmark in one go, each in its own process so none disturbs another's JIT or memory.
// Prints one JSON object with every result. Numbers depend on the machine and its load: compare ratios within
// one run, not across machines.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES: Array<[string, string[]]> = [
  ['panscan', ['--reps', '11']],
  ['float16', []],
  ['harness', []],
  ['tiny-model', []],
  ['http', ['64', '5', 'node-http,fetch']],
  ['http-serve', []],
  ['bootstrap', []],
];

const results: Record<string, unknown> = {};
for (const [name, args] of BENCHES) {
  process.stderr.write(`bench ${name} ...\n`);
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(`./${name}.js`, import.meta.url)), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    results[name] = { error: `exited with ${r.status}` };
    continue;
  }
  // Most benchmarks print JSON; the HTTP ones print a human table.
  try {
    results[name] = JSON.parse(r.stdout);
  } catch {
    results[name] = { text: r.stdout.trim().split('\n') };
  }
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
