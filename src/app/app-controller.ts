// The I/O side of the interactive app: implements the Controller the screens call (src/ui/app-port.ts). It
// lists and saves presets, validates image paths, starts runs (workload preparation in a worker thread, then the
// engine, whose inference already runs in worker threads), reads, compares, exports and deletes saved runs, and
// keeps preferences. It reuses the headless `run` command's resolution (resolveRunSettings, resolveWorkload,
// createBackend) so a run started here is configured exactly as `gemma-bench run` would configure it.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { ParsedValues } from '../cli/args.js';
import { formatIssues, listPresetFiles, loadPreset } from '../config/load-preset.js';
import { dataDir, runsDir, userPresetsDir } from '../config/paths.js';
import { PresetSchema } from '../config/preset-schema.js';
import type { EngineEvent } from '../engine/events.js';
import type { RunFile, Workload } from '../engine/types.js';
import { compareRuns } from '../report/compare.js';
import { RANDOM_WEIGHTS_LABEL } from '../report/describe.js';
import { runsToCsv, runsToJson, runToJson, runToMarkdown } from '../report/export.js';
import { listGroup, listRuns, loadRun, removeRun } from '../store/run-store.js';
import type { BackendOption, Controller, ExportFormat, ImagesCheck, PresetInfo, Prefs, RunHandle, RunRequest, RunRow, SavePresetResult } from '../ui/app-port.js';
import { openPrefs, type PrefsStore } from './prefs.js';
import type { PrepareInput, PrepareMessage } from './prepare-worker.js';

type RunOptionsModule = typeof import('../cli/run-flags.js');
type EngineRunModule = typeof import('../engine/run-benchmark.js');
type WorkloadModule = typeof import('../engine/workload.js');

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

/** Lets a producer push events while a task runs; yields them, then returns the task's value (or throws). */
async function* whileRunning<T>(task: (emit: (e: EngineEvent) => void) => Promise<T>): AsyncGenerator<EngineEvent, T> {
  const queue: EngineEvent[] = [];
  let wake: (() => void) | null = null;
  let settled = false;
  let failed = false;
  let value: T | undefined;
  let error: unknown;
  task((e) => {
    queue.push(e);
    wake?.();
  }).then(
    (v) => (value = v),
    (e: unknown) => {
      failed = true;
      error = e;
    },
  ).finally(() => {
    settled = true;
    wake?.();
  });
  for (;;) {
    while (queue.length) yield queue.shift()!;
    if (settled) break;
    await new Promise<void>((r) => (wake = r));
    wake = null;
  }
  while (queue.length) yield queue.shift()!;
  if (failed) throw error;
  return value as T;
}

/** The flags a home-screen request stands for, as `gemma-bench run` would parse them. */
export function requestToValues(req: RunRequest): ParsedValues {
  return {
    backend: req.backend,
    model: req.model,
    ...(req.images.trim() ? { images: req.images.trim() } : {}),
    ...(req.requests !== null ? { requests: String(req.requests) } : {}),
    ...(req.warmup !== null ? { warmup: String(req.warmup) } : {}),
    ...(req.maxNewTokens !== null ? { 'max-new-tokens': String(req.maxNewTokens) } : {}),
  };
}

const pad2 = (n: number) => String(n).padStart(2, '0');
function stamp(d = new Date()): string {
  return `${d.getFullYear()}${pad2(d.getMonth() + 1)}${pad2(d.getDate())}-${pad2(d.getHours())}${pad2(d.getMinutes())}${pad2(d.getSeconds())}`;
}

/** Writes a file atomically (temp file beside it, then rename). */
async function writeAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

