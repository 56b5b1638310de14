// The main-thread side of intervals-worker.ts: a finished run's 95% intervals computed in a worker thread (the
// dashboard's final screen asks for them once the run is saved; the screen stays live meanwhile), or in this thread
// when asked (tests).
import { Worker } from 'node:worker_threads';
import type { RunFile } from '../engine/types.js';
import { runIntervals, type RunIntervals } from '../report/intervals.js';
import type { IntervalsInput, IntervalsMessage } from './intervals-worker.js';

export async function intervalsOffThread(run: RunFile, o: { readonly inWorker?: boolean } = {}): Promise<RunIntervals> {
  if (o.inWorker === false) return runIntervals(run);
  const input: IntervalsInput = { id: run.id, requests: run.requests, notes: run.notes };
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./intervals-worker.js', import.meta.url), { workerData: input });
    let settled = false;
    w.on('message', (m: IntervalsMessage) => {
      settled = true;
      if (m.type === 'done') resolve(m.intervals);
      else reject(new Error(m.message));
    });
    w.on('error', (err) => {
      settled = true;
      reject(err);
    });
    w.on('exit', (code) => {
      if (!settled) reject(new Error(`the intervals worker stopped unexpectedly (exit code ${code})`));
    });
  });
}
