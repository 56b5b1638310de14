import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dominates, paretoFrontier, type FrontierInput } from '../../src/report/frontier.js';

const p = (throughputReqS: number | null, latencyMs: number | null): FrontierInput => ({ throughputReqS, latencyMs });

test('the frontier: points no other point beats on both throughput (higher) and p95 latency (lower), by throughput', () => {
  const pts = [p(1, 100), p(2, 300), p(1.5, 400), p(3, 350), p(0.5, 90), p(2.5, 500)];
  // 1.5@400 is beaten by 2@300; 2.5@500 by 3@350.
  assert.deepEqual(paretoFrontier(pts), [4, 0, 1, 3]);
});

test('a single point is the frontier; no points, no frontier', () => {
  assert.deepEqual(paretoFrontier([p(2, 100)]), [0]);
  assert.deepEqual(paretoFrontier([]), []);
});

test('ties: identical points are all on it; equal on one axis and better on the other dominates', () => {
  assert.deepEqual(paretoFrontier([p(2, 100), p(2, 100)]), [0, 1]);
  // Same throughput, lower latency wins; same latency, higher throughput wins.
  assert.deepEqual(paretoFrontier([p(2, 120), p(2, 100)]), [1]);
  assert.deepEqual(paretoFrontier([p(2, 100), p(3, 100)]), [1]);
  // Three-way tie at the top plus one dominated point.
  assert.deepEqual(paretoFrontier([p(1, 50), p(1, 50), p(1, 50), p(0.9, 60)]), [0, 1, 2]);
  assert.equal(dominates(p(2, 100), p(2, 100)), false);
  assert.equal(dominates(p(2, 99), p(2, 100)), true);
});

test('points without both numbers are never on it, and never beat anything', () => {
  assert.deepEqual(paretoFrontier([p(null, 10), p(1, null), p(0.5, 400), p(Number.NaN, 1)]), [2]);
  assert.deepEqual(paretoFrontier([p(null, null)]), []);
  assert.equal(dominates(p(null, 1), p(1, 100)), false);
});

test('a chain where each point trades latency for throughput is all frontier; ordering breaks ties by latency then index', () => {
  const chain = [p(4, 400), p(1, 100), p(3, 300), p(2, 200)];
  assert.deepEqual(paretoFrontier(chain), [1, 3, 2, 0]);
  assert.deepEqual(paretoFrontier([p(2, 100), p(1, 50), p(2, 100)]), [1, 0, 2]);
});
