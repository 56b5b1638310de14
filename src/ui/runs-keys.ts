// What each key does on the runs screen, as a PURE reducer: the cursor, the ordered selection, the mode (the
// list, the export format prompt, the delete confirmation, busy) and the message line, plus what the screen must
// do about it (open a comparison, export, delete, reload, help, back). No React, no Ink, no I/O: the screen's
// hook (use-runs-screen.ts) feeds it keys and carries out its effects.
import type { ExportFormat } from './app-port.js';
import { idsOf, targetItems, toggleSelection, type RunItem } from './runs-model.js';

/** Rows visible at once (the list scrolls; page up/down move by as many). */
export const RUN_ROWS_MAX = 14;

export type RunsMode = { readonly kind: 'list' } | { readonly kind: 'export' } | { readonly kind: 'confirm-delete'; readonly ids: readonly string[] } | { readonly kind: 'busy'; readonly what: string };

export interface RunsMessage {
  readonly text: string;
  readonly color: 'green' | 'red' | 'yellow';
}

export interface RunsState {
  readonly cursor: number;
  /** Item keys in the order chosen (the first is the baseline). */
  readonly selected: readonly string[];
  readonly mode: RunsMode;
  readonly message: RunsMessage | null;
}

export const initialRunsState: RunsState = { cursor: 0, selected: [], mode: { kind: 'list' }, message: null };

export type OpenTarget = { readonly kind: 'runs'; readonly ids: readonly string[] } | { readonly kind: 'group'; readonly groupId: string };

export type RunsEffect =
  | { readonly kind: 'none' }
  | { readonly kind: 'open'; readonly target: OpenTarget }
  | { readonly kind: 'export'; readonly ids: readonly string[]; readonly format: ExportFormat }
  | { readonly kind: 'delete'; readonly ids: readonly string[] }
  | { readonly kind: 'reload' }
  | { readonly kind: 'help' }
  | { readonly kind: 'back' };

/** The keys the screen reads (Ink's Key has them). */
export interface RunsKey {
  readonly return: boolean;
  readonly escape: boolean;
  readonly upArrow: boolean;
  readonly downArrow: boolean;
  readonly pageUp: boolean;
  readonly pageDown: boolean;
}

export const FORMAT_KEYS: Readonly<Record<string, ExportFormat>> = { j: 'json', c: 'csv', m: 'md', h: 'html' };

type Step = { readonly state: RunsState; readonly effect: RunsEffect };
const NONE: RunsEffect = { kind: 'none' };
const stay = (state: RunsState): Step => ({ state, effect: NONE });
const LIST: RunsMode = { kind: 'list' };

/** What the selection (or the cursor's item) stands for. */
export const targetsOf = (s: RunsState, items: readonly RunItem[]): RunItem[] => targetItems(items, s.selected, s.cursor);
/** The readable ones among them (an unreadable file cannot be exported). */
export const exportable = (s: RunsState, items: readonly RunItem[]): RunItem[] => targetsOf(s, items).filter((i) => i.kind !== 'bad');

/** The export prompt: j, c or m exports the readable targets; esc or q cancels. */
function exportKey(s: RunsState, input: string, key: RunsKey, items: readonly RunItem[]): Step {
  const format = FORMAT_KEYS[input];
  if (key.escape || input === 'q') return stay({ ...s, mode: LIST });
  if (!format) return stay(s);
  const t = exportable(s, items);
  if (!t.length) return stay({ ...s, mode: LIST, message: { text: 'nothing readable to export', color: 'yellow' } });
  return { state: { ...s, mode: { kind: 'busy', what: 'exporting…' } }, effect: { kind: 'export', ids: idsOf(t), format } };
}

/** The delete confirmation: y deletes, n, esc or q keeps. */
function confirmDeleteKey(s: RunsState, ids: readonly string[], input: string, key: RunsKey): Step {
  if (input === 'y' || input === 'Y') return { state: { ...s, mode: { kind: 'busy', what: 'deleting…' } }, effect: { kind: 'delete', ids } };
  if (input === 'n' || input === 'N' || key.escape || input === 'q') return stay({ ...s, mode: LIST, message: { text: 'nothing deleted', color: 'yellow' } });
  return stay(s);
}

/** c or Enter: the targets as one comparison (a lone sweep opens as its own); unreadable files cannot be compared. */
function compareKey(s: RunsState, items: readonly RunItem[]): Step {
  const t = targetsOf(s, items);
  if (!t.length) return stay(s);
  if (t.some((i) => i.kind === 'bad')) return stay({ ...s, message: { text: 'unreadable run files cannot be compared: unselect them (or delete them with d)', color: 'red' } });
  const only = t[0];
  if (t.length === 1 && only.kind === 'group') return { state: s, effect: { kind: 'open', target: { kind: 'group', groupId: only.groupId } } };
  return { state: s, effect: { kind: 'open', target: { kind: 'runs', ids: idsOf(t) } } };
}

