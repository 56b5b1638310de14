// The ts-preprocessing thread of one transformers replica (--preprocess ts): runs gemma-bench's HF-exact
// preprocessing (src/panscan preprocessFile) off the main thread, which draws the UI, and writes each request's
// pixel values as raw little-endian float32 into a file (/dev/shm by default) that the Python worker maps and
// deletes. One batch at a time, in order, so batch N+1 is prepared while the GPU runs batch N.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { preprocessFile } from '../../../panscan/preprocess.js';
import { gemmaTokenizer } from '../../../panscan/tokenizer.js';
import { IMAGE_SIZE_PX } from '../../../panscan/types.js';
import { nowMs } from '../../../util/clock.js';
import type { PrepInit, PrepToMain, PreparedItem, MainToPrep } from './preprocess-protocol.js';

if (!parentPort) throw new Error('the transformers preprocessing thread must run in a worker thread');
const port = parentPort;
const init = workerData as PrepInit;
const send = (m: PrepToMain) => port.postMessage(m);
let dir = init.dir;
let queue: Promise<void> = Promise.resolve();

port.on('message', (m: MainToPrep) => {
  queue = queue.then(() => handle(m)).catch((err: unknown) => send({ type: 'log', level: 'error', message: String((err as Error).stack ?? err) }));
});

try {
  gemmaTokenizer(); // load the 262k-entry vocabulary now, not inside the first request's preprocessMs
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'log', level: 'error', message: `could not load the Gemma 3 tokenizer: ${(err as Error).message}` });
  process.exit(1);
}

async function handle(m: MainToPrep): Promise<void> {
  if (m.type === 'close') {
    port.close();
    return;
  }
  const items: PreparedItem[] = [];
  for (const r of m.requests) {
    const startedAt = nowMs();
    try {
      const pre = await preprocessFile(r.imagePath, r.preprocess, { prompt: r.prompt });
      const name = `gemma-bench-${process.pid}-r${init.replica}-b${m.batchId}-q${r.id}-${randomBytes(4).toString('hex')}.f32`;
      const bytes = Buffer.from(pre.pixelValues.buffer, pre.pixelValues.byteOffset, pre.pixelValues.byteLength);
      const path = writePixels(name, bytes);
      items.push({
        id: r.id,
        ok: true,
        path,
        shape: [1 + pre.numCrops, 3, IMAGE_SIZE_PX, IMAGE_SIZE_PX],
        inputIds: pre.inputIds!,
        crops: pre.numCrops,
        imageTokens: pre.imageTokens,
        preprocessMs: pre.timings.totalMs,
        startedAt,
      });
    } catch (err) {
      items.push({ id: r.id, ok: false, error: (err as Error).message, startedAt });
    }
  }
  send({ type: 'prepared', batchId: m.batchId, items });
}

/** Writes into the shared-memory directory; a full /dev/shm (Docker's default is 64 MB) falls back to tmpdir. */
function writePixels(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  try {
    writeFileSync(path, bytes, { mode: 0o600 });
    return path;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const fallback = tmpdir();
    if ((code === 'ENOSPC' || code === 'EDQUOT' || code === 'EACCES' || code === 'EROFS') && dir !== fallback) {
      send({
        type: 'log',
        level: 'warn',
        message: `cannot write pixel files to ${dir} (${code}${code === 'ENOSPC' ? `: in Docker, give the container a larger --shm-size` : ''}); using ${fallback} from now on, which may be slower`,
      });
      dir = fallback;
      return writePixels(name, bytes);
    }
    throw err;
  }
}
