import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CSV_COLUMNS, runToJson } from '../../../src/report/export.js';
import { runIntervals } from '../../../src/report/intervals.js';
import { renderRunText } from '../../../src/cli/commands/runs.js';
import { fmtMs } from '../../../src/report/format.js';
import { fakeRun } from '../../helpers/fake-run.js';
import { CLI, homeWith } from '../../helpers/cli-run.js';

const A = '20261125-140000-balanced-aaaa';
const B = '20261125-150000-doc-centric-bbbb';
const GROUP = '20261125-160000-sweep-cccc';

const sweep = [0, 1, 2].map((i) =>
  fakeRun({
    id: `${GROUP}-p${i}`,
    name: 'sweep',
    startedAt: `2026-11-25T16:00:0${i}.000Z`,
    seed: 20 + i,
    latencyScale: 1 + 0.25 * i,
    panScan: { maxNumCrops: 2 + 2 * i },
    group: { id: GROUP, kind: 'sweep', point: { 'max-crops': 2 + 2 * i }, index: i, total: 3 },
  }),
);
const runA = fakeRun({ id: A, name: 'balanced', startedAt: '2026-11-25T14:00:00.000Z', failed: 2 });
const runB = fakeRun({ id: B, name: 'doc-centric', startedAt: '2026-11-25T15:00:00.000Z', seed: 7, latencyScale: 1.4 });

async function store() {
  const h = await homeWith([runA, runB, ...sweep]);
  writeFileSync(join(h.dir, '20261125-120000-broken-dddd.json'), '{"schemaVersion": 1, "id": "20261125-1200');
  return h;
}

test('runs list: a table newest first, unreadable files named after it; bare `runs` lists too', async () => {
  const h = await store();
  const r = h.cli(['runs', 'list']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0], /^ID +NAME +STATUS +STARTED +PRESET +BACKEND +MODEL +OK\/FAIL +THROUGHPUT +E2E P50 +E2E P95 +TTFT P50 +OUTPUT +SWEEP$/);
  const order = [`${GROUP}-p2`, `${GROUP}-p1`, `${GROUP}-p0`, B, A];
  assert.deepEqual(lines.slice(1, 6).map((l) => l.split(/ +/)[0]), order);
  assert.match(lines[5], new RegExp(`^${A} +balanced +completed .* gemma3-tiny, random weights: speed only +22/2 +[0-9.]+ req/s +[0-9.]+ ms`));
  assert.match(lines[1], /max-crops=6\]$/);
  assert.match(r.stdout, /unreadable: .*20261125-120000-broken-dddd\.json: not valid JSON/);
  assert.equal(h.cli(['runs']).stdout, r.stdout);
});

