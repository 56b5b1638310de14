import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newGroupId, newRunId, utcStamp } from '../../src/util/ids.js';

test('newRunId: sortable UTC stamp, safe slug, 4 hex digits', () => {
  const d = new Date('2026-11-25T14:22:33.456Z');
  assert.equal(newRunId('balanced', d, '3fa2'), '20261125-142233-balanced-3fa2');
  assert.match(newRunId('balanced', d), /^20261125-142233-balanced-[0-9a-f]{4}$/);
  assert.equal(newRunId('My Run/../../etc: "x"', d, '0000'), '20261125-142233-my-run-..-..-etc-x-0000');
  assert.equal(newRunId('', d, 'abcd'), '20261125-142233-run-abcd');
  assert.equal(newRunId('..', d, 'abcd'), '20261125-142233-run-abcd');
  assert.equal(newRunId('é日本', d, 'abcd'), '20261125-142233-run-abcd');
  assert.ok(newRunId('x'.repeat(500), d, 'abcd').length < 70);
  const a = newRunId('zzz', new Date('2026-01-01T00:00:00Z'), 'ffff');
  const b = newRunId('aaa', new Date('2026-01-01T00:00:01Z'), '0000');
  assert.ok(a < b, 'ids sort by start time whatever the name');
  for (let i = 0; i < 50; i++) assert.doesNotMatch(newRunId('a b/c\\d', new Date()), /[^A-Za-z0-9._-]/);
});

test('one stamp for run ids, sweep ids and exports', () => {
  const d = new Date('2026-11-25T14:22:33.456Z');
  assert.equal(utcStamp(d), '20261125-142233');
  assert.equal(newGroupId(d, '00ff'), 'sweep-20261125-142233-00ff');
});
