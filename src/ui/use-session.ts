// The interactive session's state as hooks: starting up (the engine's modules, presets, backends, the remembered
// choices), which view shows (and the help over it, the saved runs it lists), the run in progress, and quitting
// once. Every read, write and run goes through the Controller; nothing here draws.
import { useEffect, useRef, useState } from 'react';
import type { CompareModel } from '../report/compare.js';
import type { BackendOption, Controller, PresetInfo, Prefs, RunHandle, RunRequest, RunRow } from './app-port.js';
import { createDashboardStore, type DashboardStore } from './dashboard-store.js';
import type { HelpTopic } from './components/HelpOverlay.js';
import type { OpenTarget } from './runs-keys.js';
import { pumpEvents } from './pump.js';

export type View =
  | { readonly kind: 'home'; readonly message?: string | null }
  | { readonly kind: 'dashboard' }
  | { readonly kind: 'runs'; readonly highlight?: string | null }
  | { readonly kind: 'compare'; readonly model: CompareModel; readonly title: string; readonly ids: readonly string[] };

export type Boot =
  | { readonly state: 'loading' }
  | { readonly state: 'ready'; readonly presets: readonly PresetInfo[]; readonly backends: readonly BackendOption[]; readonly prefs: Prefs; readonly dataDirProblem: string | null }
  | { readonly state: 'fatal'; readonly message: string };

export interface ActiveRun {
  readonly store: DashboardStore;
  readonly handle: RunHandle;
  readonly done: Promise<void>;
}

export const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** onExit, called at most once whatever asks for it. */
export function useExitOnce(onExit: (code: number) => void): (code: number) => void {
  const exited = useRef(false);
  return (code: number) => {
    if (exited.current) return;
    exited.current = true;
    onExit(code);
  };
}

/** Loads the engine, then the presets, backends and remembered choices (again after a preset is saved). */
export function useBoot(controller: Controller) {
  const [boot, setBoot] = useState<Boot>({ state: 'loading' });
  const loadPresets = async (prefs?: Prefs) => {
    const [presets, backends, dataDirProblem] = await Promise.all([controller.listPresets(), controller.backends(), controller.dataDirProblem?.() ?? null]);
    setBoot((b) => ({ state: 'ready', presets, backends, prefs: prefs ?? (b.state === 'ready' ? b.prefs : controller.loadPrefs()), dataDirProblem }));
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
  /** Remembers a request's choices (a failure to save them never blocks a run) and starts the next home from them. */
  const rememberPrefs = (prefs: Prefs) => {
    try {
      controller.savePrefs(prefs);
    } catch {
      // Preferences are a convenience: failing to remember them never blocks a run.
    }
    setBoot((b) => (b.state === 'ready' ? { ...b, prefs } : b));
  };
  return { boot, loadPresets, rememberPrefs };
}

/** The view, the help over it, and the saved runs (listed when the runs view opens; a comparison from them). */
export function useNavigation(controller: Controller) {
  const [view, setView] = useState<View>({ kind: 'home' });
  const [help, setHelp] = useState<HelpTopic | null>(null);
  const [runs, setRuns] = useState<{ rows: RunRow[] | null; error: string | null }>({ rows: null, error: null });
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
      (model) => setView({ kind: 'compare', model, title: t.kind === 'group' ? `${t.groupId.startsWith('repeat-') ? 'repeats' : 'sweep'} ${t.groupId}` : `${model.columns.length} run(s)`, ids: model.columns.flatMap((c) => c.runIds) }),
      (err: unknown) => setRuns((r) => ({ ...r, error: `cannot compare: ${errText(err)}` })),
    );
  };
  return { view, setView, help, setHelp, runs, reloadRuns, openRuns, openCompare };
}

/** The run in progress: started through the controller, its events pumped into a dashboard store. */
export function useRunLauncher(controller: Controller, onRunStarted?: (run: { readonly handle: RunHandle; readonly done: Promise<void> }) => void) {
  const [active, setActive] = useState<ActiveRun | null>(null);
  const [ended, setEnded] = useState(true);
  const stops = useRef(0);
  /** Starts a run; returns why it could not start, or null. */
  const launch = (req: RunRequest): string | null => {
    const store = createDashboardStore();
    let handle: RunHandle;
    try {
      handle = controller.startRun(req);
    } catch (err) {
      return `cannot start: ${errText(err)}`;
    }
    setEnded(false);
    stops.current = 0;
    store.dispatch({ type: 'ui:preparing', message: 'preparing the run…', requested: { preset: req.preset, backend: req.backend, model: req.model } });
    // The final screen's intervals come from the controller (off this thread), once the run is saved.
    const intervalsOf = controller.runIntervals?.bind(controller);
    const done = pumpEvents(handle.events, store, intervalsOf ? { intervalsOf } : {}).then(() => setEnded(true));
    setActive({ store, handle, done });
    onRunStarted?.({ handle, done });
    return null;
  };
  /**
   * The first stop asks the engine to finish and save; a second one (Ctrl-C while stopping) stops it at once and
   * quits (130) once the partial run is saved; later ones change nothing. The process is never ended under a run.
   */
  const stop = (exit: (code: number) => void) => {
    const n = ++stops.current;
    if (!active) return;
    if (n === 1) active.handle.cancel();
    else if (n === 2) {
      active.handle.stopNow();
      void active.done.then(() => exit(130));
    }
  };
  /** Whether the user stopped the current run (a Ctrl-C that then quits exits 130, as an interrupted command). */
  const stoppedByUser = () => stops.current > 0;
  return { active, ended, launch, stop, stoppedByUser };
}
