// The runs screen's state as a hook: runs-keys.ts's reducer fed by the keys (on the latest state, so keys that
// arrive before the next render build on each other), its effects carried out through the screen's callbacks,
// and the list kept in step with the rows (the cursor on the highlighted run, stale selections dropped).
import { useEffect, useRef, useState } from 'react';
import type { ExportFormat, RunRow } from './app-port.js';
import { runItems, type RunItem } from './runs-model.js';
import { afterDelete, afterExport, initialRunsState, itemIndexOfRun, runsKey, withItems, type OpenTarget, type RunsEffect, type RunsState } from './runs-keys.js';
import { useKeys } from './use-keys.js';

export type RunsScreenOptions = {
  /** null while loading. */
  readonly rows: readonly RunRow[] | null;
  /** Put the cursor on this run (e.g. the one just finished). */
  readonly highlightId?: string | null;
  readonly onOpen: (t: OpenTarget) => void;
  readonly onExport: (ids: readonly string[], format: ExportFormat) => Promise<string>;
  readonly onDelete: (ids: readonly string[]) => Promise<string[]>;
  readonly onReload: () => void;
  readonly onBack: () => void;
  readonly onHelp: () => void;
  readonly isActive?: boolean;
};

export function useRunsScreen(o: RunsScreenOptions): { readonly state: RunsState; readonly items: readonly RunItem[] } {
  const { rows } = o;
  const items = rows ? runItems(rows) : [];
  const [state, setState] = useState<RunsState>(initialRunsState);
  const latest = useRef(state);
  const update = (f: (s: RunsState) => RunsState) => {
    latest.current = f(latest.current);
    setState(latest.current);
  };

  useEffect(() => {
    if (!o.highlightId || !rows) return;
    const i = itemIndexOfRun(items, o.highlightId);
    if (i >= 0) update((s) => ({ ...s, cursor: i }));
  }, [o.highlightId, rows]);
  useEffect(() => update((s) => withItems(s, items)), [rows]);

  const perform = (effect: RunsEffect) => {
    switch (effect.kind) {
      case 'none':
        return;
      case 'open':
        return o.onOpen(effect.target);
      case 'export':
        o.onExport(effect.ids, effect.format).then(
          (path) => update((s) => afterExport(s, effect.ids, effect.format, { path })),
          (error: unknown) => update((s) => afterExport(s, effect.ids, effect.format, { error })),
        );
        return;
      case 'delete':
        o.onDelete(effect.ids).then(
          (files) => {
            update((s) => afterDelete(s, { files }));
            o.onReload();
          },
          (error: unknown) => {
            update((s) => afterDelete(s, { error }));
            o.onReload();
          },
        );
        return;
      case 'reload':
        return o.onReload();
      case 'help':
        return o.onHelp();
      case 'back':
        return o.onBack();
    }
  };

  useKeys(
    (input, key) => {
      const r = runsKey(latest.current, input, key, items);
      if (r.state !== latest.current) update(() => r.state);
      perform(r.effect);
    },
    { isActive: o.isActive ?? true },
  );
  return { state, items };
}
