// The interactive session: home (choose and start), the live dashboard, saved runs and their comparison, with
// the help overlay. It holds only navigation and what the controller returned; every read, write and run goes
// through the Controller passed in, and the run's events flow through a dashboard store. The state lives in
// the hooks of use-session.ts; each view is drawn by one function here.
import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import type { Controller, Prefs, RunHandle, RunRequest } from '../app-port.js';
import { KeysProvider, useKeys } from '../use-keys.js';
import { TerminalSizeProvider } from '../terminal-size.js';
import { useBoot, useExitOnce, useNavigation, useRunLauncher, type Boot, type View } from '../use-session.js';
import { CompareScreen } from './CompareScreen.js';
import { HelpOverlay } from './HelpOverlay.js';
import { HomeScreen } from './HomeScreen.js';
import { LiveDashboard } from './LiveDashboard.js';
import { RunsScreen } from './RunsScreen.js';

type Props = {
  readonly controller: Controller;
  /** Called once when the user quits; the caller unmounts and exits with the code. */
  readonly onExit: (code: number) => void;
  /** Animate spinners (off for deterministic frames in tests). */
  readonly animate?: boolean;
  /** Debounce of the images field (tests shorten it). */
  readonly validateDebounceMs?: number;
  /** Told about each started run (the session uses it to stop runs on SIGTERM). */
  readonly onRunStarted?: (run: { readonly handle: RunHandle; readonly done: Promise<void> }) => void;
};

export default function App(props: Props) {
  return (
    <KeysProvider>
      <TerminalSizeProvider>
        <Session {...props} />
      </TerminalSizeProvider>
    </KeysProvider>
  );
}

/** What the view functions draw from: the session's props, its state and its actions. */
interface SessionParts {
  readonly props: Props;
  readonly boot: Extract<Boot, { state: 'ready' }>;
  readonly nav: ReturnType<typeof useNavigation>;
  readonly run: ReturnType<typeof useRunLauncher>;
  readonly exit: (code: number) => void;
  readonly startRun: (req: RunRequest) => void;
  readonly savePreset: (name: string, req: RunRequest) => ReturnType<Controller['savePreset']>;
}

function Session(props: Props) {
  const { controller, animate = true } = props;
  const exit = useExitOnce(props.onExit);
  const { boot, loadPresets, rememberPrefs } = useBoot(controller);
  const nav = useNavigation(controller);
  const run = useRunLauncher(controller, props.onRunStarted);

  useKeys(
    (input, key) => {
      // Quitting from a run the user stopped is an interrupted command (130), as `gemma-bench run` exits.
      if (key.ctrl && input === 'c') exit(nav.view.kind === 'dashboard' && run.stoppedByUser() ? 130 : 0);
    },
    // On the dashboard, Ctrl-C stops the run; once it is over it quits like anywhere else.
    { isActive: nav.view.kind !== 'dashboard' || run.ended },
  );

  if (boot.state === 'loading') return <LoadingView animate={animate} />;
  if (boot.state === 'fatal') return <FatalView message={boot.message} onExit={() => exit(1)} />;
  if (nav.help) return <HelpOverlay topic={nav.help} onClose={() => nav.setHelp(null)} />;

  const startRun = (req: RunRequest) => {
    const prefs: Prefs = { ...req };
    rememberPrefs(prefs);
    const problem = run.launch(req);
    nav.setView(problem ? { kind: 'home', message: problem } : { kind: 'dashboard' });
  };
  const savePreset = async (name: string, req: RunRequest) => {
    const r = await controller.savePreset(name, req);
    if (r.ok) await loadPresets({ ...boot.prefs, ...req, preset: name });
    return r;
  };
  return viewOf(nav.view, { props, boot, nav, run, exit, startRun, savePreset });
}

