import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeRun } from '../../helpers/fake-run.js';
import { homeWith } from '../../helpers/cli-run.js';

const A = '20261125-140000-balanced-aaaa';
const B = '20261125-150000-doc-centric-bbbb';
const GROUP = '20261125-160000-sweep-cccc';

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
  const h = await homeWith([fakeRun({ id: A, name: 'balanced' }), fakeRun({ id: B, name: 'doc-centric', seed: 9, latencyScale: 1.5 }), ...sweep]);
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
  assert.deepEqual(Object.keys(m), ['baselineId', 'columns', 'rows', 'warnings']);
  assert.equal(m.baselineId, A);
  assert.deepEqual(m.columns.map((c: { id: string }) => c.id), [A, B]);
  assert.deepEqual(Object.keys(m.columns[0]), ['id', 'name', 'label', 'status', 'startedAt', 'preset', 'backend', 'model', 'groupId']);
  const e2e = m.rows.find((x: { key: string }) => x.key === 'e2e_p50');
  assert.deepEqual(Object.keys(e2e), ['key', 'label', 'unit', 'direction', 'cells']);
  assert.equal(e2e.direction, 'lower');
  assert.deepEqual(Object.keys(e2e.cells[0]), ['value', 'delta', 'deltaPct', 'best']);
  assert.equal(e2e.cells[0].delta, null);
  assert.ok(e2e.cells[1].deltaPct > 0);
  assert.deepEqual(e2e.cells.map((c: { best: boolean }) => c.best), [true, false]);
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
  assert.match(r.stderr, /compare needs at least two runs; .* names one/);
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
  assert.match(r.stdout, /"cells": \[\{"value","delta","deltaPct","best"\}/);
});

test('--goodput: compare adds goodput rows and runs show a goodput line; a bad SLO is a usage error', async () => {
  const h = await store();
  const c = h.cli(['compare', A, B, '--goodput', 'ttft:400,e2e:3000']);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /^Goodput \(TTFT <= 400 ms, E2E <= 3000 ms\) +[0-9.]+ req\/s/m);
  assert.match(c.stdout, /^Within SLO +[0-9.]+%/m);
  const s = h.cli(['runs', 'show', A, '--goodput', 'tpot:1000']);
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /^Goodput: +[0-9.]+ req\/s within TPOT <= 1000 ms: 24 of 24 finished measured requests \(100%\)$/m);
  const bad = h.cli(['compare', A, B, '--goodput', 'latency:5']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /"latency:5" is not an SLO; write it as ttft:MS,tpot:MS,e2e:MS/);
  const both = h.cli(['runs', 'show', A, '--goodput', 'ttft:1', '--json']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /drop --goodput, or drop --json/);
});
