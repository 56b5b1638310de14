// Worker-thread side of resize-pool.ts: runs resizeNormalizeRowsInto jobs on pixels that live in
// SharedArrayBuffers, so nothing but job descriptions crosses threads. Must never import sharp (on glibc
// Linux sharp has to be loaded on the main thread only); it loads its own wasm instance via resample.ts.
import { parentPort } from 'node:worker_threads';
import { resampleBackend, resizeNormalizeRowsInto } from './resample.js';
import type { PoolReply, PoolRequest } from './resize-pool.js';

const port = parentPort;
if (port === null) throw new Error('resize-worker.js must run as a worker thread (see resize-pool.ts)');

// Loading the wasm module now keeps that cost out of the first job; the pool waits for this message.
port.postMessage({ kind: 'ready', backend: resampleBackend() } satisfies PoolReply);

port.on('message', (req: PoolRequest) => {
  try {
    for (const job of req.jobs) {
      resizeNormalizeRowsInto(req.src, job.box, req.out, job.outOffset, req.size, job.rowStart, job.rowEnd);
    }
    port.postMessage({ kind: 'done', id: req.id } satisfies PoolReply);
  } catch (err) {
    port.postMessage({ kind: 'failed', id: req.id, message: err instanceof Error ? err.message : String(err) } satisfies PoolReply);
  }
});
