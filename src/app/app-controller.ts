// The I/O side of the interactive app: implements the Controller the screens call (src/ui/app-port.ts). It
// lists and saves presets, validates image paths, starts runs (run-starter.ts: the same RunSpec resolution,
// engine and store sink as `gemma-bench run`), reads, compares, exports and deletes saved runs, and keeps
// preferences.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir, runsDir } from '../config/paths.js';
import { BACKEND_DEFINITIONS } from '../engine/backends/registry.js';
import { RANDOM_WEIGHTS_LABEL } from '../report/describe.js';
import type { BackendOption, Controller, ImagesCheck, Prefs, RunHandle, RunRequest } from '../ui/app-port.js';
import { intervalsOffThread } from './intervals-client.js';
import { openPrefs } from './prefs.js';
import { presetInfos, savePresetAs } from './presets.js';
import { startRequestedRun } from './run-starter.js';
import { compareIds, compareSweep, deleteRuns, exportComparison, exportRuns, runRows } from './saved-runs.js';

export interface ControllerOptions {
  /** Environment for the data directory (GEMMA_BENCH_HOME) and the workers; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Prepare the workload in a worker thread (default true); off runs it in this thread (tests). */
  readonly prepareInWorker?: boolean;
}

export interface AppController extends Controller {
  /** Runs started and not yet over, so the session can stop them on SIGTERM. */
  readonly active: ReadonlySet<RunHandle>;
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function createController(o: ControllerOptions = {}): AppController {
  const env = o.env ?? process.env;
  const useWorker = o.prepareInWorker ?? true;
  const dir = runsDir(env);
  const prefs = openPrefs(env);
  const active = new Set<RunHandle>();
  let workloadModule: typeof import('../engine/workload.js') | null = null;
  const need = () => {
    if (!workloadModule) throw new Error('controller.init() has not finished');
    return workloadModule;
  };

  const controller: AppController = {
    active,
    runsDir: dir,

    async init() {
      // The engine's modules load here, once, rather than on the first keypress that needs them.
      const [workload] = await Promise.all([import('../engine/workload.js'), import('../engine/run-benchmark.js'), import('../engine/prepare.js')]);
      workloadModule = workload;
    },

    async dataDirProblem() {
      const { dataDirProblem } = await import('../store/data-dir.js');
      return dataDirProblem(env).catch((err: unknown) => errText(err));
    },

    listPresets: async () => presetInfos(env),

    async validateImages(spec: string): Promise<ImagesCheck> {
      const s = spec.trim();
      if (!s) return { ok: true, images: 0, skipped: 0, message: 'built-in synthetic document set' };
      try {
        const { files, skipped } = await need().discoverImages(s);
        return { ok: true, images: files.length, skipped, message: `${files.length} image${files.length === 1 ? '' : 's'}${skipped ? ` (${skipped} other file${skipped === 1 ? '' : 's'} skipped)` : ''}` };
      } catch (err) {
        return { ok: false, message: errText(err) };
      }
    },

    async backends(): Promise<BackendOption[]> {
      return BACKEND_DEFINITIONS.map((d) => ({ name: d.name, available: true, note: d.summary, ...(d.runsOn ? { runsOn: d.runsOn } : {}) }));
    },

    describeModel(model: string): string {
      const m = model.trim() || 'tiny';
      if (m === 'tiny') return `gemma3-tiny, ${RANDOM_WEIGHTS_LABEL}`;
      return existsSync(m) ? 'ONNX export directory' : 'not found here: a directory (onnx) or a Hub id (transformers)';
    },

    startRun(req: RunRequest): RunHandle {
      const handle = startRequestedRun(req, { env, runsDir: dir, prepareInWorker: useWorker, onEnd: (h) => active.delete(h) });
      active.add(handle);
      return handle;
    },

    listRuns: () => runRows(dir),
    compareRuns: (ids) => compareIds(ids, dir),
    compareGroup: (groupId) => compareSweep(groupId, dir),
    exportRuns: (ids, format) => exportRuns(ids, format, dir, join(dataDir(env), 'exports')),
    runIntervals: (run) => intervalsOffThread(run, { inWorker: useWorker }),
    exportComparison: (model, format) => exportComparison(model, format, join(dataDir(env), 'exports')),
    deleteRuns: (ids) => deleteRuns(ids, dir),
    savePreset: (name, req) => savePresetAs(name, req, env),

    loadPrefs: (): Prefs => prefs.load(),
    savePrefs: (p: Prefs) => prefs.save(p),
  };
  return controller;
}
