import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CSV_COLUMNS,
  csvField,
  MARKDOWN_SECTIONS,
  MD_FAILED_SHOWN_MAX,
  mdEnvironment,
  mdHeader,
  mdIntervals,
  mdNotes,
  mdPeakMemory,
  mdPerReplica,
  mdSettings,
  mdSummary,
  mdWorkload,
  runsToCsv,
  runsToJson,
  runToJson,
  runToMarkdown,
} from '../../src/report/export.js';
import { csvFields } from '../helpers/csv.js';
import { fakeRun } from '../helpers/fake-run.js';

/** A small RFC 4180 parser, to check the CSV reads back as written. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  assert.equal(field, '', 'text ends with a newline');
  return rows;
}

const REQUIRED = 'run_id,name,status,preset,backend,model,min_ratio,max_crops,min_crop_size,pan_and_scan,requests_completed,requests_failed,latency_p50_ms,latency_p90_ms,latency_p95_ms,latency_p99_ms,ttft_p50_ms,ttft_p95_ms,tpot_p50_ms,itl_p50_ms,throughput_req_s,output_tokens_per_s,tokens_per_s_mean'.split(',');

test('CSV: the required columns first, in order, one row per run, values from the summary', () => {
  const a = fakeRun({ id: '20261125-140000-a-0001', failed: 3 });
  const b = fakeRun({ id: '20261125-150000-b-0002', seed: 5, panScan: { enabled: false } });
  const rows = parseCsv(runsToCsv([a, b]));
  assert.deepEqual(rows[0].slice(0, REQUIRED.length), REQUIRED);
  assert.deepEqual(rows[0], CSV_COLUMNS);
  assert.equal(rows.length, 3);
  for (const r of rows) assert.equal(r.length, CSV_COLUMNS.length);
  const col = (r: string[], name: string) => r[CSV_COLUMNS.indexOf(name as (typeof CSV_COLUMNS)[number])];
  const ra = rows[1];
  assert.equal(col(ra, 'run_id'), a.id);
  assert.equal(col(ra, 'model'), 'gemma3-tiny, random weights: speed only');
  assert.equal(col(ra, 'requests_completed'), String(a.summary.completed));
  assert.equal(col(ra, 'requests_failed'), '3');
  assert.equal(Number(col(ra, 'latency_p50_ms')), Number(a.summary.metrics.e2eMs.p50!.toFixed(3)));
  assert.equal(Number(col(ra, 'latency_p99_ms')), Number(a.summary.metrics.e2eMs.p99!.toFixed(3)));
  assert.equal(Number(col(ra, 'ttft_p95_ms')), Number(a.summary.metrics.ttftMs.p95!.toFixed(3)));
  assert.equal(Number(col(ra, 'itl_p50_ms')), Number(a.summary.metrics.itlMs.p50!.toFixed(3)));
  assert.equal(Number(col(ra, 'throughput_req_s')), Number(a.summary.throughputReqS!.toFixed(3)));
  assert.equal(Number(col(ra, 'tokens_per_s_mean')), Number(a.summary.tokensPerSMean!.toFixed(3)));
  assert.equal(col(ra, 'min_ratio'), '2');
  assert.equal(col(ra, 'max_crops'), '6');
  assert.equal(col(ra, 'min_crop_size'), '448');
  assert.equal(col(ra, 'pan_and_scan'), 'true');
  assert.equal(col(rows[2], 'pan_and_scan'), 'false');
  assert.equal(col(ra, 'group_id'), '', 'null is an empty field');
  assert.equal(col(ra, 'rate_rps'), '');
});

test('CSV quoting: commas, quotes, newlines and edge spaces survive a round trip', () => {
  const nasty = 'run, "quoted"\nsecond line';
  const r = fakeRun({ id: '20261125-140000-q-0001', name: nasty });
  const text = runsToCsv([r]);
  assert.ok(text.includes('"run, ""quoted""\nsecond line"'));
  const rows = parseCsv(text);
  assert.equal(rows.length, 2);
  assert.equal(rows[1][CSV_COLUMNS.indexOf('name')], nasty);
  assert.equal(csvField(' lead'), '" lead"');
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField(null), '');
  assert.equal(csvField(1.5), '1.5');
  assert.equal(runsToCsv([]), CSV_COLUMNS.join(',') + '\n');
});

test('CSV: sweep points carry their group and point', () => {
  const runs = [0, 1].map((i) =>
    fakeRun({ id: `20261125-160000-sweep-000${i}`, seed: i + 1, panScan: { maxNumCrops: 2 + 2 * i }, group: { id: 'sweep-1', kind: 'sweep', point: { 'max-crops': 2 + 2 * i, 'min-ratio': 1.5 }, index: i, total: 2 } }),
  );
  const rows = parseCsv(runsToCsv(runs));
  const i = (n: string) => CSV_COLUMNS.indexOf(n as (typeof CSV_COLUMNS)[number]);
  assert.deepEqual(rows.slice(1).map((r) => [r[i('group_id')], r[i('sweep_index')], r[i('sweep_point')], r[i('max_crops')]]), [
    ['sweep-1', '0', 'max-crops=2 min-ratio=1.5', '2'],
    ['sweep-1', '1', 'max-crops=4 min-ratio=1.5', '4'],
  ]);
});

test('JSON: round-trips exactly; arrays of numbers sit on one line', () => {
  const r = fakeRun({ failed: 1, replicas: 2, notes: ['a note with "quotes", [brackets]\nand a newline'] });
  const text = runToJson(r);
  assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(r)));
  assert.ok(text.endsWith('\n'));
  assert.match(text, /"tokenTimesMs": \[[0-9.e-]+(, [0-9.e-]+){15}\]/);
  assert.ok(text.split('\n').length < 1500, `compact layout (${text.split('\n').length} lines)`);
  const many = runsToJson([r, fakeRun({ seed: 2 })]);
  const parsed = JSON.parse(many);
  assert.equal(parsed.length, 2);
  assert.deepEqual(parsed[0], JSON.parse(JSON.stringify(r)));
  assert.deepEqual(JSON.parse(runsToJson([])), []);
});

test('Markdown: the model label with "random weights: speed only", settings, the latency table, replicas, notes', () => {
  const r = fakeRun({ failed: 2, replicas: 2, notes: ['replica 1 died: worker exited | code 137'], diedReplica: { replica: 1, reason: 'worker exited with code 137' } });
  const text = runToMarkdown(r);
  assert.match(text, /^# gemma-bench run: balanced$/m);
  assert.match(text, /\| Model \| gemma3-tiny, random weights: speed only \|/);
  assert.match(text, /random weights: speed only/);
  assert.match(text, /\| Pan-and-scan \| on: min ratio 2, max crops 6, min crop size 448 px \|/);
  assert.match(text, /^\| Metric \(ms\) \| count \| p50 \| p90 \| p95 \| p99 \| mean \| min \| max \|$/m);
  for (const label of ['E2E latency', 'TTFT', 'TPOT', 'ITL', 'Queue', 'Preprocess', 'Vision']) assert.match(text, new RegExp(`^\\| ${label} \\| \\d+ \\| [0-9.]+ \\|`, 'm'), label);
  assert.match(text, /^## Per replica$/m);
  assert.match(text, /\| 1 \| cuda:2, cuda:3 \| .* \| died: worker exited with code 137 \|$/m);
  assert.match(text, /- replica 1 died: worker exited \| code 137/);
  assert.match(text, /Request \d+ failed: replica \d: worker exited with code 137/);
  assert.match(text, /2 failed/);

  const real = fakeRun({ randomWeights: false });
  const realText = runToMarkdown(real);
  assert.doesNotMatch(realText, /random weights/);
  assert.match(realText, /\| Model \| gemma-3-4b-it \(onnx-community, q4\) \|/);
  // A random-weights model whose label forgot to say so still gets the warning.
  const unlabeled = { ...real, backend: { ...real.backend, model: { ...real.backend.model, randomWeights: true } } };
  assert.match(runToMarkdown(unlabeled), /\| Model \| gemma-3-4b-it \(onnx-community, q4\), random weights: speed only \|/);
});

test('Markdown escapes table-breaking characters in cells', () => {
  const r = fakeRun({ name: 'a|b' });
  const pipe = { ...r, preset: { ...r.preset, name: 'pre|set' } };
  assert.match(runToMarkdown(pipe), /\| Preset \| pre\\\|set \|/);
});

test('Markdown sections: the report is its sections in order, each a block of its own', () => {
  const r = fakeRun({ failed: 2, replicas: 2, notes: ['a note'], peakMemory: true });
  assert.deepEqual(MARKDOWN_SECTIONS, [mdHeader, mdSettings, mdWorkload, mdSummary, mdIntervals, mdPerReplica, mdPeakMemory, mdNotes, mdEnvironment]);
  assert.equal(runToMarkdown(r), MARKDOWN_SECTIONS.flatMap((f) => f(r)).join('\n') + '\n');
  const headings = [mdSettings, mdWorkload, mdSummary, mdIntervals, mdPerReplica, mdPeakMemory, mdNotes, mdEnvironment].map((f) => f(r)[0]);
  assert.deepEqual(headings, ['## Settings', '## Workload', '## Summary', '## 95% intervals', '## Per replica', '## Peak GPU memory', '## Notes', '## Environment']);
  // Every section but the last ends with a blank line, so sections never run together.
  for (const f of MARKDOWN_SECTIONS.slice(0, -1)) assert.equal(f(r).at(-1), '', f.name);
  assert.notEqual(mdEnvironment(r).at(-1), '');
});

test('Markdown peak GPU memory: per replica and GPU where measured, nothing otherwise', () => {
  assert.deepEqual(mdPeakMemory(fakeRun({ replicas: 2 })), []);
  const lines = mdPeakMemory(fakeRun({ replicas: 2, requests: 10, warmup: 2, peakMemory: true }));
  assert.equal(lines[0], '## Peak GPU memory');
  assert.match(lines[2], /torch max_memory_allocated \(reserved\), reset before each micro-batch; the highest batch of the run/);
  // Replica 0 ran requests 2, 4, ..., 10 (the highest: 10 -> 20100 MiB on GPU 0); replica 1 ran 3, ..., 11.
  assert.ok(lines.includes('| 0 | GPU 0 | 19.63 | 21.58 |'), lines.join('\n'));
  assert.ok(lines.includes('| 0 | GPU 1 | 17.68 | 19.63 |'));
  assert.ok(lines.includes('| 1 | GPU 2 | 19.64 | 21.59 |'));
  assert.equal(lines.at(-1), '');
});

test('Markdown header: facts, the sweep point when there is one, the warning only for random weights', () => {
  const r = fakeRun({ id: '20261125-140000-a-0001', group: { id: 'sweep-1', kind: 'sweep', point: { 'max-crops': 4 }, index: 1, total: 3 } });
  const h = mdHeader(r);
  assert.equal(h[0], `# gemma-bench run: ${r.name}`);
  assert.ok(h.includes('| Run id | `20261125-140000-a-0001` |'));
  assert.ok(h.includes('| Sweep | sweep-1, point 2/3: max-crops=4 |'));
  assert.match(h.at(-2)!, /^> \*\*random weights: speed only\.\*\*/);
  const real = mdHeader(fakeRun({ randomWeights: false }));
  assert.ok(!real.some((l) => l.startsWith('> ')));
  assert.ok(!real.some((l) => l.startsWith('| Sweep')));
});

