// A small worker_threads pool for the per-entry resize + normalize of one image (resample.ts). The source
// RGB and the output tensor live in SharedArrayBuffers, so only job descriptions cross threads. Every
// entry's output rows are split evenly over the workers, which balances a big whole-image entry against
// small crops without a cost model. A pool of size 1 runs inline on the calling thread with no workers.
import { Worker } from 'node:worker_threads';
import { checkBox } from './resample-reference.js';
import { resizeNormalizeRowsInto, type RgbImage } from './resample.js';
import { IMAGE_SIZE_PX, type CropBox } from './types.js';

/** One slice of one entry: output rows [rowStart, rowEnd) of box, written at outOffset. */
export interface PoolJob {
  readonly box: CropBox;
  readonly outOffset: number;
  readonly rowStart: number;
  readonly rowEnd: number;
}

export interface PoolRequest {
  readonly id: number;
  readonly src: RgbImage;
  readonly out: Float32Array;
  readonly size: number;
  readonly jobs: readonly PoolJob[];
}

export type PoolReply =
  | { readonly kind: 'ready'; readonly backend: 'wasm' | 'js' }
  | { readonly kind: 'done'; readonly id: number }
  | { readonly kind: 'failed'; readonly id: number; readonly message: string };

interface Pending {
  remaining: number;
  failure: Error | null;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class ResizePool {
  /** Threads resizing: the calling thread takes a share of the rows, beside threads - 1 workers. */
  readonly threads: number;
  /** Worker threads behind the pool; 0 means everything runs inline on the calling thread. */
  readonly workerCount: number;
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private broken: Error | null = null;
  /** A reusable shared copy of the source image: fresh SharedArrayBuffers cost page faults on every image. */
  private scratch: Uint8Array | null = null;
  private scratchBusy = false;

  private constructor(workers: Worker[]) {
    this.workers = workers;
    this.workerCount = workers.length;
    this.threads = workers.length + 1;
    for (const w of workers) {
      w.on('message', (msg: PoolReply) => this.onReply(msg));
      w.on('error', (err) => this.fail(new Error(`resize worker crashed: ${err.message}`)));
      w.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`resize worker exited unexpectedly (code ${code})`));
      });
      w.unref(); // an idle pool must not keep the process alive; dispatch re-refs while work is in flight
    }
  }

  /** A pool running entries on `threads` threads; threads <= 1 runs them inline, with no workers at all. */
  static async create(threads: number): Promise<ResizePool> {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`resize pool size must be an integer >= 1 (got ${threads})`);
    if (threads === 1) return new ResizePool([]);
    const url = new URL('./resize-worker.js', import.meta.url);
    const workers: Worker[] = [];
    try {
      for (let i = 0; i < threads - 1; i++) workers.push(new Worker(url));
      await Promise.all(workers.map(waitReady));
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
    return new ResizePool(workers);
  }

  /**
   * Resize + normalize every box of src into out (entry i at element i * 3 * size * size). With workers, out must
   * be backed by a SharedArrayBuffer (workers write it in place); src is copied into a reused shared buffer
   * unless it already is on one. Every entry's rows are split between the workers and the calling thread.
   */
  async resizeEntries(src: RgbImage, boxes: readonly CropBox[], out: Float32Array, size: number = IMAGE_SIZE_PX): Promise<void> {
    if (this.closed) throw new Error('resize pool is closed');
    if (this.broken) throw this.broken;
    const entry = 3 * size * size;
    if (out.length < boxes.length * entry) {
      throw new RangeError(`output holds ${out.length} floats, ${boxes.length} entries need ${boxes.length * entry}`);
    }
    for (const box of boxes) checkBox(src, box); // fail here, with the caller's stack, not in a worker
    if (this.workers.length === 0 || boxes.length === 0) {
      for (let i = 0; i < boxes.length; i++) resizeNormalizeRowsInto(src, boxes[i], out, i * entry, size, 0, size);
      return;
    }
    if (!(out.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError('ResizePool with worker threads writes the output in place: back it with a SharedArrayBuffer');
    }
    const { view: sharedSrc, release } = this.sharedSource(src.data);
    try {
      const parts = this.workers.length + 1;
      const slices: PoolJob[][] = Array.from({ length: parts }, () => []);
      boxes.forEach((box, i) => {
        for (let w = 0; w < parts; w++) {
          const rowStart = Math.floor((w * size) / parts);
          const rowEnd = Math.floor(((w + 1) * size) / parts);
          if (rowEnd > rowStart) slices[w].push({ box, outOffset: i * entry, rowStart, rowEnd });
        }
      });
      const mine = slices.pop()!;
      const busy = slices.filter((jobs) => jobs.length > 0).length;
      const id = this.nextId++;
      const srcView: RgbImage = { data: sharedSrc, width: src.width, height: src.height };
      const done = new Promise<void>((resolve, reject) => {
        if (busy === 0) return resolve();
        this.pending.set(id, { remaining: busy, failure: null, resolve, reject });
        if (this.pending.size === 1) for (const w of this.workers) w.ref();
        slices.forEach((jobs, w) => {
          if (jobs.length > 0) this.workers[w].postMessage({ id, src: srcView, out, size, jobs } satisfies PoolRequest);
        });
      });
      // The calling thread does its share while the workers do theirs.
      for (const j of mine) resizeNormalizeRowsInto(srcView, j.box, out, j.outOffset, size, j.rowStart, j.rowEnd);
      await done;
    } finally {
      release();
    }
  }

  private sharedSource(data: Uint8Array): { view: Uint8Array; release: () => void } {
    if (data.buffer instanceof SharedArrayBuffer) return { view: data, release: () => {} };
    if (this.scratchBusy) {
      // A concurrent call: give it its own copy rather than overwrite the pixels another call is reading.
      const own = new Uint8Array(new SharedArrayBuffer(data.length));
      own.set(data);
      return { view: own, release: () => {} };
    }
    if (!this.scratch || this.scratch.length < data.length) this.scratch = new Uint8Array(new SharedArrayBuffer(data.length));
    const view = this.scratch.subarray(0, data.length);
    view.set(data);
    this.scratchBusy = true;
    return { view, release: () => (this.scratchBusy = false) };
  }

  /** Terminates the workers; resolves once every thread has exited. Pending calls are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.fail(new Error('resize pool closed while entries were being resized'));
  }

  private onReply(msg: PoolReply): void {
    if (msg.kind === 'ready') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    if (msg.kind === 'failed' && p.failure === null) p.failure = new Error(msg.message);
    if (--p.remaining > 0) return;
    this.settle(msg.id, p);
  }

  private settle(id: number, p: Pending): void {
    this.pending.delete(id);
    if (this.pending.size === 0) for (const w of this.workers) w.unref();
    if (p.failure) p.reject(p.failure);
    else p.resolve();
  }

  private fail(err: Error): void {
    if (!this.closed) this.broken ??= err;
    for (const [id, p] of [...this.pending]) {
      p.failure ??= err;
      this.settle(id, p);
    }
  }
}

function waitReady(w: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: PoolReply) => {
      if (msg.kind !== 'ready') return;
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new Error(`resize worker failed to start: ${err.message}`));
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`resize worker exited during startup (code ${code})`));
    };
    const cleanup = () => {
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
    };
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
  });
}
