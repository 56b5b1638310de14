// The I/O side of the interactive app: implements the Controller the screens call (src/ui/app-port.ts). It
// lists and saves presets, validates image paths, starts runs (run-starter.ts: the same RunSpec resolution,
// engine and store sink as `gemma-bench run`), reads, compares, exports and deletes saved runs, and keeps
// preferences.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatIssues, listPresetFiles, loadPreset } from '../config/load-preset.js';
import { dataDir, runsDir, userPresetsDir } from '../config/paths.js';
import { PresetSchema } from '../config/preset-schema.js';
import { effectivePreset, resolveRunSpec } from '../config/resolve-run-spec.js';
import { BACKEND_DEFINITIONS } from '../engine/backends/registry.js';
import type { RunFile } from '../engine/types.js';
import { compareRuns } from '../report/compare.js';
import { RANDOM_WEIGHTS_LABEL } from '../report/describe.js';
import { runsToCsv, runsToJson, runToJson, runToMarkdown } from '../report/export.js';
import { listGroup, listRuns, loadRun, removeRun } from '../store/run-store.js';
import type { BackendOption, Controller, ExportFormat, ImagesCheck, PresetInfo, Prefs, RunHandle, RunRequest, RunRow, SavePresetResult } from '../ui/app-port.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { utcStamp } from '../util/ids.js';
import { openPrefs, type PrefsStore } from './prefs.js';
import { requestOverrides, startRequestedRun } from './run-starter.js';

export const PRESET_NAME_PATTERN = /^[A-Za-z0-9._-]+$/;

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
  const prefs: PrefsStore = openPrefs(env);
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

    async listPresets(): Promise<PresetInfo[]> {
      return listPresetFiles(env).map((e) => {
        try {
          return { name: e.name, builtin: e.builtin, file: e.file, preset: loadPreset(e.file, env), error: null };
        } catch (err) {
          return { name: e.name, builtin: e.builtin, file: e.file, preset: null, error: errText(err).replace(/\n\s*/g, ' ') };
        }
      });
    },

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
      return BACKEND_DEFINITIONS.map((d) => ({ name: d.name, available: true, note: d.summary }));
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

    async listRuns(): Promise<RunRow[]> {
      return (await listRuns(dir)).map((e): RunRow =>
        e.ok
          ? { ok: true, id: e.id, name: e.name, status: e.status, startedAt: e.startedAt, presetName: e.presetName, backend: e.backend, modelLabel: e.modelLabel, group: e.group, headline: e.headline }
          : { ok: false, file: e.file, error: e.error },
      );
    },

    async compareRuns(ids) {
      const runs = await Promise.all(ids.map((id) => loadRun(id, dir)));
      return compareRuns(runs);
    },

    async compareGroup(groupId) {
      const runs = await listGroup(groupId, dir);
      if (!runs.length) throw new Error(`no readable runs in sweep ${groupId}`);
      return compareRuns(runs);
    },

    async exportRuns(ids: readonly string[], format: ExportFormat): Promise<string> {
      if (!ids.length) throw new Error('nothing to export');
      const runs: RunFile[] = await Promise.all(ids.map((id) => loadRun(id, dir)));
      const text =
        format === 'json' ? (runs.length === 1 ? runToJson(runs[0]) : runsToJson(runs)) : format === 'csv' ? runsToCsv(runs) : runs.map(runToMarkdown).join('\n---\n\n');
      const base = runs.length === 1 ? runs[0].id : `${utcStamp()}-${runs.length}-runs`;
      const file = join(dataDir(env), 'exports', `${base}.${format}`);
      await writeFileAtomic(file, text);
      return file;
    },

    async deleteRuns(ids) {
      const files: string[] = [];
      for (const id of ids) files.push(await removeRun(id, dir));
      return files;
    },

    async savePreset(name: string, req: RunRequest): Promise<SavePresetResult> {
      const n = name.trim();
      if (!PRESET_NAME_PATTERN.test(n)) return { ok: false, message: `preset name "${n}": use letters, digits, ".", "_" and "-" only` };
      const existing = listPresetFiles(env).find((e) => e.name === n);
      if (existing?.builtin) return { ok: false, message: `"${n}" is a built-in preset: choose another name` };
      if (existing) return { ok: false, message: `a user preset "${n}" exists (${existing.file}): choose another name` };
      try {
        const base = loadPreset(req.preset, env);
        const candidate = { ...effectivePreset(resolveRunSpec(base, requestOverrides(req))), name: n, description: `Saved from the interactive app, based on ${base.name}.` };
        const parsed = PresetSchema.safeParse(candidate);
        if (!parsed.success) return { ok: false, message: `invalid preset:\n${formatIssues(parsed.error)}` };
        const file = join(userPresetsDir(env), `${n}.json`);
        await writeFileAtomic(file, `${JSON.stringify(parsed.data, null, 2)}\n`);
        return { ok: true, file };
      } catch (err) {
        return { ok: false, message: `cannot save preset ${n}: ${errText(err)}` };
      }
    },

    loadPrefs: (): Prefs => prefs.load(),
    savePrefs: (p: Prefs) => prefs.save(p),
  };
  return controller;
}
