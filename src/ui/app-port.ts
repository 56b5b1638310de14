// The contract between the interactive screens and the I/O side (src/app/app-controller.ts implements it; tests pass
// fakes). The UI only calls these methods and renders what they return: it never reads files, starts workers or
// touches the engine itself. Types only, plus a few pure helpers about them.
import { DEFAULT_CONCURRENCY, DEFAULT_REQUESTS, type Preset } from '../config/preset-schema.js';
import type { EngineEvent } from '../engine/events.js';
import type { CompareModel } from '../report/compare.js';
import type { RunFile } from '../engine/types.js';
import type { RunIntervals } from '../report/intervals.js';
import type { RunHeadline, RunListBad, RunListOk } from '../report/describe.js';
import { loadText, panScanText } from '../report/phrases.js';

export interface PresetInfo {
  readonly name: string;
  readonly builtin: boolean;
  readonly file: string;
  /** The validated preset, or null when the file is invalid (then `error` says why). */
  readonly preset: Preset | null;
  readonly error: string | null;
}

export type ImagesCheck =
  | { readonly ok: true; readonly images: number; readonly skipped: number; readonly message: string }
  | { readonly ok: false; readonly message: string };

export interface BackendOption {
  readonly name: string;
  readonly available: boolean;
  /** Why it is unavailable, or a short description. */
  readonly note: string;
  /** What its replicas run on by default (the presets' topology is shown as it would run); GPUs when unsaid. */
  readonly runsOn?: 'cpu' | 'gpu' | 'endpoints';
}

/** What the user chose on the home screen. Null numbers mean "as the preset says". */
export interface RunRequest {
  readonly preset: string;
  /** A file, directory or glob; empty for the built-in synthetic set. */
  readonly images: string;
  readonly backend: string;
  /**
   * "tiny" (built-in, random weights) or a model path / id; for the openai backend the served model id, where
   * empty means the server's first model.
   */
  readonly model: string;
  /**
   * The openai backend's server base URLs as typed, separated by spaces or commas (splitEndpoints in endpoints.ts
   * splits them); '' when none. Carried whatever the backend, so the choice is remembered; only openai uses it.
   */
  readonly endpoints: string;
  readonly requests: number | null;
  readonly warmup: number | null;
  readonly maxNewTokens: number | null;
}

export interface RunHandle {
  /**
   * The run's events: first `log` events while the workload and model are prepared, then the engine's own.
   * Throws (from the iterator) when preparation fails, with a message for the user.
   */
  readonly events: AsyncIterable<EngineEvent>;
  /** Stops the run: in-flight requests may finish (a grace period), then the engine saves what it measured as interrupted. Safe to call more than once. */
  cancel(): void;
  /** Stops the run at once: in-flight requests are cancelled, the partial run is saved as interrupted. Safe to call more than once. */
  stopNow(): void;
}

export type { RunHeadline };

/** A saved run as the list shows it, or a run file that cannot be read (named, never hiding the others). */
export type RunRow = Omit<RunListOk, 'file'> | RunListBad;

export type ExportFormat = 'json' | 'csv' | 'md' | 'html';
/** What the compare screen writes as the table itself (HTML is the runs' report page, through exportRuns). */
export type ComparisonFormat = Exclude<ExportFormat, 'html'>;

/** The remembered choices of the home screen: the last run request. */
export type Prefs = RunRequest;

export const DEFAULT_PREFS: Prefs = { preset: 'balanced', images: '', backend: 'onnx', model: 'tiny', endpoints: '', requests: null, warmup: null, maxNewTokens: null };

export type SavePresetResult = { readonly ok: true; readonly file: string } | { readonly ok: false; readonly message: string };

export interface Controller {
  /** Loads the engine's modules (the slow part of starting); call once before the other methods. */
  init(): Promise<void>;
  /** Why runs cannot be saved (the data directory is not writable), in words with the fix; null when they can. Never throws. */
  dataDirProblem?(): Promise<string | null>;
  listPresets(): Promise<PresetInfo[]>;
  /** Validates an images path or glob as typed (empty = the synthetic set). Never throws. */
  validateImages(spec: string): Promise<ImagesCheck>;
  backends(): Promise<BackendOption[]>;
  /** What the model field stands for, e.g. "gemma3-tiny, random weights: speed only". */
  describeModel(model: string): string;
  startRun(req: RunRequest): RunHandle;
  listRuns(): Promise<RunRow[]>;
  /** The comparison of saved runs, the first being the baseline. */
  compareRuns(ids: readonly string[]): Promise<CompareModel>;
  /** The comparison of a sweep's runs in grid order. */
  compareGroup(groupId: string): Promise<CompareModel>;
  /** Writes the export and returns its path. */
  exportRuns(ids: readonly string[], format: ExportFormat): Promise<string>;
  /** A finished run's 95% intervals and steady-state check, computed off the UI thread (the dashboard's final screen). */
  runIntervals?(run: RunFile): Promise<RunIntervals>;
  /** Writes the comparison table itself (Markdown, CSV or JSON, as `compare --format` does) and returns its path. */
  exportComparison(model: CompareModel, format: ComparisonFormat): Promise<string>;
  /** Deletes the runs; returns the files removed. */
  deleteRuns(ids: readonly string[]): Promise<string[]>;
  /** Saves the request's settings as a user preset named `name` (validated; never overwrites a built-in). */
  savePreset(name: string, req: RunRequest): Promise<SavePresetResult>;
  loadPrefs(): Prefs;
  savePrefs(p: Prefs): void;
  /** Where runs are saved, for the runs screen's title. */
  readonly runsDir: string;
}

/** The preset's topology as it would run on a backend: its GPU groups, the CPU (one replica), or the endpoints. */
export function topologyText(p: Preset, runsOn: BackendOption['runsOn'] = 'gpu'): string {
  if (runsOn === 'endpoints') return '1 replica/endpoint';
  // The onnx backend on the CPU: "auto" is one replica, and GPUs per replica mean nothing there.
  if (runsOn === 'cpu') return p.topology.replicas === 'auto' || p.topology.replicas === 1 ? 'CPU, 1 replica' : `CPU, ${p.topology.replicas} replicas`;
  return `${p.topology.gpusPerReplica} GPU/rep × ${p.topology.replicas}`;
}

/** A one-line description of a preset's key settings: pan-and-scan knobs, topology (as it would run), load. */
export function presetSummary(p: Preset, runsOn?: BackendOption['runsOn']): string {
  const topo = topologyText(p, runsOn);
  const l = p.load;
  const loadMode = loadText({ rateRps: l.rateRps ?? null, concurrency: l.concurrency ?? DEFAULT_CONCURRENCY }, 'short');
  const amount = l.durationS !== undefined ? `${l.durationS} s+${l.warmup} req` : `${l.requests ?? DEFAULT_REQUESTS}+${l.warmup} req`;
  return `${panScanText(p.panScan, 'short')} · ${topo} · ${loadMode} · ${amount} · ${p.generation.maxNewTokens} tok`;
}
