// The run store (DESIGN.md §7): one JSON file per run under runsDir(), written atomically (util/atomic-write.ts)
// so a crash, a full disk or a read-only directory never leaves a half-written run. It is the sink of run-finished
// (run-sink.ts); the engine never imports it.
// Reading is defensive: a corrupt or foreign file is listed as unreadable by name and never hides the others.
// Listing keeps a derived cache (.index.json) so big stores list in milliseconds; it can always be deleted.
import { readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runsDir } from '../config/paths.js';
import type { RunFile } from '../engine/types.js';
import { modelLabel, type RunHeadline, type RunListBad, type RunListEntry, type RunListOk } from '../report/describe.js';
import { checkRunFile, RUN_ID_PATTERN } from './run-schema.js';
import { TEMP_SUFFIX, writeFileAtomic } from '../util/atomic-write.js';
import { newRunId } from '../util/ids.js';

export type StoreErrorKind = 'not-found' | 'ambiguous' | 'unreadable' | 'write' | 'remove' | 'read';

/** A store failure with a message that says what failed and what to do. `kind` lets commands pick exit codes. */
export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    message: string,
    readonly kind: StoreErrorKind,
    readonly path: string | null = null,
  ) {
    super(message);
  }
}

const RUN_FILE_EXT = '.json';
/** Files read at once when listing, to bound open descriptors on big stores. */
const LIST_READ_CONCURRENCY = 16;
const AMBIGUOUS_LIST_MAX = 10;
/** Temp files of saves that crashed are deleted by later saves once they are this old (a live save takes seconds). */
const STALE_TEMP_AGE_MS = 24 * 3600 * 1000;

// ---------------------------------------------------------------------------------------------------- ids

/** newRunId, retried until no saved run has the id (the random part makes a clash unlikely, this makes it impossible). */
export async function uniqueRunId(name: string, date: Date = new Date(), dir: string = runsDir()): Promise<string> {
  const existing = new Set(await runFileNames(dir).catch(() => [] as string[]));
  for (;;) {
    const id = newRunId(name, date);
    if (!existing.has(id + RUN_FILE_EXT)) return id;
  }
}

export const runFilePath = (id: string, dir: string = runsDir()): string => join(dir, id + RUN_FILE_EXT);

// ---------------------------------------------------------------------------------------------------- errors

const FS_REASONS: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  ENOENT: 'no such file or directory',
  EEXIST: 'a file that is not a directory is in the way',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
};

/** "read-only file system (EROFS)" from a Node fs error; the message itself for anything else. */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string') return `${FS_REASONS[e.code] ?? e.message.replace(/^[A-Z]+: /, '').replace(/, \w+ .*$/, '')} (${e.code})`;
  return e instanceof Error ? e.message : String(err);
}

function writeAdvice(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'Free some space, or set GEMMA_BENCH_HOME to a directory on another disk.';
  return 'Set GEMMA_BENCH_HOME to a writable directory.';
}

// ---------------------------------------------------------------------------------------------------- save

export interface SavedRun {
  readonly id: string;
  readonly file: string;
  /**
   * Why the file would not read back as valid (a bug upstream, e.g. NaN turned into null), or empty. The run is
   * saved anyway, so nothing measured is lost; `runs list` will show it as unreadable with this reason.
   */
  readonly problems: readonly string[];
}

/** Saves a run as `<id>.json` (replacing an earlier save of the same id). Throws StoreError if it cannot be written. */
export async function saveRun(run: RunFile, dir: string = runsDir()): Promise<SavedRun> {
  if (!RUN_ID_PATTERN.test(run.id)) throw new StoreError(`cannot save run: id "${run.id}" is not a safe file name (use newRunId).`, 'write', dir);
  // Compact JSON: a run holds a timestamp per output token, and pretty-printing thousands of requests costs more
  // than the whole benchmark loop (`runs export --format json` gives the readable layout).
  const text = JSON.stringify(run);
  const check = checkRunFile(JSON.parse(text));
  const file = runFilePath(run.id, dir);
  try {
    await writeFileAtomic(file, text);
  } catch (err) {
    throw new StoreError(`cannot write runs to ${dir}: ${describeFsError(err)}. ${writeAdvice(err)}`, 'write', dir);
  }
  await removeStaleTemps(dir);
  return { id: run.id, file, problems: check.ok ? [] : [check.reason] };
}

