// The dashboard's final screen with the run's 95% intervals (issue 12): they arrive as `ui:intervals` after
// run-finished (computed off the UI thread by the composition root: pump.ts asks, the reducer keeps them), show as
// one line under the percentile table, and a drifting run's steady-state note leads the notes; at 80x24 and 100x40.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import type { EngineEvent } from '../../src/engine/events.js';
import { runIntervals } from '../../src/report/intervals.js';
import { Dashboard } from '../../src/ui/components/Dashboard.js';
import { pumpEvents } from '../../src/ui/pump.js';
import { reduce, reduceAll, type DashboardInput } from '../../src/ui/state.js';
import { fakeRun } from '../helpers/fake-run.js';
import { loadStream, stripAnsi } from './helpers.js';

const HINTS = [['q', 'quit']] as const;
const steadyRun = fakeRun({ requests: 60 });
const driftingRun = { ...steadyRun, requests: steadyRun.requests.map((q, i) => (q.e2eMs === null ? q : { ...q, e2eMs: q.e2eMs * (1 + i / 10), finishedAtMs: q.enqueuedAtMs + q.e2eMs * (1 + i / 10) })) };

function finalState(intervals: ReturnType<typeof runIntervals> | null) {
  const state = reduceAll(loadStream('run-cpu'));
  assert.ok(state.finished && state.runId);
  return intervals ? reduce(state, { type: 'ui:intervals', runId: state.runId, intervals }) : state;
}

test('ui:intervals: kept for the finished run it names, ignored for another run or before the run finished', () => {
  const iv = runIntervals(steadyRun);
  const state = finalState(null);
  assert.equal(state.intervals, null);
  assert.equal(reduce(state, { type: 'ui:intervals', runId: 'another', intervals: iv }).intervals, null);
  assert.deepEqual(reduce(state, { type: 'ui:intervals', runId: state.runId!, intervals: iv }).intervals, iv);
  const running = reduceAll(loadStream('run-cpu').filter((e) => e.type !== 'run-finished'));
  assert.equal(reduce(running, { type: 'ui:intervals', runId: running.runId!, intervals: iv }).intervals, null);
});

for (const [columns, rows] of [[80, 24], [100, 40]] as const) {
  test(`final screen at ${columns}x${rows}: a 95% CI line under the table, the not-steady note first, within the terminal`, () => {
    const iv = runIntervals(driftingRun);
    assert.equal(iv.steady?.steady, false);
    const r = render(<Dashboard state={finalState(iv)} hints={HINTS} animate={false} size={{ columns, rows }} />);
    const f = stripAnsi(r.lastFrame());
    r.unmount();
    const lines = f.split('\n');
    const ci = lines.find((l) => l.startsWith('95% CI '));
    assert.ok(ci, f);
    assert.match(ci, /^95% CI E2E p50 [\d.]+(–| ms–| s–)[\d.]+ (ms|s) · p95 /);
    assert.ok(lines.indexOf(ci) > lines.findIndex((l) => l.startsWith('Latency (ms)')));
    assert.match(f, /note: not steady: more warmup or a longer run \(E2E median \+/);
    assert.ok(lines.length <= rows - 1, `${lines.length} lines:\n${f}`);
    for (const l of lines) assert.ok([...l].length <= columns, `${[...l].length}: ${l}`);
  });
}

test('without intervals (not computed yet, or they failed) the final screen has no CI line', () => {
  const r = render(<Dashboard state={finalState(null)} hints={HINTS} animate={false} size={{ columns: 100, rows: 40 }} />);
  assert.doesNotMatch(stripAnsi(r.lastFrame()), /95% CI/);
  r.unmount();
});

async function* stream(events: readonly EngineEvent[]): AsyncGenerator<EngineEvent> {
  for (const e of events) yield e;
}

test('pumpEvents asks for the intervals of a saved run after run-finished, dispatches them, and resolves after them', async () => {
  const events = loadStream('run-cpu').map((e) => (e.type === 'run-finished' ? { ...e, run: steadyRun, file: e.file ?? '/runs/x.json' } : e)) as EngineEvent[];
  const seen: DashboardInput[] = [];
  const asked: string[] = [];
  await pumpEvents(stream(events), { dispatch: (i) => seen.push(i) }, {
    // Answers only after the stream has ended, as a worker thread would for a long run.
    intervalsOf: (run) => {
      asked.push(run.id);
      return new Promise((resolve) => setImmediate(() => setImmediate(() => resolve(runIntervals(run)))));
    },
  });
  assert.deepEqual(asked, [steadyRun.id]);
  const types = seen.map((i) => i.type);
  assert.ok(types.indexOf('ui:intervals') > types.indexOf('run-finished'));
  assert.equal(types.at(-1), 'ui:intervals', 'pumpEvents waited for the intervals before resolving');
  assert.ok(types.includes('ui:stream-ended'));
  // A failure to compute them is no failure of the run: the stream still ends, without intervals.
  const quiet: DashboardInput[] = [];
  await pumpEvents(stream(events), { dispatch: (i) => quiet.push(i) }, { intervalsOf: async () => Promise.reject(new Error('no')) });
  assert.ok(!quiet.some((i) => i.type === 'ui:intervals' || i.type === 'ui:stream-failed'));
  assert.equal(quiet.at(-1)?.type, 'ui:stream-ended');
});
