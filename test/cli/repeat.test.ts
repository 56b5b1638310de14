// `--repeat N`: its value and the order seed of each repeat (src/cli/repeat.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/cli/args.js';
import { REPEAT_MAX, repeatCount, repeatOf } from '../../src/cli/repeat.js';

test('repeatOf: a different order seed per repeat, the same one again for the same seed and index', () => {
  const seeds = Array.from({ length: 5 }, (_, i) => repeatOf(i, 5, 0).orderSeed);
  assert.equal(new Set(seeds).size, 5);
  assert.deepEqual(repeatOf(2, 5, 0), { index: 2, total: 5, orderSeed: seeds[2] });
  assert.notEqual(repeatOf(0, 5, 1).orderSeed, seeds[0], 'another run seed, other orders');
  for (const s of seeds) assert.ok(Number.isInteger(s) && s >= 0);
});

test('--repeat: 1 when absent; an integer from 1 to REPEAT_MAX, else a usage error naming the flag', () => {
  assert.equal(repeatCount({}), 1);
  assert.equal(repeatCount({ repeat: '3' }), 3);
  for (const bad of ['0', '-1', '2.5', 'x', String(REPEAT_MAX + 1)]) {
    assert.throws(() => repeatCount({ repeat: bad }), (e: unknown) => e instanceof UsageError && /^--repeat must be an integer >= 1 and <= 100 \(got "/.test(e.message), bad);
  }
});