/** Best effort: deletes day-old temp files left by saves that crashed before their rename. */
async function removeStaleTemps(dir: string): Promise<void> {
  try {
    const now = Date.now();
    for (const n of await readdir(dir)) {
      if (!n.startsWith('.') || !n.endsWith(TEMP_SUFFIX)) continue;
      const st = await stat(join(dir, n)).catch(() => null);
      if (st && now - st.mtimeMs > STALE_TEMP_AGE_MS) await rm(join(dir, n), { force: true });
    }
  } catch {
    /* housekeeping only */
  }
}

// ---------------------------------------------------------------------------------------------------- read

export type { RunHeadline };

export type { RunListBad, RunListEntry, RunListOk };

async function runFileNames(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  // Dotfiles are temp files of saves in progress (or of a crashed save): never runs.
  return names.filter((n) => n.endsWith(RUN_FILE_EXT) && !n.startsWith('.'));
}

/** Run file names in the store; a missing store is an empty one. */
async function listNames(dir: string): Promise<string[]> {
  try {
    return await runFileNames(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new StoreError(`cannot read the run store ${dir}: ${describeFsError(err)}. Check its permissions, or set GEMMA_BENCH_HOME to another directory.`, 'read', dir);
  }
}

type ReadResult = { ok: true; run: RunFile } | { ok: false; error: string };

async function readRunFile(file: string): Promise<ReadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, error: `cannot read: ${describeFsError(err)}` };
  }
  if (text.trim() === '') return { ok: false, error: 'empty file (a save that never finished?)' };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not valid JSON (truncated or corrupt): ${(err as Error).message}` };
  }
  const check = checkRunFile(data);
  if (!check.ok) return { ok: false, error: check.reason };
  const expected = basename(file, RUN_FILE_EXT);
  if (check.run.id !== expected) return { ok: false, error: `its id "${check.run.id}" does not match the file name (renamed by hand?)` };
  return check;
}

function headline(run: RunFile): RunHeadline {
  const s = run.summary;
  return {
    completed: s.completed,
    failed: s.failed,
    throughputReqS: s.throughputReqS,
    e2eP50Ms: s.metrics.e2eMs.p50,
    e2eP95Ms: s.metrics.e2eMs.p95,
    ttftP50Ms: s.metrics.ttftMs.p50,
    outputTokensPerS: s.outputTokensPerS,
  };
}

function toEntry(file: string, r: ReadResult): RunListEntry {
  if (!r.ok) return { ok: false, file, error: r.error };
  const run = r.run;
  return {
    ok: true,
    id: run.id,
    file,
    name: run.name,
    status: run.status,
    startedAt: run.startedAt,
    presetName: run.preset.name,
    backend: run.backend.name,
    modelLabel: modelLabel(run),
    group: run.group,
    headline: headline(run),
  };
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// The listing cache: a 1000-request run file is ~7 MB and takes ~0.1 s to parse and check, so listing re-reads
// only files whose size, mtime or inode changed since the last listing. Entries (readable or not) are derived
// from the files alone, so the cache can always be thrown away; a read-only store just runs without it.
const INDEX_FILE = '.index.json';
/** Bump when RunListEntry or the validation changes, so old caches are rebuilt. */
const INDEX_VERSION = 1;

interface IndexStamp {
  readonly size: string;
  readonly mtimeNs: string;
  readonly ino: string;
}
type IndexedEntry = RunListOkCached | RunListBadCached;
type RunListOkCached = Omit<RunListOk, 'file'>;
type RunListBadCached = Omit<RunListBad, 'file'>;
interface StoreIndex {
  readonly version: number;
  readonly files: Record<string, { readonly stamp: IndexStamp; readonly entry: IndexedEntry }>;
}

async function readIndex(dir: string): Promise<StoreIndex['files']> {
  try {
    const idx = JSON.parse(await readFile(join(dir, INDEX_FILE), 'utf8')) as StoreIndex;
    if (idx && idx.version === INDEX_VERSION && typeof idx.files === 'object' && idx.files !== null) return idx.files;
  } catch {
    /* missing or damaged: rebuilt below */
  }
  return {};
}

async function stampOf(file: string): Promise<IndexStamp | null> {
  try {
    const st = await stat(file, { bigint: true });
    return { size: String(st.size), mtimeNs: String(st.mtimeNs), ino: String(st.ino) };
  } catch {
    return null;
  }
}

const sameStamp = (a: IndexStamp, b: IndexStamp): boolean => a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino;

/** Every run file's list entry, newest first (ids start with the UTC start time), via the cache. */
export async function listRuns(dir: string = runsDir()): Promise<RunListEntry[]> {
  const names = (await listNames(dir)).sort().reverse();
  const cached = await readIndex(dir);
  const files: Record<string, { stamp: IndexStamp; entry: IndexedEntry }> = {};
  let changed = Object.keys(cached).length !== names.length;
  const entries = await mapLimited(names, LIST_READ_CONCURRENCY, async (n): Promise<RunListEntry | null> => {
    const file = join(dir, n);
    const stamp = await stampOf(file);
    if (!stamp) return null; // removed since readdir
    const hit = cached[n];
    if (hit && sameStamp(hit.stamp, stamp)) {
      files[n] = hit;
      return withFile(hit.entry, file);
    }
    changed = true;
    // Stamp taken before the read: a file rewritten meanwhile gets a new stamp and is re-read next time.
    const entry = toEntry(file, await readRunFile(file));
    const { file: _file, ...rest } = entry;
    files[n] = { stamp, entry: rest };
    return entry;
  });
  if (changed) await writeIndex(dir, { version: INDEX_VERSION, files });
  return entries.filter((e): e is RunListEntry => e !== null);
}

/** Puts the path back into a cached entry, keeping the key order of a fresh one (so --json output is stable). */
function withFile(e: IndexedEntry, file: string): RunListEntry {
  if (!e.ok) return { ok: false, file, error: e.error };
  const { ok: _ok, id, ...rest } = e;
  return { ok: true, id, file, ...rest };
}

async function writeIndex(dir: string, index: StoreIndex): Promise<void> {
  try {
    await writeFileAtomic(join(dir, INDEX_FILE), JSON.stringify(index));
  } catch {
    // Only a cache: a read-only or full store lists without it.
  }
}

const listHint = '`gemma-bench runs list` shows the saved runs';

/**
 * The saved run an argument names: an exact id, `latest` (the newest readable run), `latest~N` (the Nth before it)
 * or a unique prefix of an id.
 * Throws StoreError not-found / ambiguous (listing candidates).
 */
export async function resolveRunId(idOrPrefix: string, dir: string = runsDir()): Promise<{ id: string; file: string }> {
  const names = await listNames(dir);
  const ids = names.map((n) => n.slice(0, -RUN_FILE_EXT.length));
  if (ids.includes(idOrPrefix)) return { id: idOrPrefix, file: runFilePath(idOrPrefix, dir) };
  const back = /^latest(?:~(\d+))?$/.exec(idOrPrefix);
  if (back) {
    // latest~1 is the run before the newest, and so on: examples can name runs an earlier example made.
    const n = Number(back[1] ?? 0);
    const readable = (await listRuns(dir)).filter((e): e is RunListOk => e.ok);
    const run = readable[n];
    if (!run) throw new StoreError(readable.length === 0 ? `no saved runs in ${dir} yet, so "${idOrPrefix}" names none.` : `"${idOrPrefix}" names none: there are ${readable.length} readable saved run(s) in ${dir}.`, 'not-found', dir);
    return { id: run.id, file: run.file };
  }
  const matches = idOrPrefix === '' ? [] : ids.filter((id) => id.startsWith(idOrPrefix)).sort().reverse();
  if (matches.length === 1) return { id: matches[0], file: runFilePath(matches[0], dir) };
  if (matches.length === 0) {
    throw new StoreError(`no saved run "${idOrPrefix}" in ${dir}. ${ids.length ? `${listHint}.` : 'There are no saved runs yet.'}`, 'not-found', dir);
  }
  const shown = matches.slice(0, AMBIGUOUS_LIST_MAX).map((m) => `  ${m}`).join('\n');
  const more = matches.length > AMBIGUOUS_LIST_MAX ? `\n  ... and ${matches.length - AMBIGUOUS_LIST_MAX} more` : '';
  throw new StoreError(`"${idOrPrefix}" matches ${matches.length} runs; give more of the id:\n${shown}${more}`, 'ambiguous', dir);
}

/** Loads a run by exact id, `latest`, or unique id prefix. Throws StoreError (not-found, ambiguous, unreadable). */
export async function loadRun(idOrPrefix: string, dir: string = runsDir()): Promise<RunFile> {
  const { id, file } = await resolveRunId(idOrPrefix, dir);
  const r = await readRunFile(file);
  if (!r.ok) {
    const gone = r.error.includes('(ENOENT)');
    throw new StoreError(
      gone ? `run ${id} was removed while reading it.` : `run ${id} is unreadable: ${r.error}. File: ${file}. Remove it with \`gemma-bench runs rm ${id}\`.`,
      gone ? 'not-found' : 'unreadable',
      file,
    );
  }
  return r.run;
}

