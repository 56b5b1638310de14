// The dashboard bound to a live store, with its keys: q, Esc or Ctrl-C stop the run (once), ? opens help, and
// once the run is over the caller's own keys (onDone) apply. Used by the interactive app and by
// presentWithDashboard for `gemma-bench run` on a terminal.
import { useState } from 'react';
import { Box, type Key } from 'ink';
import type { DashboardStore } from '../dashboard-store.js';
import { useStoreState } from '../use-store.js';
import { Dashboard } from './Dashboard.js';
import { HelpOverlay } from './HelpOverlay.js';
import { useKeys } from '../use-keys.js';
import { dashboardLayout } from '../dashboard-layout.js';
import { useTerminalSize } from '../terminal-size.js';
import { scrolled } from './HScroll.js';

type Props = {
  readonly store: DashboardStore;
  /** Stops the run (the engine saves the partial run as interrupted). */
  readonly onStop: () => void;
  /** Keys once the run is over (the stream has ended); return true if handled. */
  readonly onDoneKey?: (input: string, key: Key) => boolean;
  /** Hints shown once the run is over. */
  readonly doneHints?: readonly (readonly [string, string])[];
  readonly animate?: boolean;
  readonly isActive?: boolean;
};

const RUNNING_HINTS = [
  ['q/esc', 'stop (the partial run is saved as interrupted)'],
  ['?', 'help'],
] as const;

export function LiveDashboard({ store, onStop, onDoneKey, doneHints, animate = true, isActive = true }: Props) {
  const s = useStoreState(store);
  const [help, setHelp] = useState(false);
  const [offset, setOffset] = useState(0);
  const size = useTerminalSize();
  const layout = dashboardLayout(s, size);
  // Over once the run is saved (run-finished), even while its replicas are still closing and the stream has not ended.
  const over = s.ended || s.finished !== null;
  useKeys(
    (input, key) => {
      if (input === '?') return setHelp(true);
      if (key.leftArrow || key.rightArrow) return setOffset((o) => scrolled(o, key.leftArrow ? -1 : 1, layout.columns, layout.contentWidth));
      if (over) {
        onDoneKey?.(input, key);
        return;
      }
      const ctrlC = key.ctrl && input === 'c';
      // Ctrl-C always reaches onStop (a second one means "stop at once" to the caller); q and Esc only once.
      if (ctrlC || ((input === 'q' || key.escape) && !s.stopRequested)) {
        store.dispatch({ type: 'ui:stop-requested' });
        onStop();
      }
    },
    { isActive: isActive && !help },
  );
  if (help) return <HelpOverlay topic="dashboard" onClose={() => setHelp(false)} />;
  const hints: readonly (readonly [string, string])[] = over
    ? (doneHints ?? [['?', 'help']])
    : s.stopRequested
      ? [['…', 'stopping: the partial run will be saved'], ['ctrl+c', 'again: stop at once'], ['?', 'help']]
      : RUNNING_HINTS;
  return (
    <Box flexDirection="column">
      <Dashboard state={s} hints={hints} animate={animate} offset={Math.min(offset, Math.max(0, layout.contentWidth - layout.columns))} />
    </Box>
  );
}
