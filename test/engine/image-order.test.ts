// The order a run requests its images in: the workload's own, or for a repeat (`--repeat`) a permutation seeded by
// the repeat, so repeats meet the images in fresh orders; unusable images are never requested.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageOrder } from '../../src/engine/run-benchmark.js';
import type { RunGroup, Workload, WorkloadImage } from '../../src/engine/types.js';

const image = (i: number, error: string | null = null): WorkloadImage => ({ path: `/img/${i}.png`, sha256: 'a'.repeat(64), bytes: 1, width: 10, height: 10, crops: [], imageTokens: 256, promptTokens: [300], error });
const workload = (images: WorkloadImage[]): Workload => ({ source: 'test', images, prompts: ['p'], setHash: 'h', skipped: 0 });
const repeat = (orderSeed: number): RunGroup => ({ id: 'repeat-x', kind: 'repeat', point: {}, index: 0, total: 2, repeat: { index: 0, total: 2, orderSeed } });

test('imageOrder: workload order without a repeat; a seeded permutation of the usable images with one', () => {
  const w = workload(Array.from({ length: 12 }, (_, i) => image(i, i === 5 ? 'not an image' : null)));
  const usable = [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11];
  assert.deepEqual(imageOrder({ group: null }, w), usable);
  const a = imageOrder({ group: repeat(1) }, w);
  const b = imageOrder({ group: repeat(2) }, w);
  assert.deepEqual([...a].sort((x, y) => x - y), usable, 'a permutation of the usable images');
  assert.deepEqual([...b].sort((x, y) => x - y), usable);
  assert.notDeepEqual(a, b, 'another repeat, another order');
  assert.notDeepEqual(a, usable);
  assert.deepEqual(imageOrder({ group: repeat(1) }, w), a, 'the same seed, the same order');
});