/** The cursor after a movement key, or null when the key does not move it. */
function movedCursor(cursor: number, key: RunsKey, count: number): number | null {
  if (key.upArrow) return Math.max(0, cursor - 1);
  if (key.downArrow) return Math.min(count - 1, cursor + 1);
  if (key.pageUp) return Math.max(0, cursor - RUN_ROWS_MAX);
  if (key.pageDown) return Math.min(count - 1, cursor + RUN_ROWS_MAX);
  return null;
}

/** Keys on the list: move, select, compare, export, delete, reload, help, back. */
function listKey(s: RunsState, input: string, key: RunsKey, items: readonly RunItem[]): Step {
  const cursor = movedCursor(s.cursor, key, items.length);
  if (cursor !== null) return stay({ ...s, cursor });
  if (input === ' ') {
    const it = items[s.cursor];
    return stay(it ? { ...s, selected: toggleSelection(s.selected, it.key) } : s);
  }
  if (input === 'c' || key.return) return compareKey(s, items);
  if (input === 'e') return stay(targetsOf(s, items).length ? { ...s, message: null, mode: { kind: 'export' } } : s);
  if (input === 'd') {
    const t = targetsOf(s, items);
    return stay(t.length ? { ...s, message: null, mode: { kind: 'confirm-delete', ids: idsOf(t) } } : s);
  }
  if (input === 'g') return { state: s, effect: { kind: 'reload' } };
  if (input === '?') return { state: s, effect: { kind: 'help' } };
  if (input === 'q' || key.escape) return { state: s, effect: { kind: 'back' } };
  return stay(s);
}

/** What a key does on the runs screen, and what the screen must do about it. Pure. */
export function runsKey(s: RunsState, input: string, key: RunsKey, items: readonly RunItem[]): Step {
  switch (s.mode.kind) {
    case 'busy':
      return stay(s);
    case 'export':
      return exportKey(s, input, key, items);
    case 'confirm-delete':
      return confirmDeleteKey(s, s.mode.ids, input, key);
    case 'list':
      return listKey(s, input, key, items);
  }
}

/** The index of the item that holds run `id` (a run, or a sweep with it), or -1. */
export function itemIndexOfRun(items: readonly RunItem[], id: string): number {
  return items.findIndex((it) => (it.kind === 'run' && it.row.id === id) || (it.kind === 'group' && it.members.some((m) => m.id === id)));
}

/** The state for a new list: selections of items that are gone (deleted, reloaded) dropped, the cursor kept in it. */
export function withItems(s: RunsState, items: readonly RunItem[]): RunsState {
  return { ...s, selected: s.selected.filter((k) => items.some((i) => i.key === k)), cursor: Math.min(s.cursor, Math.max(0, items.length - 1)) };
}

const errMessage = (err: unknown): string => (err as Error)?.message ?? String(err);

/** The state once an export finished (the path it was written to, or the error). */
export function afterExport(s: RunsState, ids: readonly string[], format: ExportFormat, outcome: { readonly path: string } | { readonly error: unknown }): RunsState {
  const message: RunsMessage =
    'path' in outcome ? { text: `exported ${ids.length} run(s) as ${format.toUpperCase()} to ${outcome.path}`, color: 'green' } : { text: `export failed: ${errMessage(outcome.error)}`, color: 'red' };
  return { ...s, mode: LIST, message };
}

/** The state once a delete finished (the files removed, or the error); the selection is cleared only on success. */
export function afterDelete(s: RunsState, outcome: { readonly files: readonly string[] } | { readonly error: unknown }): RunsState {
  if ('files' in outcome) return { ...s, mode: LIST, selected: [], message: { text: `deleted ${outcome.files.length} run file(s)`, color: 'green' } };
  return { ...s, mode: LIST, message: { text: `delete failed: ${errMessage(outcome.error)}`, color: 'red' } };
}

/** The key hints for the mode. */
export function runsHints(mode: RunsMode): (readonly [string, string])[] {
  if (mode.kind === 'export') return [['j', 'JSON'], ['c', 'CSV'], ['m', 'Markdown'], ['h', 'HTML'], ['esc', 'cancel']];
  if (mode.kind === 'confirm-delete') return [['y', 'delete'], ['n/esc', 'keep']];
  return [['↑/↓', 'move'], ['space', 'select'], ['c', 'compare'], ['e', 'export'], ['d', 'delete'], ['g', 'reload'], ['?', 'help'], ['q', 'back']];
}