function viewOf(view: View, s: SessionParts) {
  switch (view.kind) {
    case 'home':
      return homeView(s, view.message ?? null);
    case 'dashboard':
      return dashboardView(s);
    case 'runs':
      return runsView(s, view.highlight ?? null);
    case 'compare':
      return compareView(s, view);
  }
}

function homeView({ props, boot, nav, exit, startRun, savePreset }: SessionParts, message: string | null) {
  const { controller, validateDebounceMs } = props;
  return (
    <HomeScreen
      presets={boot.presets}
      backends={boot.backends}
      initial={boot.prefs}
      validateImages={(s) => controller.validateImages(s)}
      describeModel={(m) => controller.describeModel(m)}
      message={message}
      blocker={boot.dataDirProblem}
      {...(validateDebounceMs !== undefined ? { debounceMs: validateDebounceMs } : {})}
      onStart={startRun}
      onSavePreset={savePreset}
      onRuns={() => nav.openRuns()}
      onQuit={() => exit(0)}
      onHelp={() => nav.setHelp('home')}
    />
  );
}

const DASHBOARD_DONE_HINTS = [
  ['r', 'saved runs'],
  ['enter/q', 'new run'],
  ['?', 'help'],
  ['ctrl+c', 'quit'],
] as const;

function dashboardView({ props, nav, run, exit }: SessionParts) {
  const active = run.active;
  if (!active) return null;
  return (
    <LiveDashboard
      store={active.store}
      animate={props.animate ?? true}
      onStop={() => run.stop(exit)}
      doneHints={DASHBOARD_DONE_HINTS}
      onDoneKey={(input, key) => {
        // Saved, but the replicas are still closing (the app-wide Ctrl-C waits for that): quit once they have, so a
        // Ctrl-C pressed in this window is never lost.
        if (key.ctrl && input === 'c' && !run.ended) {
          void active.done.then(() => exit(run.stoppedByUser() ? 130 : 0));
          return true;
        }
        if (input === 'r') {
          nav.openRuns(active.store.getSnapshot().runId);
          return true;
        }
        if (key.return || key.escape || input === 'q') {
          nav.setView({ kind: 'home' });
          return true;
        }
        return false;
      }}
    />
  );
}

function runsView({ props: { controller }, nav }: SessionParts, highlight: string | null) {
  return (
    <RunsScreen
      rows={nav.runs.rows}
      error={nav.runs.error}
      runsDir={controller.runsDir}
      highlightId={highlight}
      onOpen={nav.openCompare}
      onExport={(ids, f) => controller.exportRuns(ids, f)}
      onDelete={(ids) => controller.deleteRuns(ids)}
      onReload={nav.reloadRuns}
      onBack={() => nav.setView({ kind: 'home' })}
      onHelp={() => nav.setHelp('runs')}
    />
  );
}

function compareView({ props: { controller }, nav }: SessionParts, view: Extract<View, { kind: 'compare' }>) {
  return (
    <CompareScreen
      model={view.model}
      title={view.title}
      // The table itself as Markdown, CSV or JSON; HTML is the runs' report page with its charts.
      onExport={(f) => (f === 'html' ? controller.exportRuns(view.ids, f) : controller.exportComparison(view.model, f))}
      onBack={() => nav.openRuns(view.ids[0])}
      onHelp={() => nav.setHelp('compare')}
    />
  );
}

function LoadingView({ animate }: { readonly animate: boolean }) {
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold color="cyan">gemma-bench</Text>{' '}
        {animate ? (
          <Text color="cyan">
            <Spinner type="dots" />
          </Text>
        ) : null}{' '}
        loading the engine (tokenizer, onnxruntime)…
      </Text>
    </Box>
  );
}

function FatalView({ message, onExit }: { readonly message: string; readonly onExit: () => void }) {
  useKeys(() => onExit());
  return (
    <Box flexDirection="column">
      <Text color="red">gemma-bench could not start: {message}</Text>
      <Text dimColor>press any key to quit</Text>
    </Box>
  );
}
