// Preferences of the interactive app (the home screen's last choices), kept with conf 15 in the data directory
// (`new Conf({projectName: 'gemma-bench', cwd: dataDir()})`), so GEMMA_BENCH_HOME isolates tests and CI. Values
// read back are checked field by field: a hand-edited or corrupt file falls back to the defaults, never crashes.
import Conf from 'conf';
import { dataDir } from '../config/paths.js';
import { DEFAULT_PREFS, type Prefs } from '../ui/app-port.js';

export const PREFS_KEY = 'last';
export const PREFS_CONFIG_NAME = 'preferences';

export interface PrefsStore {
  load(): Prefs;
  save(p: Prefs): void;
  /** The file the preferences live in (null when they could not be opened and live in memory only). */
  readonly path: string | null;
}

const str = (v: unknown, d: string): string => (typeof v === 'string' ? v : d);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null);

/** Keeps the well-typed fields of whatever was stored; defaults for the rest. */
export function sanitizePrefs(raw: unknown): Prefs {
  const r = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    preset: str(r.preset, DEFAULT_PREFS.preset) || DEFAULT_PREFS.preset,
    images: str(r.images, DEFAULT_PREFS.images),
    backend: str(r.backend, DEFAULT_PREFS.backend) || DEFAULT_PREFS.backend,
    model: str(r.model, DEFAULT_PREFS.model) || DEFAULT_PREFS.model,
    endpoints: str(r.endpoints, DEFAULT_PREFS.endpoints),
    requests: numOrNull(r.requests),
    warmup: numOrNull(r.warmup),
    maxNewTokens: numOrNull(r.maxNewTokens),
  };
}

export function openPrefs(env: NodeJS.ProcessEnv = process.env): PrefsStore {
  let conf: Conf<Record<string, unknown>> | null = null;
  try {
    conf = new Conf<Record<string, unknown>>({ projectName: 'gemma-bench', cwd: dataDir(env), configName: PREFS_CONFIG_NAME, clearInvalidConfig: true });
  } catch {
    conf = null;
  }
  let memory: Prefs = DEFAULT_PREFS;
  return {
    load() {
      if (!conf) return memory;
      try {
        return sanitizePrefs(conf.get(PREFS_KEY));
      } catch {
        return memory;
      }
    },
    save(p) {
      memory = sanitizePrefs(p);
      try {
        conf?.set(PREFS_KEY, { ...memory });
      } catch {
        // A read-only data directory: remember for this session only.
      }
    },
    get path() {
      return conf?.path ?? null;
    },
  };
}
