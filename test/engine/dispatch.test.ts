import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickReplica, poissonGapMs, takeBatch } from '../../src/engine/dispatch.js';

const q = (...crops: number[]) => crops.map((c, i) => ({ id: i, crops: c }));

test('fifo batches take the oldest requests whatever their crops', () => {
  const queue = q(0, 3, 0, 6, 3);
  assert.deepEqual(takeBatch(queue, 3, 'fifo').map((x) => x.id), [0, 1, 2]);
  assert.deepEqual(queue.map((x) => x.id), [3, 4]);
});

test('crop batches take the oldest request and others with the same crop count, in order', () => {
  const queue = q(3, 0, 3, 0, 3, 3);
  assert.deepEqual(takeBatch(queue, 3, 'crop').map((x) => x.id), [0, 2, 4]);
  assert.deepEqual(queue.map((x) => x.id), [1, 3, 5]);
  assert.deepEqual(takeBatch(queue, 3, 'crop').map((x) => x.id), [1, 3]);
  assert.deepEqual(takeBatch(queue, 3, 'crop').map((x) => x.id), [5]);
  assert.deepEqual(takeBatch(queue, 3, 'crop'), []);
});

test('least-loaded dispatch skips dead and full replicas and breaks ties by work given, then id', () => {
  const r = (id: number, o: Partial<{ alive: boolean; capacity: number; inFlightBatches: number; inFlightRequests: number; dispatched: number }> = {}) => ({
    id, alive: true, capacity: 1, inFlightBatches: 0, inFlightRequests: 0, dispatched: 0, ...o,
  });
  assert.equal(pickReplica([r(0, { inFlightBatches: 1, inFlightRequests: 2 }), r(1)]), 1);
  assert.equal(pickReplica([r(0, { alive: false }), r(1, { inFlightBatches: 1 })]), null);
  assert.equal(pickReplica([r(0, { dispatched: 5 }), r(1, { dispatched: 3 }), r(2, { dispatched: 3 })]), 1);
  assert.equal(pickReplica([r(0, { capacity: 4, inFlightBatches: 2, inFlightRequests: 4 }), r(1, { capacity: 4, inFlightBatches: 1, inFlightRequests: 1 })]), 1);
});

test('Poisson gaps have mean 1/rate', () => {
  let sum = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) sum += poissonGapMs(4, (i + 0.5) / n);
  assert.ok(Math.abs(sum / n - 250) < 5, `mean gap ${sum / n}`);
});
