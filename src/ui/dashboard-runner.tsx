// presentWithDashboard: the live dashboard for `gemma-bench run` on a terminal. Renders the dashboard, feeds it
// the engine's events, calls onStop on q / Esc / Ctrl-C, and resolves once the stream has ended and the last
// frame (the final numbers and where the run was saved) is on screen. Renders with exitOnCtrlC and patchConsole
// off, so the caller keeps control of the process and of its exit code. No I/O besides the terminal.
import { render } from 'ink';
import type { EngineEvent } from '../engine/events.js';
import { LiveDashboard } from './components/LiveDashboard.js';
import { createDashboardStore } from './dashboard-store.js';
import { pumpEvents, type PumpOptions } from './pump.js';
import { KeysProvider } from './use-keys.js';
import { TerminalSizeProvider } from './terminal-size.js';

/**
 * Ink's frame cap (its default, made explicit). Measured in tmux on 2 busy cores: 60 did not answer keys
 * measurably sooner, and Ink 6.8's incrementalRendering garbled the dashboard, so neither is used.
 */
export const RENDER_MAX_FPS = 30;

export interface PresentOptions {
  /** The finished run's 95% intervals, computed off this thread (the final screen shows them once they arrive). */
  readonly intervalsOf?: PumpOptions['intervalsOf'];
  readonly stdout?: NodeJS.WriteStream;
  readonly stdin?: NodeJS.ReadStream;
  readonly stderr?: NodeJS.WriteStream;
}

export async function presentWithDashboard(events: AsyncIterable<EngineEvent>, onStop: () => void, o: PresentOptions = {}): Promise<void> {
  const store = createDashboardStore();
  const app = render(
    <KeysProvider>
      <TerminalSizeProvider>
        <LiveDashboard store={store} onStop={onStop} doneHints={[]} />
      </TerminalSizeProvider>
    </KeysProvider>,
    {
      exitOnCtrlC: false,
      patchConsole: false,
      maxFps: RENDER_MAX_FPS,
      ...(o.stdout ? { stdout: o.stdout } : {}),
      ...(o.stdin ? { stdin: o.stdin } : {}),
      ...(o.stderr ? { stderr: o.stderr } : {}),
    },
  );
  try {
    await pumpEvents(events, store, o.intervalsOf ? { intervalsOf: o.intervalsOf } : {});
  } finally {
    store.flush();
    store.dispose();
    // Let Ink draw the final frame before unmounting (it stays on screen after unmount).
    await new Promise((r) => setTimeout(r, 50));
    app.unmount();
    await app.waitUntilExit().catch(() => undefined);
  }
}
