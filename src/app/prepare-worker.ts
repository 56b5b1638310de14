// Worker thread: prepares a run's workload (discovers the images, reads their headers and hashes, plans crops,
// counts prompt tokens, and builds the synthetic set on first use) and, for the built-in tiny model, builds it
// if missing, so none of that runs on the thread that draws the interactive screen. Replies with plain messages.
import { parentPort, workerData } from 'node:worker_threads';
import type { ParsedValues } from '../cli/args.js';
import type { BackendChoice } from '../cli/run-flags.js';
import type { Workload } from '../engine/types.js';
import type { PreprocessSettings } from '../panscan/preprocess.js';

export interface PrepareInput {
  readonly values: ParsedValues;
  readonly preprocess: PreprocessSettings;
  readonly seed: number;
  readonly backendChoice: BackendChoice;
}

export type PrepareMessage =
  | { readonly type: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly message: string }
  | { readonly type: 'done'; readonly workload: Workload }
  | { readonly type: 'error'; readonly message: string };

async function main(input: PrepareInput): Promise<void> {
  const post = (m: PrepareMessage) => parentPort?.postMessage(m);
  try {
    const ro = await import('../cli/run-flags.js');
    post({ type: 'log', level: 'info', message: 'preparing the workload: reading image headers, planning crops, counting tokens…' });
    const workload = await ro.resolveWorkload(input.values, input.preprocess, input.seed);
    if (input.backendChoice.kind === 'onnx' && input.backendChoice.model === 'tiny') {
      post({ type: 'log', level: 'info', message: 'checking the built-in tiny model…' });
      await ro.createBackend(input.backendChoice, (level, message) => post({ type: 'log', level, message }));
    }
    post({ type: 'done', workload });
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
}

if (parentPort) void main(workerData as PrepareInput);
