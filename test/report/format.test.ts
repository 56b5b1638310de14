import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmtBytes, fmtCount, fmtDelta, fmtDuration, fmtMs, fmtPct, fmtRate, padTable, sig3 } from '../../src/report/format.js';

test('fmtMs: about 3 significant digits, ms below a second, s above', () => {
  const cases: [number | null | undefined, string][] = [
    [0.42, '0.42 ms'],
    [0.042, '0.042 ms'],
    [4.567, '4.57 ms'],
    [12.34, '12.3 ms'],
    [123.4, '123 ms'],
    [999.4, '999 ms'],
    [999.7, '1.00 s'],
    [1240, '1.24 s'],
    [12_449, '12.4 s'],
    [9.996, '10.0 ms'],
    [0, '0 ms'],
    [-3.2, '-3.20 ms'],
    [null, '-'],
    [undefined, '-'],
    [Number.NaN, '-'],
    [Number.POSITIVE_INFINITY, '-'],
  ];
  for (const [v, want] of cases) assert.equal(fmtMs(v), want, String(v));
});

test('rates, percentages, deltas and counts', () => {
  assert.equal(fmtRate(12.34, 'req/s'), '12.3 req/s');
  assert.equal(fmtRate(1834.4, 'tok/s'), '1834 tok/s');
  assert.equal(fmtRate(0.5), '0.50 /s');
  assert.equal(fmtRate(null, 'req/s'), '-');
  assert.equal(fmtPct(12.345), '12.3%');
  assert.equal(fmtPct(100), '100%');
  assert.equal(fmtPct(null), '-');
  assert.equal(fmtDelta(12.345), '+12.3%');
  assert.equal(fmtDelta(-4), '-4.0%');
  assert.equal(fmtDelta(0), '+0.0%');
  assert.equal(fmtDelta(-0.01), '+0.0%');
  assert.equal(fmtDelta(250.4), '+250%');
  assert.equal(fmtDelta(null), '-');
  assert.equal(fmtCount(12.6), '13');
  assert.equal(fmtCount(null), '-');
  assert.equal(sig3(0.123456), '0.12');
  assert.equal(sig3(99.96), '100');
});

test('fmtBytes and fmtDuration', () => {
  assert.equal(fmtBytes(512), '512 B');
  assert.equal(fmtBytes(1536), '1.50 KiB');
  assert.equal(fmtBytes(40 * 2 ** 30), '40.0 GiB');
  assert.equal(fmtBytes(1023.999 * 1024), '1.00 MiB');
  assert.equal(fmtBytes(null), '-');
  assert.equal(fmtDuration(0.35), '350 ms');
  assert.equal(fmtDuration(12.34), '12.3 s');
  assert.equal(fmtDuration(59.96), '1m 00s');
  assert.equal(fmtDuration(245), '4m 05s');
  assert.equal(fmtDuration(7380), '2h 03m');
  assert.equal(fmtDuration(null), '-');
});

test('padTable: first column left, the rest right, nulls as -, no trailing spaces', () => {
  const t = padTable([
    ['metric', 'p50', 'p95'],
    ['e2e', '12.3 ms', null],
    ['ttft', '1.1 ms', '2.4 ms'],
  ]);
  assert.equal(t, ['metric      p50     p95', 'e2e     12.3 ms       -', 'ttft     1.1 ms  2.4 ms'].join('\n'));
  assert.equal(padTable([['a', 'b'], ['ccc', 'd']], { align: ['right', 'left'], gap: 1 }), ['  a b', 'ccc d'].join('\n'));
  assert.equal(padTable([]), '');
  assert.equal(padTable([['x', 'y', 'z'], ['only']]), ['x     y  z', 'only'].join('\n'));
});
