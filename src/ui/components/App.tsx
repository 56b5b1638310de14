// The interactive session: home (choose and start), the live dashboard, saved runs and their comparison, with
// the help overlay. It holds only navigation and what the controller returned; every read, write and run goes
// through the Controller passed in, and the run's events flow through a dashboard store.
import { useEffect, useRef, useState } from 'react';
import { Box, Text } from 'ink';
import Spinner from 'ink-spinner';
import type { CompareModel } from '../../report/compare.js';
import type { BackendOption, Controller, PresetInfo, Prefs, RunHandle, RunRow } from '../app-port.js';
import { createDashboardStore, type DashboardStore } from '../dashboard-store.js';
import { pumpEvents } from '../pump.js';
import { KeysProvider, useKeys } from '../use-keys.js';
import { CompareScreen } from './CompareScreen.js';
import { HelpOverlay, type HelpTopic } from './HelpOverlay.js';
import { HomeScreen } from './HomeScreen.js';
import { LiveDashboard } from './LiveDashboard.js';
import { RunsScreen, type OpenTarget } from './RunsScreen.js';

type View =
  | { readonly kind: 'home'; readonly message?: string | null }
  | { readonly kind: 'dashboard' }
  | { readonly kind: 'runs'; readonly highlight?: string | null }
  | { readonly kind: 'compare'; readonly model: CompareModel; readonly title: string; readonly ids: readonly string[] };

type Boot =
  | { readonly state: 'loading' }
  | { readonly state: 'ready'; readonly presets: readonly PresetInfo[]; readonly backends: readonly BackendOption[]; readonly prefs: Prefs }
  | { readonly state: 'fatal'; readonly message: string };

interface ActiveRun {
  readonly store: DashboardStore;
  readonly handle: RunHandle;
  readonly done: Promise<void>;
}

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

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export default function App(props: Props) {
  return (
    <KeysProvider>
      <Session {...props} />
    </KeysProvider>
  );
}

