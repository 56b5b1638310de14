// Keeping `gemma-bench serve` up until SIGINT or SIGTERM, then stopping it cleanly: the server stops accepting,
// in-flight streams end (finish_reason "abort", usage, [DONE]), the replicas close. Resolves with the exit code
// the rest of the app uses for an interrupted command: 130 after SIGINT, 143 after SIGTERM. Further signals while
// stopping only say so: the process never exits while a replica thread is inside a native onnxruntime call (that
// aborts it), and closing stops each replica's batch after its current decode step.
import type { LogFn } from '../engine/backend.js';
import type { RunningServer } from './http-server.js';

export const EXIT_SIGINT = 130;
export const EXIT_SIGTERM = 143;

/** What the function needs of `process` (tests pass an EventEmitter). */
export interface SignalSource {
  on(event: 'SIGINT' | 'SIGTERM', listener: (sig: NodeJS.Signals) => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', listener: (sig: NodeJS.Signals) => void): unknown;
}

export function serveUntilSignal(
  server: Pick<RunningServer, 'close'>,
  o: { log: LogFn; signals?: SignalSource } = { log: () => {} },
): Promise<number> {
  const signals = o.signals ?? process;
  return new Promise<number>((resolve, reject) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      const code = sig === 'SIGINT' ? EXIT_SIGINT : EXIT_SIGTERM;
      if (stopping) {
        o.log('warn', `${sig} again: already stopping; in-flight requests end after their current decode step, then the replicas close`);
        return;
      }
      stopping = true;
      o.log('info', `${sig}: stopping (in-flight requests end with finish_reason "abort" after their current decode step)`);
      server.close().then(
        () => {
          signals.off('SIGINT', onSignal);
          signals.off('SIGTERM', onSignal);
          resolve(code);
        },
        (err: unknown) => {
          signals.off('SIGINT', onSignal);
          signals.off('SIGTERM', onSignal);
          reject(err as Error);
        },
      );
    };
    signals.on('SIGINT', onSignal);
    signals.on('SIGTERM', onSignal);
  });
}
