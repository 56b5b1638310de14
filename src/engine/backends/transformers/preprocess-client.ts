// Main-thread side of a replica's ts-preprocessing thread: starts it, hands it micro-batches, and reports the
// thread's death once (the replica then dies with that reason: without preprocessing it cannot run anything).
import { accessSync, constants, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { InferRequest, LogFn } from '../../backend.js';
import type { MainToPrep, PrepInit, PrepToMain, PreparedItem } from './preprocess-protocol.js';

/** /dev/shm when it is there and writable (RAM-backed, no disk I/O), else the OS temp directory. */
export function defaultPixelDir(): string {
  try {
    if (existsSync('/dev/shm')) {
      accessSync('/dev/shm', constants.W_OK);
      return '/dev/shm';
    }
  } catch {
    // not writable: fall through
  }
  return tmpdir();
}

export class PreprocessClient {
  private readonly pending = new Map<number, { resolve: (items: PreparedItem[]) => void; reject: (err: Error) => void }>();
  private deadReason: string | null = null;
  private closing = false;
  private onDeath: ((reason: string) => void) | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly replica: number,
    private readonly log: LogFn,
  ) {}

  static start(replica: number, dir: string, log: LogFn): Promise<PreprocessClient> {
    return new Promise((resolve, reject) => {
      const init: PrepInit = { replica, dir };
      const worker = new Worker(new URL('./preprocess-worker.js', import.meta.url), { workerData: init });
      const client = new PreprocessClient(worker, replica, log);
      let ready = false;
      worker.on('message', (m: PrepToMain) => {
        if (m.type === 'ready') {
          ready = true;
          resolve(client);
        } else if (m.type === 'prepared') {
          const p = client.pending.get(m.batchId);
          client.pending.delete(m.batchId);
          p?.resolve([...m.items]);
        } else {
          log(m.level, `replica ${replica} preprocessing: ${m.message}`);
        }
      });
      worker.on('error', (err) => client.die(`the preprocessing thread failed: ${err.message}`));
      worker.on('exit', (code) => {
        if (!ready) reject(new Error(`the preprocessing thread of replica ${replica} exited with code ${code} before it was ready`));
        if (!client.closing) client.die(`the preprocessing thread exited with code ${code}`);
      });
    });
  }

  /** Called once if the thread dies while the replica is running. */
  set whenDead(cb: (reason: string) => void) {
    this.onDeath = cb;
  }

  prepare(batchId: number, requests: readonly InferRequest[]): Promise<PreparedItem[]> {
    if (this.deadReason !== null) return Promise.reject(new Error(this.deadReason));
    return new Promise((resolve, reject) => {
      this.pending.set(batchId, { resolve, reject });
      this.post({ type: 'prepare', batchId, requests });
    });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    this.post({ type: 'close' });
    // Never terminate(): ending the thread inside a sharp call can crash the process (lovell/sharp#2263). It
    // reads 'close' after the batch it is preparing (images, not a model: well under a second) and ends itself.
    await exited;
    for (const p of this.pending.values()) p.reject(new Error('replica closed'));
    this.pending.clear();
  }

  private post(m: MainToPrep): void {
    this.worker.postMessage(m);
  }

  private die(reason: string): void {
    if (this.deadReason !== null) return;
    this.deadReason = reason;
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
    this.log('error', `replica ${this.replica}: ${reason}`);
    this.onDeath?.(reason);
  }
}
