// How a run stops on signals (SIGINT, SIGTERM) and on the dashboard's Ctrl-C key, however many arrive and
// whenever: the first stops it gently (in-flight requests may finish within the grace period), the second at once
// (in-flight requests are cancelled), any later one only says that the run is stopping. None of them ever exits
// the process: the partial run is saved as interrupted and the command returns 130 (SIGINT) or 143 (SIGTERM) once
// every worker thread has ended by itself. (Ending the process while a worker is inside a native onnxruntime call
// aborts it: see closeWorker in src/engine/backends/onnx/index.ts.)

export const EXIT_SIGINT = 130;
export const EXIT_SIGTERM = 143;

export class RunStopper {
  private readonly gentle = new AbortController();
  private readonly hard = new AbortController();
  private stops = 0;
  private listening = false;
  /** 130 or 143 once a stop came (the first one decides), else 0. */
  exitCode = 0;
  private readonly onSignal = (sig: NodeJS.Signals) => this.stop(sig);

  /** Tells the user what a stop does: stderr by default; the dashboard, which shows it itself, sets a no-op. */
  say: (message: string) => void = (m) => void process.stderr.write(`gemma-bench: ${m}\n`);

  /** Aborted by the first stop. */
  get signal(): AbortSignal {
    return this.gentle.signal;
  }

  /** Aborted by the second stop: give up in-flight work now. */
  get now(): AbortSignal {
    return this.hard.signal;
  }

  stop(sig: NodeJS.Signals): void {
    this.stops++;
    if (this.exitCode === 0) this.exitCode = sig === 'SIGINT' ? EXIT_SIGINT : EXIT_SIGTERM;
    if (this.stops === 1) {
      this.say(`${sig}: stopping; requests in flight may finish (up to 5 s), then the partial run is saved as interrupted (again: stop at once)`);
      this.gentle.abort();
    } else if (this.stops === 2) {
      this.say(`${sig} again: stopping at once; requests in flight are cancelled and the partial run is saved as interrupted`);
      this.hard.abort();
    } else {
      this.say(`${sig}: already stopping; the partial run is being saved and the workers end after their current step`);
    }
  }

  /** Takes over SIGINT and SIGTERM from now on (a signal no longer ends the process). */
  listen(): void {
    if (this.listening) return;
    this.listening = true;
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  unlisten(): void {
    this.listening = false;
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

/**
 * The process's one stopper for `run` and `sweep`: the composition root starts listening before the command's
 * modules load (over a second of imports), so even a signal that early stops the run rather than the process.
 */
export const processStopper = new RunStopper();
