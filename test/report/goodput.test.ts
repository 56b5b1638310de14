// Goodput under SLOs (vLLM / DistServe): the spec parser, the count over per-request records, and the compare rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RequestRecord, RunFile } from '../../src/engine/types.js';
import { compareRuns } from '../../src/report/compare.js';
import { describeSlo, goodput, GoodputSpecError, parseGoodputSpec } from '../../src/report/goodput.js';
import { fakeRun } from '../helpers/fake-run.js';

test('the spec: vLLM-style keys, commas or spaces, ":" or "="; bad ones named with the fix', () => {
  assert.deepEqual(parseGoodputSpec('ttft:500,tpot:50'), { ttftMs: 500, tpotMs: 50 });
  assert.deepEqual(parseGoodputSpec('ttft:500 tpot:50 e2el:3000'), { ttftMs: 500, tpotMs: 50, e2eMs: 3000 });
  assert.deepEqual(parseGoodputSpec('E2E=2500.5'), { e2eMs: 2500.5 });
  assert.equal(describeSlo({ ttftMs: 500, e2eMs: 3000 }), 'TTFT <= 500 ms, E2E <= 3000 ms');
  const bad: Array<[string, RegExp]> = [
    ['', /needs at least one SLO: write it as ttft:MS/],
    ['itl:5', /"itl:5" is not an SLO/],
    ['ttft', /"ttft" is not an SLO/],
    ['ttft:', /ttft must be a positive number of milliseconds \(got ""\)/],
    ['ttft:-1', /positive number/],
    ['tpot:abc', /got "abc"/],
    ['ttft:1,ttft:2', /ttft is given twice/],
  ];
  for (const [spec, re] of bad) assert.throws(() => parseGoodputSpec(spec), (e: Error) => e instanceof GoodputSpecError && re.test(e.message), spec);
});

test('good = measured, completed and within every SLO; failures count as missed; warmup and cancelled are left out', () => {
  const base = fakeRun({ requests: 4, warmup: 0 });
  const rec = (over: Partial<RequestRecord>): RequestRecord => ({ ...base.requests[0], ...over });
  const run: Pick<RunFile, 'requests' | 'summary'> = {
    summary: { ...base.summary, measuredWallS: 2 },
    requests: [
      rec({ id: 1, status: 'ok', ttftMs: 100, tpotMs: 10, e2eMs: 900 }), // good
      rec({ id: 2, status: 'ok', ttftMs: 600, tpotMs: 10, e2eMs: 900 }), // TTFT too slow
      rec({ id: 3, status: 'ok', ttftMs: 100, tpotMs: 60, e2eMs: 900 }), // TPOT too slow
      rec({ id: 4, status: 'ok', ttftMs: 100, tpotMs: null, e2eMs: 150 }), // one token: no TPOT, meets it
      rec({ id: 5, status: 'failed', ttftMs: null, tpotMs: null, e2eMs: null, error: 'x' }), // finished, missed
      rec({ id: 6, status: 'cancelled', ttftMs: null, tpotMs: null, e2eMs: null }), // not counted
      rec({ id: 7, warmup: true, status: 'ok', ttftMs: 1, tpotMs: 1, e2eMs: 1 }), // not counted
      rec({ id: 8, status: 'ok', ttftMs: 500, tpotMs: 50, e2eMs: 3000 }), // exactly at the limits: good
    ],
  };
  const g = goodput(run, { ttftMs: 500, tpotMs: 50 });
  assert.deepEqual(g, { good: 3, finished: 6, goodputReqS: 1.5, goodPct: 50 });
  assert.equal(goodput(run, { e2eMs: 1000 }).good, 4);
  assert.equal(goodput({ ...run, summary: { ...run.summary, measuredWallS: 0 } }, { ttftMs: 1 }).goodputReqS, null);
  assert.equal(goodput({ ...run, requests: [] }, { ttftMs: 1 }).goodPct, null);
});

test('compare with an SLO adds goodput rows after the throughput rows, best marked, higher is better', () => {
  const fast = fakeRun({ id: 'a', seed: 1 });
  const slow = fakeRun({ id: 'b', seed: 1, latencyScale: 3 });
  const e2eP50 = fast.summary.metrics.e2eMs.p50!;
  const plain = compareRuns([fast, slow]);
  assert.ok(!plain.rows.some((r) => r.key.startsWith('good')));
  const m = compareRuns([fast, slow], { slo: { e2eMs: e2eP50 } });
  const keys = m.rows.map((r) => r.key);
  assert.deepEqual(keys.slice(keys.indexOf('tokens_per_s_mean'), keys.indexOf('tokens_per_s_mean') + 3), ['tokens_per_s_mean', 'goodput_req_s', 'good_pct']);
  const pct = m.rows.find((r) => r.key === 'good_pct')!;
  assert.equal(pct.unit, 'pct');
  assert.ok(pct.cells[0].value! >= 50, `half of the fast run is within its own median (${pct.cells[0].value})`);
  assert.ok(pct.cells[1].value! < pct.cells[0].value!);
  assert.deepEqual(pct.cells.map((c) => c.best), [true, false]);
  const rate = m.rows.find((r) => r.key === 'goodput_req_s')!;
  assert.match(rate.label, /^Goodput \(E2E <= [\d.]+ ms\)$/);
  assert.equal(rate.direction, 'higher');
});
