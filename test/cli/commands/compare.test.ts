import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeRun } from '../../helpers/fake-run.js';
import { homeWith } from '../../helpers/cli-run.js';

const A = '20261125-140000-balanced-aaaa';
const B = '20261125-150000-doc-centric-bbbb';
const GROUP = '20261125-160000-sweep-cccc';

/** A repeat group of three runs, latencies scaled by `scale`. */
function repeats(id: string, scale: number) {
  return [0, 1, 2].map((index) =>
    fakeRun({ id: `${id}-r${index}`, name: id, seed: 50 + index, requests: 60, latencyScale: scale * (1 + 0.02 * index), group: { id, kind: 'repeat', point: {}, index, total: 3, repeat: { index, total: 3, orderSeed: index } } }),
  );
}

async function store() {
  const sweep = [2, 0, 1].map((i) =>
    fakeRun({
      id: `${GROUP}-p${i}`,
      name: 'sweep',
      seed: 30 + i,
      latencyScale: 1 + 0.3 * i,
      panScan: { maxNumCrops: 2 + 2 * i },
      group: { id: GROUP, kind: 'sweep', point: { 'max-crops': 2 + 2 * i }, index: i, total: 3 },
    }),
  );
  // 120 requests each, so that 1.5x slower is beyond noise on every row (compare marks only significant changes).
  const h = await homeWith([fakeRun({ id: A, name: 'balanced', requests: 120 }), fakeRun({ id: B, name: 'doc-centric', seed: 9, latencyScale: 1.5, requests: 120 }), ...sweep, ...repeats('repeat-fast', 1), ...repeats('repeat-slow', 1.5)]);
  writeFileSync(join(h.dir, '20261125-120000-broken-dddd.json'), 'garbage');
  return h;
}

test('compare two runs: side by side, deltas against the first, best marked', async () => {
  const h = await store();
  const r = h.cli(['compare', A, '20261125-15']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0], /balanced \(baseline\) +doc-centric$/);
  assert.match(lines[1], new RegExp(`${A} +${B}$`));
  // B is 1.5x slower: the baseline wins every latency row, B's deltas are positive.
  const e2e = lines.find((l) => l.startsWith('E2E p95'))!;
  assert.match(e2e, /^E2E p95 +[0-9.]+ ms\* +[0-9.]+ ms \(\+[0-9.]+%\)$/);
  const thr = lines.find((l) => l.startsWith('Throughput'))!;
  assert.match(thr, /req\/s\* +[0-9.]+ req\/s \(-[0-9.]+%\)$/);
  assert.match(r.stdout, new RegExp(`Deltas against ${A}\\.`));
  assert.match(r.stdout, /note: random weights: speed only/);
});