/** Deletes a run file (exact id or unique prefix; unreadable files too). Returns the removed file's path. */
export async function removeRun(idOrPrefix: string, dir: string = runsDir()): Promise<string> {
  const { file } = await resolveRunId(idOrPrefix, dir);
  try {
    await unlink(file);
  } catch (err) {
    throw new StoreError(`cannot remove ${file}: ${describeFsError(err)}. Check the permissions of ${dir}.`, 'remove', file);
  }
  return file;
}

/** The runs of a group (a sweep or repeats), in grid order, repeats of a point in repeat order. Empty if no readable run carries that group id. */
export async function listGroup(groupId: string, dir: string = runsDir()): Promise<RunFile[]> {
  const t = await groupMembers(groupId, dir);
  const runs: RunFile[] = [];
  for (const m of t) runs.push(await loadRun(m.id, dir));
  return runs;
}

async function groupMembers(groupId: string, dir: string): Promise<RunListOk[]> {
  return (await listRuns(dir))
    .filter((e): e is RunListOk => e.ok && e.group?.id === groupId)
    .sort((a, b) => (a.group?.index ?? 0) - (b.group?.index ?? 0) || (a.group?.repeat?.index ?? 0) - (b.group?.repeat?.index ?? 0) || a.id.localeCompare(b.id));
}

