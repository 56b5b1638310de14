// The final screen's intervals off the UI thread: the worker gives exactly what runIntervals gives in-thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intervalsOffThread } from '../../src/app/intervals-client.js';
import { runIntervals } from '../../src/report/intervals.js';
import { fakeRun } from '../helpers/fake-run.js';

test('intervalsOffThread: the same intervals in a worker thread as in this one', async () => {
  const run = fakeRun({ requests: 50, failed: 3 });
  const expected = JSON.parse(JSON.stringify(runIntervals(run)));
  assert.deepEqual(JSON.parse(JSON.stringify(await intervalsOffThread(run))), expected);
  assert.deepEqual(JSON.parse(JSON.stringify(await intervalsOffThread(run, { inWorker: false }))), expected);
  assert.ok(expected.latency.e2eMs.p50[0] < expected.latency.e2eMs.p50[1]);
});