test('compare --json: the documented table model', async () => {
  const h = await store();
  const r = h.cli(['compare', A, B, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(m), ['baselineId', 'columns', 'rows', 'distributions', 'warnings']);
  assert.equal(m.baselineId, A);
  assert.deepEqual(m.columns.map((c: { id: string }) => c.id), [A, B]);
  assert.deepEqual(Object.keys(m.columns[0]), ['id', 'name', 'label', 'status', 'startedAt', 'preset', 'backend', 'model', 'groupId', 'runIds']);
  const e2e = m.rows.find((x: { key: string }) => x.key === 'e2e_p50');
  assert.deepEqual(Object.keys(e2e), ['key', 'label', 'unit', 'direction', 'cells']);
  assert.equal(e2e.direction, 'lower');
  assert.deepEqual(Object.keys(e2e.cells[0]), ['value', 'delta', 'deltaPct', 'best', 'ci95', 'significant', 'repeats']);
  assert.equal(e2e.cells[0].delta, null);
  assert.ok(e2e.cells[1].deltaPct > 0);
  assert.deepEqual(e2e.cells.map((c: { best: boolean }) => c.best), [true, false]);
  assert.deepEqual(e2e.cells.map((c: { significant: boolean | null }) => c.significant), [null, true]);
  // Every timing and rate cell has an interval holding its value.
  for (const row of m.rows) {
    if (!['ms', 'req/s', 'tok/s'].includes(row.unit)) continue;
    for (const c of row.cells) assert.ok(c.value === null || (c.ci95[0] <= c.value && c.value <= c.ci95[1]), `${row.key}: ${c.value} in ${c.ci95}`);
  }
  assert.deepEqual(m.distributions.map((d: { key: string }) => d.key), ['e2e', 'ttft']);
});

test('compare GROUP_ID: a sweep expands to its runs in grid order, labelled by point', async () => {
  const h = await store();
  const r = h.cli(['compare', GROUP, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  assert.deepEqual(m.columns.map((c: { id: string }) => c.id), [0, 1, 2].map((i) => `${GROUP}-p${i}`));
  assert.deepEqual(m.columns.map((c: { label: string }) => c.label), ['crops=2', 'crops=4', 'crops=6'], 'the varying grid values, short');
  const text = h.cli(['compare', GROUP]).stdout;
  assert.match(text.split('\n')[0], /crops=2 \(baseline\) +crops=4 +crops=6$/);
  // A run and a group mix: the group's runs follow the run.
  const mixed = JSON.parse(h.cli(['compare', A, GROUP, '--json']).stdout);
  assert.equal(mixed.columns.length, 4);
  assert.equal(mixed.baselineId, A);
});

test('compare errors: too few runs, unknown or ambiguous ids (exit 2), unreadable run (exit 1), --help', async () => {
  const h = await store();
  let r = h.cli(['compare', A]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /compare needs at least two columns; .* names one run/);
  r = h.cli(['compare', 'repeat-fast']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /names the group of 3 repeats\. Give another run or group id/);
  r = h.cli(['compare']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /compare needs two or more run ids, or one sweep group id/);
  r = h.cli(['compare', A, 'nope']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /gemma-bench compare: no saved run "nope"/);
  r = h.cli(['compare', A, '2026']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /matches \d+ runs/);
  r = h.cli(['compare', A, '20261125-12']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unreadable/);
  r = h.cli(['compare', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: gemma-bench compare ID ID\.\.\./);
  assert.match(r.stdout, /"cells": \[\{"value","delta","deltaPct","best",\n +"ci95": \[lo, hi\] \| null,/);
});

test('--goodput: compare adds goodput rows and runs show a goodput line; a bad SLO is a usage error', async () => {
  const h = await store();
  const c = h.cli(['compare', A, B, '--goodput', 'ttft:400,e2e:3000']);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /^Goodput \(TTFT <= 400 ms, E2E <= 3000 ms\) +[0-9.]+ req\/s/m);
  assert.match(c.stdout, /^Within SLO +[0-9.]+%/m);
  const s = h.cli(['runs', 'show', A, '--goodput', 'tpot:1000']);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /^Goodput: +[0-9.]+ req\/s within TPOT <= 1000 ms: 120 of 120 finished measured requests \(100%\)$/m);
  const bad = h.cli(['compare', A, B, '--goodput', 'latency:5']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /"latency:5" is not an SLO; write it as ttft:MS,tpot:MS,e2e:MS/);
  const both = h.cli(['runs', 'show', A, '--goodput', 'ttft:1', '--json']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /drop --goodput, or drop --json/);
});

test('compare --format md|csv|json [--out FILE]: the table as a file; text takes no --out', async () => {
  const h = await store();
  const md = h.cli(['compare', A, B, '--format', 'md']);
  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, /^\| Metric \| 1 balanced \(baseline\) \| 2 doc-centric \|\n\| --- \| ---: \| ---: \|\n\| E2E p50 \| /m);
  const csv = h.cli(['compare', A, B, '--format', 'csv']);
  assert.equal(csv.code, 0, csv.stderr);
  const rows = csv.stdout.trimEnd().split('\n');
  assert.equal(rows[0], `metric,label,unit,${A},${B}`);
  assert.match(rows[1], /^e2e_p50,E2E p50,ms,[\d.]+,[\d.]+$/);
  const out = join(h.home, 'cmp.json');
  const j = h.cli(['compare', A, B, '--format', 'json', '--out', out]);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(j.stdout.trim(), out);
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).baselineId, A);
  // Without --format the extension says it.
  const md2 = join(h.home, 'cmp.md');
  assert.equal(h.cli(['compare', A, B, '--out', md2]).code, 0);
  assert.match(readFileSync(md2, 'utf8'), /^\| Metric \| /m);
  const bad = h.cli(['compare', A, B, '--format', 'text', '--out', out]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--out is for --format md, csv, json or html/);
  const wrong = h.cli(['compare', A, B, '--format', 'xml']);
  assert.equal(wrong.code, 2);
});

test('compare GROUP_A GROUP_B of repeat groups: two columns, the median of each group\'s repeats, the spread in the verdict', async () => {
  const h = await store();
  const r = h.cli(['compare', 'repeat-fast', 'repeat-slow', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  assert.deepEqual(m.columns.map((c: { id: string; runIds: string[] }) => [c.id, c.runIds.length]), [['repeat-fast', 3], ['repeat-slow', 3]]);
  const e2e = m.rows.find((x: { key: string }) => x.key === 'e2e_p50');
  assert.deepEqual(e2e.cells.map((c: { repeats: { count: number } }) => c.repeats.count), [3, 3]);
  assert.equal(e2e.cells[1].significant, true, '1.5x slower in every repeat');
  assert.ok(m.warnings.some((w: string) => /columns of repeats/.test(w)));
  const text = h.cli(['compare', 'repeat-fast', 'repeat-slow']);
  assert.match(text.stdout.split('\n')[0], /repeat-fast ×3 \(baseline\) +repeat-slow ×3$/);
  const html = h.cli(['compare', 'repeat-fast', 'repeat-slow', '--format', 'html']);
  assert.equal(html.code, 2);
  assert.match(html.stderr, /--format html compares single runs, not groups of repeats/);
});