export function createController(o: ControllerOptions = {}): AppController {
  const env = o.env ?? process.env;
  const useWorker = o.prepareInWorker ?? true;
  const dir = runsDir(env);
  const prefs: PrefsStore = openPrefs(env);
  const active = new Set<RunHandle>();
  let mods: { ro: RunOptionsModule; engine: EngineRunModule; workload: WorkloadModule } | null = null;

  const need = () => {
    if (!mods) throw new Error('controller.init() has not finished');
    return mods;
  };

  /** Prepares the workload (and the tiny model) in a worker thread; logs come back as they happen. */
  const prepare = (input: PrepareInput, log: (level: 'info' | 'warn' | 'error', m: string) => void, signal: AbortSignal): Promise<Workload | null> => {
    if (signal.aborted) return Promise.resolve(null);
    if (!useWorker) return need().ro.resolveWorkload(input.values, input.preprocess, input.seed);
    return new Promise((resolve, reject) => {
      const w = new Worker(new URL('./prepare-worker.js', import.meta.url), { workerData: input, env });
      let settled = false;
      const done = (fn: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        fn();
      };
      // Not terminated on abort: ending a worker inside a sharp call can crash the process (lovell/sharp#2263).
      // It finishes on its own and its answer is dropped; unref so it cannot hold the process open.
      const onAbort = () => done(() => (w.unref(), resolve(null)));
      signal.addEventListener('abort', onAbort);
      w.on('message', (m: PrepareMessage) => {
        if (m.type === 'log') log(m.level, m.message);
        else if (m.type === 'done') done(() => resolve(m.workload));
        else done(() => reject(new Error(m.message)));
      });
      w.on('error', (err) => done(() => reject(err)));
      w.on('exit', (code) => done(() => reject(new Error(`workload preparation stopped unexpectedly (exit code ${code})`))));
    });
  };

  const controller: AppController = {
    active,
    runsDir: dir,

    async init() {
      if (mods) return;
      const [ro, engine, workload] = await Promise.all([import('../cli/run-flags.js'), import('../engine/run-benchmark.js'), import('../engine/workload.js')]);
      mods = { ro, engine, workload };
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
        const { files, skipped } = await need().workload.discoverImages(s);
        return { ok: true, images: files.length, skipped, message: `${files.length} image${files.length === 1 ? '' : 's'}${skipped ? ` (${skipped} other file${skipped === 1 ? '' : 's'} skipped)` : ''}` };
      } catch (err) {
        return { ok: false, message: errText(err) };
      }
    },

    async backends(): Promise<BackendOption[]> {
      const { ro } = need();
      const probe = (name: 'transformers'): BackendOption => {
        try {
          ro.resolveRunSettings({ backend: name }, loadPreset('baseline', env));
          return { name, available: true, note: 'Python workers (transformers + accelerate)' };
        } catch (err) {
          return { name, available: false, note: errText(err).includes('must be one of') ? 'not in this build yet' : errText(err) };
        }
      };
      return [{ name: 'onnx', available: true, note: 'embedded onnxruntime, CPU by default' }, probe('transformers')];
    },

    describeModel(model: string): string {
      const m = model.trim() || 'tiny';
      if (m === 'tiny') return `gemma3-tiny, ${RANDOM_WEIGHTS_LABEL}`;
      return existsSync(m) ? 'ONNX export directory' : 'not found here: a directory (onnx) or a Hub id (transformers)';
    },

    startRun(req: RunRequest): RunHandle {
      const ac = new AbortController();
      const t0 = performance.now();
      const at = () => performance.now() - t0;
      const log = (level: 'info' | 'warn' | 'error', message: string): EngineEvent => ({ type: 'log', at: at(), level, message });
      let handle!: RunHandle;
      async function* events(): AsyncGenerator<EngineEvent> {
        try {
          const { ro, engine } = need();
          const preset = loadPreset(req.preset, env);
          const values = requestToValues(req);
          const r = ro.resolveRunSettings(values, preset);
          const workload = yield* whileRunning((emit) => prepare({ values, preprocess: r.preprocess, seed: r.settings.seed, backendChoice: r.backendChoice }, (l, m) => emit(log(l, m)), ac.signal));
          if (!workload || ac.signal.aborted) return;
          const backend = yield* whileRunning((emit) => ro.createBackend(r.backendChoice, (l, m) => emit(log(l, m)), env));
          if (ac.signal.aborted) return;
          yield* engine.runBenchmark(
            ro.runConfigFor(r, workload, { name: preset.name, runsDir: dir, settings: await ro.resolveAutoReplicas(backend, r.backendChoice, r.settings, r.gpusPerReplica) }),
            { backend, signal: ac.signal },
          );
        } finally {
          active.delete(handle);
        }
      }
      handle = { events: events(), cancel: () => ac.abort() };
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
      const base = runs.length === 1 ? runs[0].id : `${stamp()}-${runs.length}-runs`;
      const file = join(dataDir(env), 'exports', `${base}.${format}`);
      await writeAtomic(file, text);
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
        const r = need().ro.resolveRunSettings(requestToValues(req), base);
        const candidate = { ...r.effective, name: n, description: `Saved from the interactive app, based on ${base.name}.` };
        const parsed = PresetSchema.safeParse(candidate);
        if (!parsed.success) return { ok: false, message: `invalid preset:\n${formatIssues(parsed.error)}` };
        const file = join(userPresetsDir(env), `${n}.json`);
        await writeAtomic(file, `${JSON.stringify(parsed.data, null, 2)}\n`);
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
