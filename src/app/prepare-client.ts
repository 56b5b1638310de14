// The main-thread side of prepare-worker.ts: prepares a run's workload (and the backend's slow preparation) in a
// worker thread, passing its log lines on as they happen; or in this thread when asked (tests).
import { Worker } from 'node:worker_threads';
import type { RunSpec } from '../config/run-spec.js';
import type { LogFn } from '../engine/backend.js';
import type { Workload } from '../engine/types.js';
import type { PrepareInput, PrepareMessage } from './prepare-worker.js';

/** Resolves with the workload, or null if stopped first. */
export async function prepareRun(spec: RunSpec, log: LogFn, signal: AbortSignal, o: { readonly env: NodeJS.ProcessEnv; readonly inWorker: boolean }): Promise<Workload | null> {
  if (signal.aborted) return null;
  if (!o.inWorker) {
    const { prepareBackend, prepareWorkload } = await import('../engine/prepare.js');
    const workload = await prepareWorkload(spec, o.env);
    await prepareBackend(spec, log, o.env);
    return workload;
  }
  return new Promise((resolve, reject) => {
    const input: PrepareInput = { spec };
    const w = new Worker(new URL('./prepare-worker.js', import.meta.url), { workerData: input, env: o.env });
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    // Not terminated on abort, nor unref'd: ending a worker inside a sharp call (or letting the process exit under
    // it, which ends it the same way) can crash the process (lovell/sharp#2263). It finishes on its own, its answer
    // is dropped, and the process waits for it.
    const onAbort = () => done(() => resolve(null));
    signal.addEventListener('abort', onAbort);
    w.on('message', (m: PrepareMessage) => {
      if (m.type === 'log') log(m.level, m.message);
      else if (m.type === 'done') done(() => resolve(m.workload));
      else done(() => reject(new Error(m.message)));
    });
    w.on('error', (err) => done(() => reject(err)));
    w.on('exit', (code) => done(() => reject(new Error(`workload preparation stopped unexpectedly (exit code ${code})`))));
  });
}
