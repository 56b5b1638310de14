// Steady state: the E2E median of the first third of completions against the last third.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOT_STEADY_NOTE, steadyState, STEADY_MIN_PER_THIRD } from '../../../src/report/stats/steady.js';
import { prng } from '../../../src/util/prng.js';
import { fakeRun } from '../../helpers/fake-run.js';
import { logNormal, okRecord } from './helpers.js';

test('a run whose latency climbs is not steady, with the numbers for its note', () => {
  const noise = prng(4);
  // E2E from ~100 ms to ~220 ms over 60 requests (a queue that keeps growing), completions in order.
  const records = Array.from({ length: 60 }, (_, i) => okRecord(i, { enqueuedAtMs: i * 50, e2eMs: 100 + 2 * i + 10 * noise() }));
  const s = steadyState(records, { seed: 1 })!;
  assert.equal(s.steady, false);
  assert.equal(s.note, NOT_STEADY_NOTE);
  assert.equal(s.note, 'not steady: more warmup or a longer run');
  assert.equal(s.first.requests, 20);
  assert.equal(s.last.requests, 20);
  assert.ok(s.first.ci95[1] < s.last.ci95[0], `[${s.first.ci95}] vs [${s.last.ci95}]`);
  assert.ok(s.first.ci95[0] <= s.first.median && s.first.median <= s.first.ci95[1]);
  assert.ok(s.driftPct > 50 && s.driftPct < 90, `drift ${s.driftPct}%`);
  // By completion order, whatever order the records are in.
  assert.deepEqual(steadyState([...records].reverse(), { seed: 1 }), s);
});

test('a run from one distribution is steady; so is a fake run', () => {
  const draw = logNormal(9, Math.log(150), 0.3);
  const records = Array.from({ length: 90 }, (_, i) => okRecord(i, { enqueuedAtMs: i * 20, e2eMs: draw() }));
  const s = steadyState(records, { seed: 2 })!;
  assert.equal(s.steady, true);
  assert.equal(s.note, null);
  assert.ok(s.first.ci95[1] >= s.last.ci95[0] && s.last.ci95[1] >= s.first.ci95[0]);
  assert.equal(steadyState(fakeRun({ requests: 48, seed: 3 }).requests)!.steady, true);
});

test('too few completions to tell: null; warmup and failures do not count', () => {
  const n = 3 * STEADY_MIN_PER_THIRD;
  const ok = Array.from({ length: n - 1 }, (_, i) => okRecord(i, { e2eMs: 100 + i }));
  const extra = [okRecord(100, { warmup: true }), okRecord(101, { status: 'failed', e2eMs: null, finishedAtMs: 5 })];
  assert.equal(steadyState([...ok, ...extra]), null);
  assert.notEqual(steadyState([...ok, okRecord(n, { e2eMs: 100 })]), null);
});
