// End-to-end (issue 12): real runs of the built-in tiny model through the CLI, then `compare`. Two runs of one
// configuration (16 requests, 8 new tokens) are not called different on E2E p50; a run with 48 new tokens is.
// Every timing and rate cell of `compare --json` has a 95% interval holding its value; --format md prints a
// Markdown table and --format csv one row per metric, one column per run.
//
// How the runs are made so that the verdicts measure what they claim, on a shared 2-core machine where this file
// runs beside another test file:
// - Within-run intervals cannot see noise that shifts a whole run (that is what --repeat is for): one after the
//   other, two like runs here differed by 25-40% in E2E p50 with the load average at 5-7; side by side but free to
//   move between cores, one got 12% less CPU than the other while another test file ran (a CI failure). So the two
//   like runs share one core (taskset), where the scheduler splits it evenly between them, and the 48-token run
//   shares the other core with a twin, so it too runs on half a core all along.
// - Concurrency 1 and pan-and-scan off: every request is the same work (one image entry, no queueing), so E2E p50
//   moves with the new tokens, not with which of the synthetic images' 0-4 crops the median happened to land on.
//   With the balanced preset's mixed crops the interval of a 16-request median spanned 2.5x and 48 tokens hid in it.
// - A first tiny run builds the model and the synthetic set, so the runs do not race to build them.
// Measured here (like-a, like-b, 48 tokens; E2E p50 ms [95% interval]), 8 tries beside one or two busy processes:
// like runs never called different, the 48-token run always, e.g. 364 [342, 416] | 359 [340, 387] | 1151 [1082, 1332].
// Without taskset (or with one core) the runs go side by side unpinned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompareModel } from '../../src/report/compare.js';
import { CLI } from '../helpers/cli-run.js';

const home = mkdtempSync(join(tmpdir(), 'gb-cmp-'));
const env = { ...process.env, GEMMA_BENCH_HOME: home, GEMMA_BENCH_DEBUG: '' };
const RUN_TIMEOUT_MS = 240_000;

const PIN = spawnSync('taskset', ['--version']).status === 0 && availableParallelism() >= 2;

/** The CLI; with `cpu`, pinned to that core when taskset is there. */
function cli(args: readonly string[], cpu?: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [cmd, argv] = PIN && cpu !== undefined ? ['taskset', ['-c', String(cpu), process.execPath, CLI, ...args]] : [process.execPath, [CLI, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env, cwd: home, stdio: ['ignore', 'pipe', 'pipe'], timeout: RUN_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const RUN = ['run', '--requests', '16', '--concurrency', '1', '--pan-and-scan', 'off', '--no-tui', '--no-telemetry', '--threads', '1'];

async function runNamed(name: string, tokens: number, cpu: number): Promise<string> {
  const r = await cli([...RUN, '--max-new-tokens', String(tokens), '--name', name], cpu);
  assert.equal(r.code, 0, r.stderr);
  const file = readdirSync(join(home, 'runs')).find((f) => f.includes(`-${name}-`));
  assert.ok(file, `the run ${name} was saved`);
  return file.replace(/\.json$/, '');
}

test('compare: two like runs are within noise on E2E p50, a 48-token run is not; intervals hold their values; md and csv', { timeout: 4 * RUN_TIMEOUT_MS }, async (t) => {
  const prep = await cli(['run', '--requests', '1', '--warmup', '0', '--max-new-tokens', '1', '--no-tui', '--no-telemetry', '--name', 'prep']);
  assert.equal(prep.code, 0, prep.stderr);
  t.diagnostic(PIN ? 'like runs pinned to core 0, the 48-token runs to core 1' : 'taskset or a second core missing: the runs are not pinned');
  const [a, b, c] = await Promise.all([runNamed('like-a', 8, 0), runNamed('like-b', 8, 0), runNamed('longer', 48, 1), runNamed('twin48', 48, 1)]);

  const r = await cli(['compare', a, b, c, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout) as CompareModel;
  assert.deepEqual(m.columns.map((x) => x.id), [a, b, c]);
  const e2e = m.rows.find((x) => x.key === 'e2e_p50')!;
  t.diagnostic(`E2E p50: ${e2e.cells.map((x, i) => `${m.columns[i].name} ${x.value?.toFixed(0)} ms [${x.ci95?.map((v) => v.toFixed(0)).join(', ')}] significant ${x.significant}`).join('; ')}`);
  assert.equal(e2e.cells[0].significant, null, 'the baseline has no verdict');
  assert.equal(e2e.cells[1].significant, false, 'two runs of one configuration are not called different');
  assert.equal(e2e.cells[2].significant, true, 'six times the new tokens is a real difference');
  assert.ok(e2e.cells[2].value! > e2e.cells[0].value!);
  assert.ok(!e2e.cells[1].best, 'no best mark within noise');

  let cells = 0;
  for (const row of m.rows) {
    if (!['ms', 'req/s', 'tok/s'].includes(row.unit)) continue;
    for (const cell of row.cells) {
      if (cell.value === null) continue;
      assert.ok(cell.ci95, `${row.key} has ci95`);
      assert.ok(cell.ci95[0] <= cell.value && cell.value <= cell.ci95[1], `${row.key}: ${cell.value} in [${cell.ci95}]`);
      cells++;
    }
  }
  assert.ok(cells >= 30, `${cells} timing and rate cells checked`);

  const text = await cli(['compare', a, b]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^E2E p50 .* ≈$/m);

  const md = await cli(['compare', a, b, c, '--format', 'md']);
  assert.equal(md.code, 0, md.stderr);
  const lines = md.stdout.split('\n');
  const head = lines.findIndex((l) => l.startsWith('| Metric |'));
  assert.ok(head > 0, md.stdout);
  assert.equal(lines[head + 1], '| --- | ---: | ---: | ---: |');
  assert.match(lines.find((l) => l.startsWith('| E2E p50 |'))!, /≈ \| .* \(\+\d+(\.\d)?%\) \|$/);

  const csv = await cli(['compare', a, b, c, '--format', 'csv']);
  assert.equal(csv.code, 0, csv.stderr);
  const rows = csv.stdout.trimEnd().split('\n');
  assert.equal(rows[0], `metric,label,unit,${a},${b},${c}`);
  assert.equal(rows.length, 1 + m.rows.length);
  for (const l of rows.slice(1)) assert.equal(l.split(',').length, 6, l);
});
