// A replica start that is cancelled before or while its process spawns: it rejects with the reason and the process
// can never raise an unhandled 'error' (a missing interpreter included), which would crash gemma-bench.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startWorkerReplica, type ReplicaSpawnSpec } from '../../../../src/engine/backends/transformers/replica.js';
import { TransformersBackendError } from '../../../../src/engine/backends/transformers/errors.js';

const spec = (signal: AbortSignal): ReplicaSpawnSpec => ({
  id: 0,
  python: '/no/such/python3',
  argv: [],
  baseEnv: {},
  group: { ids: [0], indices: [0] },
  preprocess: 'hf',
  pipeline: false,
  pixelDir: '/tmp',
  log: () => {},
  signal,
});

test('a start cancelled before it began rejects without spawning anything', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(startWorkerReplica(spec(ac.signal)), (e: Error) => e instanceof TransformersBackendError && /failed to start: cancelled while loading/.test(e.message));
});

test('a start cancelled right after the spawn of a missing interpreter rejects once, with no unhandled error', async () => {
  const ac = new AbortController();
  const start = startWorkerReplica(spec(ac.signal));
  ac.abort();
  await assert.rejects(start, TransformersBackendError);
  // Give the child's ENOENT 'error' event time to arrive: it must find a listener.
  await new Promise((r) => setTimeout(r, 200));
});
