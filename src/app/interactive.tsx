// runInteractive: the whole interactive session (`gemma-bench` with no arguments on a terminal). Renders the App
// with exitOnCtrlC and patchConsole off, wires it to the I/O controller, and resolves to the exit code when the
// user quits. SIGTERM (and SIGINT, which a raw-mode terminal does not send for Ctrl-C but `kill -INT` does) stops
// any run in progress, waits for the engine to save it as interrupted, then exits 143 (130); a second signal stops
// the runs at once (in-flight requests cancelled). Nothing here ever ends the process under a running replica.
import { render } from 'ink';
import { EXIT_USAGE } from '../cli/command.js';
import App from '../ui/components/App.js';
import type { RunHandle } from '../ui/app-port.js';
import { RENDER_MAX_FPS } from '../ui/dashboard-runner.js';
import { createController, type AppController } from './app-controller.js';

/** Exit code when the user quits at once during a run, as for SIGINT. */
export const EXIT_INTERRUPTED = 130;

export interface InteractiveOptions {
  readonly controller?: AppController;
  readonly stdout?: NodeJS.WriteStream;
  readonly stdin?: NodeJS.ReadStream;
}

export async function runInteractive(o: InteractiveOptions = {}): Promise<number> {
  const stdin = o.stdin ?? process.stdin;
  if (!stdin.isTTY) {
    process.stderr.write('gemma-bench: the interactive app needs a terminal; use `gemma-bench run` (see `gemma-bench --help`) in scripts and pipes\n');
    return EXIT_USAGE;
  }
  const controller = o.controller ?? createController();
  const running = new Map<RunHandle, Promise<void>>();
  let code = 0;
  let app: ReturnType<typeof render> | null = null;
  app = render(
    <App
      controller={controller}
      onExit={(c) => {
        code = c;
        app?.unmount();
      }}
      onRunStarted={({ handle, done }) => {
        running.set(handle, done);
        void done.finally(() => running.delete(handle));
      }}
    />,
    { exitOnCtrlC: false, patchConsole: false, maxFps: RENDER_MAX_FPS, ...(o.stdout ? { stdout: o.stdout } : {}), ...(o.stdin ? { stdin: o.stdin } : {}) },
  );
  // Signals stop runs, never the process: the first gently, the second at once; the app quits (130/143) once every
  // run is saved, and the process exits when the replica threads have ended by themselves.
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      code = sig === 'SIGINT' ? 130 : 143;
      for (const h of running.keys()) h.cancel();
      void Promise.allSettled([...running.values()]).then(() => app?.unmount());
    } else if (signals === 2) {
      for (const h of running.keys()) h.stopNow();
    }
  };
  // Never removed: a signal while the runs save and their threads end must find a handler (with none, Node
  // restores the default action, which would end the process under them).
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await app.waitUntilExit();
  // Quitting with a run still going (it cannot, by the keys; but a caller's onExit might): stop it and let it save.
  for (const h of running.keys()) h.stopNow();
  await Promise.allSettled([...running.values()]);
  return code;
}