function Session({ controller, onExit, animate = true, validateDebounceMs, onRunStarted }: Props) {
  const [boot, setBoot] = useState<Boot>({ state: 'loading' });
  const [view, setView] = useState<View>({ kind: 'home' });
  const [help, setHelp] = useState<HelpTopic | null>(null);
  const [runs, setRuns] = useState<{ rows: RunRow[] | null; error: string | null }>({ rows: null, error: null });
  const [active, setActive] = useState<ActiveRun | null>(null);
  const [ended, setEnded] = useState(true);
  const exited = useRef(false);
  const stops = useRef(0);

  const exit = (code: number) => {
    if (exited.current) return;
    exited.current = true;
    onExit(code);
  };

  const loadPresets = async (prefs?: Prefs) => {
    const [presets, backends] = await Promise.all([controller.listPresets(), controller.backends()]);
    setBoot((b) => ({ state: 'ready', presets, backends, prefs: prefs ?? (b.state === 'ready' ? b.prefs : controller.loadPrefs()) }));
  };

  useEffect(() => {
    // Let the first frame out before the engine's modules load (they block this thread for a moment).
    const t = setTimeout(() => {
      controller
        .init()
        .then(() => loadPresets(controller.loadPrefs()))
        .catch((err: unknown) => setBoot({ state: 'fatal', message: errText(err) }));
    }, 0);
    return () => clearTimeout(t);
  }, []);

  const reloadRuns = () => {
    controller.listRuns().then(
      (rows) => setRuns({ rows, error: null }),
      (err: unknown) => setRuns({ rows: [], error: errText(err) }),
    );
  };

  const openRuns = (highlight?: string | null) => {
    setRuns((r) => ({ rows: r.rows, error: null }));
    reloadRuns();
    setView({ kind: 'runs', highlight: highlight ?? null });
  };

  const openCompare = (t: OpenTarget) => {
    const p = t.kind === 'group' ? controller.compareGroup(t.groupId) : controller.compareRuns(t.ids);
    p.then(
      (model) => setView({ kind: 'compare', model, title: t.kind === 'group' ? `sweep ${t.groupId}` : `${model.columns.length} run(s)`, ids: model.columns.map((c) => c.id) }),
      (err: unknown) => setRuns((r) => ({ ...r, error: `cannot compare: ${errText(err)}` })),
    );
  };

  useKeys(
    (input, key) => {
      if (key.ctrl && input === 'c') exit(0);
    },
    // On the dashboard, Ctrl-C stops the run; once it is over it quits like anywhere else.
    { isActive: view.kind !== 'dashboard' || ended },
  );

  if (boot.state === 'loading') {
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
  if (boot.state === 'fatal') {
    return <FatalView message={boot.message} onExit={() => exit(1)} />;
  }

  if (help) return <HelpOverlay topic={help} onClose={() => setHelp(null)} />;

  switch (view.kind) {
    case 'home':
      return (
        <HomeScreen
          presets={boot.presets}
          backends={boot.backends}
          initial={boot.prefs}
          validateImages={(s) => controller.validateImages(s)}
          describeModel={(m) => controller.describeModel(m)}
          message={view.message ?? null}
          {...(validateDebounceMs !== undefined ? { debounceMs: validateDebounceMs } : {})}
          onStart={(req) => {
            const prefs: Prefs = { ...req };
            try {
              controller.savePrefs(prefs);
            } catch {
              // Preferences are a convenience: failing to remember them never blocks a run.
            }
            setBoot({ ...boot, prefs });
            const store = createDashboardStore();
            let handle: RunHandle;
            try {
              handle = controller.startRun(req);
            } catch (err) {
              setView({ kind: 'home', message: `cannot start: ${errText(err)}` });
              return;
            }
            setEnded(false);
            stops.current = 0;
            const done = pumpEvents(handle.events, store).then(() => setEnded(true));
            setActive({ store, handle, done });
            onRunStarted?.({ handle, done });
            setView({ kind: 'dashboard' });
          }}
          onSavePreset={async (name, req) => {
            const r = await controller.savePreset(name, req);
            if (r.ok) await loadPresets({ ...boot.prefs, ...req, preset: name });
            return r;
          }}
          onRuns={() => openRuns()}
          onQuit={() => exit(0)}
          onHelp={() => setHelp('home')}
        />
      );
    case 'dashboard':
      if (!active) return null;
      return (
        <LiveDashboard
          store={active.store}
          animate={animate}
          onStop={() => {
            // The first stop asks the engine to finish and save; a second Ctrl-C quits at once (exit 130).
            if (stops.current++ > 0) exit(130);
            else active.handle.cancel();
          }}
          doneHints={[
            ['r', 'saved runs'],
            ['enter/q', 'new run'],
            ['?', 'help'],
            ['ctrl+c', 'quit'],
          ]}
          onDoneKey={(input, key) => {
            if (input === 'r') {
              openRuns(active.store.getSnapshot().runId);
              return true;
            }
            if (key.return || key.escape || input === 'q') {
              setView({ kind: 'home' });
              return true;
            }
            return false;
          }}
        />
      );
    case 'runs':
      return (
        <RunsScreen
          rows={runs.rows}
          error={runs.error}
          runsDir={controller.runsDir}
          highlightId={view.highlight ?? null}
          onOpen={openCompare}
          onExport={(ids, f) => controller.exportRuns(ids, f)}
          onDelete={(ids) => controller.deleteRuns(ids)}
          onReload={reloadRuns}
          onBack={() => setView({ kind: 'home' })}
          onHelp={() => setHelp('runs')}
        />
      );
    case 'compare':
      return (
        <CompareScreen
          model={view.model}
          title={view.title}
          onExport={(f) => controller.exportRuns(view.ids, f)}
          onBack={() => openRuns(view.ids[0])}
          onHelp={() => setHelp('compare')}
        />
      );
  }
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
