// Worker thread: prepares a run's workload (discovers the images, reads their headers and hashes, plans crops,
// counts prompt tokens, and builds the synthetic set on first use) and the backend's slow preparation (building
// the tiny model if missing), so none of that runs on the thread that draws the interactive screen.
import { parentPort, workerData } from 'node:worker_threads';
import type { RunSpec } from '../config/run-spec.js';
import type { Workload } from '../engine/types.js';

export interface PrepareInput {
  readonly spec: RunSpec;
}

export type PrepareMessage =
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string }
  | { readonly type: 'done'; readonly workload: Workload }
  | { readonly type: 'error'; readonly message: string };

async function main(input: PrepareInput): Promise<void> {
  const post = (m: PrepareMessage) => parentPort?.postMessage(m);
  try {
    const { prepareBackend, prepareWorkload } = await import('../engine/prepare.js');
    post({ type: 'log', level: 'info', message: 'preparing the workload: reading image headers, planning crops, counting tokens…' });
    const workload = await prepareWorkload(input.spec);
    await prepareBackend(input.spec, (level, message) => post({ type: 'log', level, message }));
    post({ type: 'done', workload });
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
}

if (parentPort) void main(workerData as PrepareInput);
