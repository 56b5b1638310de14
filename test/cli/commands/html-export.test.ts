// `--format html` on `runs export` and `compare`: the page is written to --out or under exports/, its path printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeRun } from '../../helpers/fake-run.js';
import { homeWith } from '../../helpers/cli-run.js';
import { fakeSweep, SWEEP_ID } from '../../helpers/report-runs.js';

const A = '20261125-140000-balanced-aaaa';
const B = '20261125-150000-doc-centric-bbbb';

const store = () => homeWith([fakeRun({ id: A, name: 'balanced' }), fakeRun({ id: B, name: 'doc-centric', seed: 9, latencyScale: 1.5 }), ...fakeSweep({ requests: 12 })]);

/** The report kind a page says it is, from its data. */
const kindOf = (file: string) => {
  const html = readFileSync(file, 'utf8');
  assert.match(html, /^<!DOCTYPE html>/);
  return /"kind":"(run|compare|sweep)"/.exec(html)?.[1];
};

test('runs export --format html: a run\'s report, to --out or under exports/, the path printed on stdout', async () => {
  const h = await store();
  const out = join(mkdtempSync(join(tmpdir(), 'gb-html-')), 'run.html');
  let r = h.cli(['runs', 'export', A, '--format', 'html', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${out}\n`);
  assert.equal(kindOf(out), 'run');
  // The format follows from --out's extension too; without --out the page goes under exports/.
  r = h.cli(['runs', 'export', B, '--out', join(h.home, 'b.htm')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(kindOf(join(h.home, 'b.htm')), 'run');
  r = h.cli(['runs', 'export', A, '--format', 'html']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${join(h.home, 'exports', `${A}.html`)}\n`);
  assert.ok(existsSync(r.stdout.trim()));
  // A sweep's group id: the sweep's report, named after it.
  r = h.cli(['runs', 'export', SWEEP_ID, '--format', 'html']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${join(h.home, 'exports', `${SWEEP_ID}.html`)}\n`);
  assert.equal(kindOf(r.stdout.trim()), 'sweep');
  // Several runs: their comparison.
  r = h.cli(['runs', 'export', A, B, '--format', 'html']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /exports\/\d{8}-\d{6}-compare-2-runs\.html\n$/);
  assert.equal(kindOf(r.stdout.trim()), 'compare');
});

test('compare --format html: the comparison, or a sweep\'s report for its group id; --out picks the file', async () => {
  const h = await store();
  let r = h.cli(['compare', A, B, '--format', 'html']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(kindOf(r.stdout.trim()), 'compare');
  const out = join(h.home, 'sweep.html');
  r = h.cli(['compare', SWEEP_ID, '--format', 'html', '--out', out, '--goodput', 'e2e:400']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${out}\n`);
  assert.equal(kindOf(out), 'sweep');
  assert.match(readFileSync(out, 'utf8'), /Goodput \(E2E &lt;= 400 ms\)/);
  // --format json is --json; text stays the default.
  assert.deepEqual(JSON.parse(h.cli(['compare', A, B, '--format', 'json']).stdout), JSON.parse(h.cli(['compare', A, B, '--json']).stdout));
  assert.match(h.cli(['compare', A, B]).stdout, /\(baseline\)/);
});

test('html: conflicting or misplaced flags are usage errors (2); an unwritable --out fails (1)', async () => {
  const h = await store();
  let r = h.cli(['compare', A, B, '--json', '--format', 'html']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--json and --format html disagree/);
  r = h.cli(['compare', A, B, '--out', 'x.txt']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--out is for --format md, csv, json or html/);
  r = h.cli(['compare', A, B, '--format', 'text', '--out', 'x.html']);
  assert.equal(r.code, 2);
  r = h.cli(['compare', A, B, '--format', 'pdf']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--format must be one of text, md, csv, json, html/);
  // A file where a folder should be.
  writeFileSync(join(h.home, 'a-file'), '');
  r = h.cli(['runs', 'export', A, '--format', 'html', '--out', join(h.home, 'a-file', 'report.html')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot write .*\/a-file\/report\.html: .*\((?:ENOTDIR|EEXIST)\)\. Choose another --out path\./);
});