/** What a command argument names, without loading anything: one run file, or the members of a sweep group. */
export type Target =
  | { readonly kind: 'run'; readonly id: string; readonly file: string }
  | { readonly kind: 'group'; readonly groupId: string; readonly members: readonly RunListOk[] };

/**
 * Resolves a command argument: an exact run id first, then an exact sweep group id (so a group whose runs' ids
 * extend its own is not "ambiguous"), then `latest` or a unique id prefix. Unreadable run files resolve too
 * (so they can be removed). Throws StoreError not-found / ambiguous.
 */
export async function resolveTarget(arg: string, dir: string = runsDir()): Promise<Target> {
  const names = await listNames(dir);
  if (!names.includes(arg + RUN_FILE_EXT)) {
    const members = await groupMembers(arg, dir);
    if (members.length) return { kind: 'group', groupId: arg, members };
  }
  const { id, file } = await resolveRunId(arg, dir);
  return { kind: 'run', id, file };
}

export type Resolved = { readonly kind: 'run'; readonly run: RunFile } | { readonly kind: 'group'; readonly groupId: string; readonly runs: readonly RunFile[] };

/** resolveTarget, then loads what it names (a sweep's runs in grid order). Throws StoreError like loadRun. */
export async function resolveRunOrGroup(arg: string, dir: string = runsDir()): Promise<Resolved> {
  const t = await resolveTarget(arg, dir);
  if (t.kind === 'run') return { kind: 'run', run: await loadRun(t.id, dir) };
  const runs: RunFile[] = [];
  for (const m of t.members) runs.push(await loadRun(m.id, dir));
  return { kind: 'group', groupId: t.groupId, runs };
}