test('Markdown settings, workload and summary: duration-bound runs, arrival batching, no crops, missing rates', () => {
  const r = fakeRun({});
  const timed = { ...r, settings: { ...r.settings, requests: null, durationS: 30, batching: 'fifo' as const } };
  const st = mdSettings(timed);
  assert.ok(st.includes(`| Requests | for 30 s + ${r.settings.warmup} warmup |`), st.join('\n'));
  assert.ok(st.some((l) => /^\| Batching \| batch size \d+, arrival order \|$/.test(l)));
  assert.match(mdWorkload(r).join('\n'), /- Completed requests by crop count: .* \(mean [\d.]+\)/);
  const noCrops = { ...r, summary: { ...r.summary, cropsHistogram: {}, throughputReqS: null } };
  assert.ok(!mdWorkload(noCrops).some((l) => l.includes('crop count')));
  assert.match(mdSummary(noCrops).join('\n'), /- Throughput: - req\/s, /);
});

test('Markdown per replica and notes are left out when empty; notes list ten failed requests at most', () => {
  const r = fakeRun({ requests: 30, failed: 14 });
  assert.deepEqual(mdPerReplica({ ...r, summary: { ...r.summary, perReplica: [] } }), []);
  assert.deepEqual(mdNotes(fakeRun({})), []);
  const notes = mdNotes(r);
  assert.equal(notes.filter((l) => / failed: /.test(l)).length, MD_FAILED_SHOWN_MAX);
  assert.ok(notes.includes('- ... and 4 more failed requests (see the JSON export)'), notes.join('\n'));
  assert.deepEqual(mdNotes({ ...fakeRun({}), notes: ['two\nlines'] }), ['## Notes', '', '- two lines', '']);
});

