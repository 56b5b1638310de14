import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prng } from '../../src/util/prng.js';

test('prng: mulberry32, the same numbers for a seed everywhere (the synthetic set, the scheduler and the bootstrap rely on it)', () => {
  const r = prng(1);
  assert.deepEqual([r(), r(), r()], [0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
  const a = prng(42);
  const b = prng(42);
  for (let i = 0; i < 100; i++) {
    const x = a();
    assert.equal(x, b());
    assert.ok(x >= 0 && x < 1);
  }
  assert.notEqual(prng(1)(), prng(2)());
});
