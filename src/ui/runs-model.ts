// The runs screen's list model: saved runs as items, a sweep's runs folded into one item (it opens as one
// comparison), unreadable files kept as their own items (listed, never hiding the others), and what a selection
// stands for (the run ids to compare, export or delete). Pure.
import type { RunGroup } from '../engine/types.js';
import type { RunRow } from './app-port.js';

type OkRow = Extract<RunRow, { ok: true }>;
type BadRow = Extract<RunRow, { ok: false }>;

export type RunItem =
  | { readonly kind: 'run'; readonly key: string; readonly row: OkRow }
  | { readonly kind: 'group'; readonly key: string; readonly groupId: string; readonly members: readonly OkRow[] }
  | { readonly kind: 'bad'; readonly key: string; readonly row: BadRow };

/** The id a run file stands for: its name without the directory and `.json` (works for unreadable files too). */
export function idOfFile(file: string): string {
  const base = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  return base.endsWith('.json') ? base.slice(0, -'.json'.length) : base;
}

const byGridOrder = (a: OkRow, b: OkRow) => (a.group?.index ?? 0) - (b.group?.index ?? 0) || a.id.localeCompare(b.id);

/** Items in the order the rows came (newest first); a sweep sits where its newest run is. */
export function runItems(rows: readonly RunRow[]): RunItem[] {
  const items: RunItem[] = [];
  const groups = new Map<string, OkRow[]>();
  for (const r of rows) {
    if (!r.ok) {
      items.push({ kind: 'bad', key: `bad:${r.file}`, row: r });
      continue;
    }
    const g: RunGroup | null = r.group;
    if (!g) {
      items.push({ kind: 'run', key: `run:${r.id}`, row: r });
      continue;
    }
    let members = groups.get(g.id);
    if (!members) {
      members = [];
      groups.set(g.id, members);
      items.push({ kind: 'group', key: `group:${g.id}`, groupId: g.id, members });
    }
    members.push(r);
  }
  for (const m of groups.values()) m.sort(byGridOrder);
  return items;
}

/** The run ids items stand for, in order, without repeats (a sweep: its runs in grid order). */
export function idsOf(items: readonly RunItem[]): string[] {
  const out: string[] = [];
  for (const it of items) {
    const ids = it.kind === 'run' ? [it.row.id] : it.kind === 'group' ? it.members.map((m) => m.id) : [idOfFile(it.row.file)];
    for (const id of ids) if (!out.includes(id)) out.push(id);
  }
  return out;
}

/** The items a selection (keys, in the order chosen) names, or the item under the cursor when nothing is selected. */
export function targetItems(items: readonly RunItem[], selected: readonly string[], cursor: number): RunItem[] {
  if (selected.length) return selected.map((k) => items.find((i) => i.key === k)).filter((i): i is RunItem => i !== undefined);
  const at = items[cursor];
  return at ? [at] : [];
}

/** Toggles a key in an ordered selection. */
export function toggleSelection(selected: readonly string[], key: string): string[] {
  return selected.includes(key) ? selected.filter((k) => k !== key) : [...selected, key];
}
