// Worker thread: a finished run's 95% intervals and steady-state check (src/report/intervals.ts), so the bootstrap
// (up to ~200 ms of CPU for 10,000 requests) never runs on the thread that draws the dashboard.
import { parentPort, workerData } from 'node:worker_threads';
import type { RunFile } from '../engine/types.js';
import { runIntervals, type RunIntervals } from '../report/intervals.js';

/** What the intervals need of a run: its id (the seed) and its records. */
export type IntervalsInput = Pick<RunFile, 'id' | 'requests' | 'notes'>;

export type IntervalsMessage = { readonly type: 'done'; readonly intervals: RunIntervals } | { readonly type: 'error'; readonly message: string };

function main(input: IntervalsInput): void {
  let m: IntervalsMessage;
  try {
    m = { type: 'done', intervals: runIntervals(input as RunFile) };
  } catch (err) {
    m = { type: 'error', message: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(m);
}

if (parentPort) main(workerData as IntervalsInput);