test('runs list --json: the documented shape', async () => {
  const h = await store();
  const r = h.cli(['runs', 'list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.runsDir, h.dir);
  assert.equal(out.runs.length, 6);
  const a = out.runs.find((e: { id?: string }) => e.id === A);
  assert.deepEqual(Object.keys(a), ['ok', 'id', 'file', 'name', 'status', 'startedAt', 'presetName', 'backend', 'modelLabel', 'group', 'headline']);
  assert.deepEqual(a.headline, {
    completed: 22,
    failed: 2,
    throughputReqS: runA.summary.throughputReqS,
    e2eP50Ms: runA.summary.metrics.e2eMs.p50,
    e2eP95Ms: runA.summary.metrics.e2eMs.p95,
    ttftP50Ms: runA.summary.metrics.ttftMs.p50,
    outputTokensPerS: runA.summary.outputTokensPerS,
  });
  const bad = out.runs.filter((e: { ok: boolean }) => !e.ok);
  assert.equal(bad.length, 1);
  assert.deepEqual(Object.keys(bad[0]), ['ok', 'file', 'error']);
  assert.equal(out.runs.find((e: { id?: string }) => e.id === `${GROUP}-p1`).group.point['max-crops'], 4);
});

test('runs list on an empty store says so', async () => {
  const h = await homeWith([]);
  const r = h.cli(['runs', 'list']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^No saved runs in .* yet\.$/m);
  assert.deepEqual(JSON.parse(h.cli(['runs', 'list', '--json']).stdout).runs, []);
});

test('runs show: text report by unique prefix; --json is the run as saved (readable layout); latest', async () => {
  const h = await store();
  const r = h.cli(['runs', 'show', '20261125-14']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Run ${A}: balanced \\(completed\\)`));
  assert.match(r.stdout, /Model: +gemma3-tiny, random weights: speed only/);
  assert.match(r.stdout, /Requests: +22 completed, 2 failed, 0 cancelled, 2 warmup/);
  assert.match(r.stdout, /^METRIC +COUNT +P50 +P90 +P95 +P99 +MEAN +MIN +MAX$/m);
  assert.match(r.stdout, /^E2E latency +22 +[0-9.]+ ms/m);
  assert.match(r.stdout, /^ITL +330 /m);
  assert.match(r.stdout, /request \d+ failed: replica 0: worker exited with code 137/);
  const j = h.cli(['runs', 'show', A, '--json']);
  assert.equal(j.code, 0);
  assert.deepEqual(JSON.parse(j.stdout), JSON.parse(readFileSync(join(h.dir, `${A}.json`), 'utf8')));
  assert.equal(j.stdout, runToJson(JSON.parse(readFileSync(join(h.dir, `${A}.json`), 'utf8'))), 'pretty-printed for people');
  assert.deepEqual(JSON.parse(j.stdout), JSON.parse(runToJson(runA)));
  assert.match(h.cli(['runs', 'show', 'latest']).stdout, new RegExp(`^Run ${GROUP}-p2`));
});

test('runs show: peak GPU memory per replica and GPU where the backend measured it, no line otherwise', () => {
  assert.doesNotMatch(renderRunText(runA), /Peak GPU memory/);
  const text = renderRunText(fakeRun({ replicas: 2, requests: 10, peakMemory: true }));
  assert.match(text, /^Peak GPU memory \(torch max_memory_allocated \(reserved\), reset before each micro-batch; the highest batch of the run\):$/m);
  assert.match(text, /^ {2}replica 0: GPU 0 19\.6 GiB \(reserved 21\.6\), GPU 1 17\.7 GiB \(reserved 19\.6\)$/m);
  assert.match(text, /^ {2}replica 1: GPU 2 19\.6 GiB \(reserved 21\.6\), GPU 3 17\.7 GiB \(reserved 19\.6\)$/m);
});

test('runs show: 95% intervals of every latency statistic and of the rates; a drifting run gets the steady note', () => {
  const r = fakeRun({ requests: 40 });
  const text = renderRunText(r);
  assert.match(text, /^ {11}95% intervals: throughput [\d.]+–[\d.]+ req\/s, output [\d.]+–[\d.]+ tok\/s, per request [\d.]+–[\d.]+ tok\/s$/m);
  assert.match(text, /^95% intervals \(ms\), from 40 completed requests \(seeded bootstrap, 1000 resamples\):\nMETRIC +P50 +P90 +P95 +P99 +MEAN$/m);
  const e2e = /^E2E latency +([\d.]+)–([\d.]+) /m.exec(text.slice(text.indexOf('95% intervals (ms)')));
  assert.ok(e2e, text);
  const p50 = r.summary.metrics.e2eMs.p50!;
  assert.ok(Number(e2e[1]) <= p50 * 1.001 && p50 <= Number(e2e[2]) * 1.001, `${p50} in ${e2e[0]}`);
  assert.doesNotMatch(text, /not steady/);
  const drifting = { ...r, requests: r.requests.map((q, i) => (q.e2eMs === null ? q : { ...q, e2eMs: q.e2eMs * (1 + i / 10), finishedAtMs: q.enqueuedAtMs + q.e2eMs * (1 + i / 10) })) };
  assert.match(renderRunText(drifting), /^Notes:\n {2}- not steady: more warmup or a longer run \(E2E median drifted \+/m);
});

test('runs show GROUP of repeats: min / median / max of the headline numbers across the repeats', async () => {
  const id = 'repeat-20261125-150000-abcd';
  const reps = [1, 1.2, 1.1].map((scale, index) =>
    fakeRun({ id: `20261125-15000${index}-balanced-r${index}`, seed: 5 + index, latencyScale: scale, group: { id, kind: 'repeat', point: {}, index, total: 3, repeat: { index, total: 3, orderSeed: index } } }),
  );
  const h = await homeWith(reps);
  const r = h.cli(['runs', 'show', id]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith(`Repeat group ${id}: 3 of 3 repeats of balanced\n  1. 20261125-150000-balanced-r0 (completed, `), r.stdout);
  assert.match(r.stdout, /^METRIC +MIN +MEDIAN +MAX$/m);
  const e2e = reps.map((x) => x.summary.metrics.e2eMs.p50!).sort((a, b) => a - b);
  const line = r.stdout.split('\n').find((l) => l.startsWith('E2E p50'))!;
  assert.deepEqual(line.trim().split(/ {2,}/).slice(1), e2e.map((v) => fmtMs(v)));
  // A run of the group says which repeat it is.
  assert.match(h.cli(['runs', 'show', reps[1].id]).stdout, new RegExp(`^Repeat 2/3 of group ${id}$`, 'm'));
});

test('runs show: unknown, ambiguous, missing id, group id (exit 2); unreadable file (exit 1)', async () => {
  const h = await store();
  let r = h.cli(['runs', 'show', 'nope']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /gemma-bench runs: no saved run "nope" in .*`gemma-bench runs list` shows the saved runs/);
  r = h.cli(['runs', 'show', '20261125-1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /"20261125-1" matches 6 runs; give more of the id:\n {2}20261125-160000-sweep-cccc-p2/);
  r = h.cli(['runs', 'show']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /runs show needs a run id/);
  r = h.cli(['runs', 'show', A, B]);
  assert.equal(r.code, 2);
  r = h.cli(['runs', 'show', GROUP]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /is a sweep group of 3 runs.*gemma-bench compare/s);
  r = h.cli(['runs', 'show', '20261125-12']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /run 20261125-120000-broken-dddd is unreadable: not valid JSON .*runs rm 20261125-120000-broken-dddd/);
  r = h.cli(['runs', 'show', A, '--bogus']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--bogus.*runs show --help/s);
});

test('runs export: json, csv and md to stdout; --out picks the format from the extension', async () => {
  const h = await store();
  const json = h.cli(['runs', 'export', A]);
  assert.equal(json.code, 0, json.stderr);
  // The run file as saved, plus its 95% intervals (computed on export, never saved).
  const exported = JSON.parse(json.stdout);
  const { intervals, ...asSaved } = exported;
  assert.deepEqual(asSaved, JSON.parse(runToJson(runA)));
  assert.deepEqual(intervals, JSON.parse(JSON.stringify(runIntervals(runA))));
  const p50 = intervals.latency.e2eMs.p50;
  assert.ok(p50[0] <= p50[1] && p50[0] > 0, JSON.stringify(p50));
  const csv = h.cli(['runs', 'export', A, B, '--format', 'csv']);
  assert.equal(csv.code, 0, csv.stderr);
  const lines = csv.stdout.trimEnd().split('\n');
  assert.equal(lines[0], CSV_COLUMNS.join(','));
  assert.equal(lines.length, 3);
  assert.ok(lines[1].startsWith(`${A},balanced,completed,balanced,onnx,"gemma3-tiny, random weights: speed only",2,6,448,true,22,2,`));
  const md = h.cli(['runs', 'export', A, '-f', 'md']);
  assert.equal(md.code, 0);
  assert.match(md.stdout, /^# gemma-bench run: balanced/);
  assert.match(md.stdout, /random weights: speed only/);
  assert.match(md.stdout, /\| Metric \(ms\) \| count \| p50 \| p90 \| p95 \| p99 \| mean \|/);

  const outDir = mkdtempSync(join(tmpdir(), 'gb-export-'));
  const out = join(outDir, 'report.csv');
  const toFile = h.cli(['runs', 'export', B, '--out', out]);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.equal(toFile.stdout, '');
  assert.match(toFile.stderr, /wrote 1 run as csv to .*report\.csv/);
  assert.ok(readFileSync(out, 'utf8').startsWith('run_id,name,status,'));
});

test('runs export: a sweep group id exports one CSV row per point, in grid order', async () => {
  const h = await store();
  const r = h.cli(['runs', 'export', GROUP]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(h.cli(['runs', 'export', GROUP, '--format', 'csv']).stdout, r.stdout, 'a sweep exports as CSV by default');
  const rows = r.stdout.trimEnd().split('\n').slice(1);
  assert.deepEqual(rows.map((l) => l.split(',')[0]), sweep.map((s) => s.id));
  const idx = CSV_COLUMNS.indexOf('max_crops');
  assert.deepEqual(rows.map((l) => l.replace(/"[^"]*"/g, 'Q').split(',')[idx]), ['2', '4', '6']);
  const json = JSON.parse(h.cli(['runs', 'export', GROUP, '--format', 'json']).stdout);
  assert.equal(json.length, 3);
});

test('runs export: bad format or unknown id is a usage error; an unwritable --out fails (exit 1)', async () => {
  const h = await store();
  let r = h.cli(['runs', 'export', A, '--format', 'xml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--format must be one of json, csv, md, html \(got "xml"\)/);
  r = h.cli(['runs', 'export']);
  assert.equal(r.code, 2);
  r = h.cli(['runs', 'export', 'nope', '--format', 'csv']);
  assert.equal(r.code, 2);
  r = h.cli(['runs', 'export', A, '--out', '/nonexistent-dir/x/report.md']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot write \/nonexistent-dir\/x\/report\.md: ENOENT\. Choose another --out path\./);
});

test('runs rm: refuses without --yes in a pipe; deletes with it; a group id deletes the sweep', async () => {
  const h = await store();
  let r = h.cli(['runs', 'rm', A]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /refusing to delete 1 run without --yes: stdin is not a terminal.*Add --yes/);
  assert.ok(existsSync(join(h.dir, `${A}.json`)));
  r = h.cli(['runs', 'rm', A, '--yes']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^deleted ${A} \\(`));
  assert.ok(!existsSync(join(h.dir, `${A}.json`)));
  r = h.cli(['runs', 'rm', A, '--yes']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no saved run/);
  r = h.cli(['runs', 'rm', '20261125-12', '-y']);
  assert.equal(r.code, 0, r.stderr);
  r = h.cli(['runs', 'rm', GROUP, '--yes']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trimEnd().split('\n').length, 3);
  assert.deepEqual(readdirSync(h.dir).filter((f) => !f.startsWith('.')), [`${B}.json`], 'only the listing cache (a dotfile) besides');
});

test('runs --help and each subcommand --help; unknown subcommand is a usage error', async () => {
  const h = await homeWith([]);
  const top = h.cli(['runs', '--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /^gemma-bench runs: list, show, export and delete saved runs/);
  assert.match(top.stdout, /runs list --json +\{"runsDir": string, "runs": \[entry\.\.\.\]\}/);
  for (const sub of ['list', 'show', 'export', 'rm']) {
    const r = h.cli(['runs', sub, '--help']);
    assert.equal(r.code, 0, sub);
    assert.match(r.stdout, new RegExp(`Usage: gemma-bench runs ${sub} `), sub);
  }
  assert.match(h.cli(['runs', 'export', '-h']).stdout, /--format json\|csv\|md/);
  const bad = h.cli(['runs', 'frobnicate']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown subcommand "runs frobnicate".*list, show, export, rm/);
});

test('runs rm on a terminal asks first: "n" keeps the run, "y" deletes it', async (t) => {
  // util-linux `script` gives the CLI a pseudo-terminal, so stdin.isTTY is true as for a person typing.
  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!hasScript) {
    t.skip('util-linux `script` is not installed, so no pseudo-terminal can be made for the prompt');
    return;
  }
  const h = await homeWith([runA, runB]);
  const onTty = (answer: string) =>
    spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} runs rm ${A}`, '/dev/null'], {
      encoding: 'utf8',
      input: `${answer}\n`,
      env: { ...process.env, GEMMA_BENCH_HOME: h.home },
    });
  let r = onTty('n');
  assert.equal(r.status, 0, r.stderr);
  // The terminal turns \n into \r\n and readline adds cursor escapes.
  r.stdout = r.stdout.replace(/\r/g, '');
  assert.match(r.stdout, new RegExp(`Delete 1 run from .*\\n {2}${A}\\n\\[y/N\\]`));
  assert.match(r.stdout, /nothing deleted/);
  assert.ok(existsSync(join(h.dir, `${A}.json`)));
  r = onTty('y');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`deleted ${A}`));
  assert.ok(!existsSync(join(h.dir, `${A}.json`)));
  assert.ok(existsSync(join(h.dir, `${B}.json`)));
});