test('Markdown environment: GPUs with their memory, the commit shortened', () => {
  const r = fakeRun({});
  const e = { ...r.environment, gpus: [{ ...r.environment.gpus[0], index: 0, name: 'H100', memTotalMiB: 81559 }], gemmaBench: { ...r.environment.gemmaBench, gitCommit: '0123456789abcdef0123' } };
  const env = mdEnvironment({ ...r, environment: e }).join('\n');
  assert.match(env, /- GPUs: 0: H100 \(81559 MiB\)/);
  assert.match(env, /gemma-bench [^ ]+ \(0123456789ab\)$/);
  assert.match(mdEnvironment({ ...r, environment: { ...r.environment, gpus: [] } }).join('\n'), /- GPUs: none/);
});

test('intervals in the exports: CSV columns hold each interval around its value, Markdown lists them, a drifting run is not steady', () => {
  const r = fakeRun({ requests: 60 });
  const rows = runsToCsv([r]).trimEnd().split('\n').map(csvFields);
  const col = (name: string) => Number(rows[1][CSV_COLUMNS.indexOf(name)]);
  // The first columns are unchanged; the intervals come after them.
  assert.ok(CSV_COLUMNS.indexOf('latency_p50_ci95_lo_ms') > CSV_COLUMNS.indexOf('sweep_point'));
  for (const [v, lo, hi] of [
    ['latency_p50_ms', 'latency_p50_ci95_lo_ms', 'latency_p50_ci95_hi_ms'],
    ['ttft_p95_ms', 'ttft_p95_ci95_lo_ms', 'ttft_p95_ci95_hi_ms'],
    ['throughput_req_s', 'throughput_req_s_ci95_lo', 'throughput_req_s_ci95_hi'],
  ]) {
    assert.ok(col(lo) < col(hi), `${lo} < ${hi}`);
    // The summary's value (HDR, 3 significant digits) sits inside its interval, give or take that rounding.
    assert.ok(col(lo) <= col(v) * 1.001 && col(v) <= col(hi) * 1.001, `${v} ${col(v)} in [${col(lo)}, ${col(hi)}]`);
  }
  assert.equal(rows[1][CSV_COLUMNS.indexOf('steady')], 'true');
  const md = runToMarkdown(r);
  assert.match(md, /## 95% intervals\n\nFrom 60 completed requests: a percentile bootstrap seeded by the run id \(1000 resamples\)/);
  assert.match(md, /\| E2E latency \| [\d.]+–[\d.]+ \| [\d.]+–[\d.]+ \| [\d.]+–[\d.]+ \| [\d.]+–[\d.]+ \| [\d.]+–[\d.]+ \|/);
  assert.match(md, /- Rates: throughput [\d.]+–[\d.]+ req\/s, output [\d.]+–[\d.]+ tok\/s, per request [\d.]+–[\d.]+ tok\/s/);
  assert.doesNotMatch(md, /not steady/);

  // Later requests ever slower: the last third's median is far above the first's.
  const drifting = { ...r, requests: r.requests.map((q, i) => (q.e2eMs === null ? q : { ...q, e2eMs: q.e2eMs * (1 + i / 10), finishedAtMs: q.enqueuedAtMs + q.e2eMs * (1 + i / 10) })) };
  assert.match(runToMarkdown(drifting), /## Notes\n\n- not steady: more warmup or a longer run \(E2E median drifted \+\d+\.\d% from the first third of the run to the last\)/);
  assert.equal(csvFields(runsToCsv([drifting]).split('\n')[1])[CSV_COLUMNS.indexOf('steady')], 'false');
});
