// The saved runs: name, date, preset, backend, status and headline numbers; select several and compare them
// (the first selected is the baseline), export (JSON, CSV, Markdown) or delete them (after a confirmation).
// A sweep is one row that opens as one comparison; unreadable files are rows of their own. I/O via callbacks.
import { useEffect, useState } from 'react';
import { Box, Text } from 'ink';
import type { ExportFormat, RunRow } from '../app-port.js';
import { fit, fitRight, msCell, rateCell, truncate } from '../cells.js';
import { idOfFile, idsOf, runItems, targetItems, toggleSelection, type RunItem } from '../runs-model.js';
import { KeyHints } from './KeyHints.js';
import { useKeys } from '../use-keys.js';
import { localTime } from '../../report/phrases.js';

/** Rows visible at once (the list scrolls). */
export const RUN_ROWS_MAX = 14;

export type OpenTarget = { readonly kind: 'runs'; readonly ids: readonly string[] } | { readonly kind: 'group'; readonly groupId: string };

type Props = {
  /** null while loading. */
  readonly rows: readonly RunRow[] | null;
  /** Why the list could not be read at all. */
  readonly error?: string | null;
  readonly runsDir: string;
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

type Mode = { readonly kind: 'list' } | { readonly kind: 'export' } | { readonly kind: 'confirm-delete'; readonly ids: readonly string[] } | { readonly kind: 'busy'; readonly what: string };

const FORMAT_KEYS: Readonly<Record<string, ExportFormat>> = { j: 'json', c: 'csv', m: 'md' };


export const RUNS_HEADER = `      ${fit('NAME', 16)} ${fit('STARTED', 11)} ${fit('PRESET', 12)} ${fit('BACKEND', 8)} ${fit('STATUS', 11)} ${fitRight('req/s', 7)} ${fitRight('e2e p50 ms', 10)} ${fitRight('e2e p95 ms', 10)}`;

function itemLine(it: RunItem): string {
  if (it.kind === 'bad') return `✖ unreadable: ${idOfFile(it.row.file)}.json: ${it.row.error}`;
  if (it.kind === 'run') {
    const r = it.row;
    const h = r.headline;
    return `${fit(r.name, 16)} ${fit(localTime(r.startedAt, 'short'), 11)} ${fit(r.presetName, 12)} ${fit(r.backend, 8)} ${fit(r.status, 11)} ${fitRight(rateCell(h.throughputReqS), 7)} ${fitRight(msCell(h.e2eP50Ms), 10)} ${fitRight(msCell(h.e2eP95Ms), 10)}`;
  }
  const first = it.members[0];
  const ok = it.members.filter((m) => m.status === 'completed').length;
  return `${fit(`sweep ×${it.members.length}`, 16)} ${fit(localTime(first.startedAt, 'short'), 11)} ${fit(first.presetName, 12)} ${fit(first.backend, 8)} ${fit(`${ok}/${it.members.length} done`, 11)} ${truncate(it.groupId, 29)}`;
}

export function RunsScreen(props: Props) {
  const { rows, isActive = true } = props;
  const items = rows ? runItems(rows) : [];
  const [cursor, setCursor] = useState(0);
  const [selected, setSelected] = useState<string[]>([]);
  const [mode, setMode] = useState<Mode>({ kind: 'list' });
  const [message, setMessage] = useState<{ text: string; color: 'green' | 'red' | 'yellow' } | null>(null);

  useEffect(() => {
    if (!props.highlightId || !rows) return;
    const i = items.findIndex((it) => (it.kind === 'run' && it.row.id === props.highlightId) || (it.kind === 'group' && it.members.some((m) => m.id === props.highlightId)));
    if (i >= 0) setCursor(i);
  }, [props.highlightId, rows]);

  useEffect(() => {
    // Drop selections of items that are gone (deleted, reloaded).
    setSelected((sel) => sel.filter((k) => items.some((i) => i.key === k)));
    setCursor((c) => Math.min(c, Math.max(0, items.length - 1)));
  }, [rows]);

  const targets = () => targetItems(items, selected, cursor);

  useKeys(
    (input, key) => {
      if (mode.kind === 'busy') return;
      if (mode.kind === 'export') {
        const fmt = FORMAT_KEYS[input];
        if (key.escape || input === 'q') return setMode({ kind: 'list' });
        if (!fmt) return;
        const t = targets().filter((i) => i.kind !== 'bad');
        if (!t.length) {
          setMode({ kind: 'list' });
          return setMessage({ text: 'nothing readable to export', color: 'yellow' });
        }
        setMode({ kind: 'busy', what: 'exporting…' });
        props.onExport(idsOf(t), fmt).then(
          (path) => {
            setMode({ kind: 'list' });
            setMessage({ text: `exported ${idsOf(t).length} run(s) as ${fmt.toUpperCase()} to ${path}`, color: 'green' });
          },
          (err: unknown) => {
            setMode({ kind: 'list' });
            setMessage({ text: `export failed: ${(err as Error)?.message ?? String(err)}`, color: 'red' });
          },
        );
        return;
      }
      if (mode.kind === 'confirm-delete') {
        if (input === 'y' || input === 'Y') {
          const ids = mode.ids;
          setMode({ kind: 'busy', what: 'deleting…' });
          props.onDelete(ids).then(
            (files) => {
              setMode({ kind: 'list' });
              setSelected([]);
              setMessage({ text: `deleted ${files.length} run file(s)`, color: 'green' });
              props.onReload();
            },
            (err: unknown) => {
              setMode({ kind: 'list' });
              setMessage({ text: `delete failed: ${(err as Error)?.message ?? String(err)}`, color: 'red' });
              props.onReload();
            },
          );
          return;
        }
        if (input === 'n' || input === 'N' || key.escape || input === 'q') {
          setMode({ kind: 'list' });
          return setMessage({ text: 'nothing deleted', color: 'yellow' });
        }
        return;
      }
      if (key.upArrow) return setCursor((c) => Math.max(0, c - 1));
      if (key.downArrow) return setCursor((c) => Math.min(items.length - 1, c + 1));
      if (key.pageUp) return setCursor((c) => Math.max(0, c - RUN_ROWS_MAX));
      if (key.pageDown) return setCursor((c) => Math.min(items.length - 1, c + RUN_ROWS_MAX));
      if (input === ' ') {
        const it = items[cursor];
        if (it) setSelected((s) => toggleSelection(s, it.key));
        return;
      }
      if (input === 'c' || key.return) {
        const t = targets();
        if (!t.length) return;
        if (t.some((i) => i.kind === 'bad')) return setMessage({ text: 'unreadable run files cannot be compared: unselect them (or delete them with d)', color: 'red' });
        if (t.length === 1 && t[0].kind === 'group') return props.onOpen({ kind: 'group', groupId: t[0].groupId });
        return props.onOpen({ kind: 'runs', ids: idsOf(t) });
      }
      if (input === 'e') {
        if (!targets().length) return;
        setMessage(null);
        return setMode({ kind: 'export' });
      }
      if (input === 'd') {
        const t = targets();
        if (!t.length) return;
        setMessage(null);
        return setMode({ kind: 'confirm-delete', ids: idsOf(t) });
      }
      if (input === 'g') return props.onReload();
      if (input === '?') return props.onHelp();
      if (input === 'q' || key.escape) return props.onBack();
    },
    { isActive },
  );

  const top = Math.max(0, Math.min(cursor - Math.floor(RUN_ROWS_MAX / 2), items.length - RUN_ROWS_MAX));
  const visible = items.slice(top, top + RUN_ROWS_MAX);
  const hints: (readonly [string, string])[] =
    mode.kind === 'export'
      ? [['j', 'JSON'], ['c', 'CSV'], ['m', 'Markdown'], ['esc', 'cancel']]
      : mode.kind === 'confirm-delete'
        ? [['y', 'delete'], ['n/esc', 'keep']]
        : [['↑/↓', 'move'], ['space', 'select'], ['c', 'compare'], ['e', 'export'], ['d', 'delete'], ['g', 'reload'], ['?', 'help'], ['q', 'back']];

  return (
    <Box flexDirection="column">
      <Text>
        <Text bold color="cyan">gemma-bench</Text> <Text dimColor>· saved runs in {truncate(props.runsDir, 70)}</Text>
      </Text>
      {props.error ? <Text color="red">{props.error}</Text> : null}
      {rows === null ? (
        <Text dimColor>loading…</Text>
      ) : items.length === 0 ? (
        <Box marginTop={1}>
          <Text dimColor>No saved runs yet: start one from the presets screen (q, then Enter).</Text>
        </Box>
      ) : (
        <Box flexDirection="column" marginTop={1}>
          <Text bold>{RUNS_HEADER}</Text>
          {visible.map((it) => {
            const i = items.indexOf(it);
            const at = i === cursor;
            const order = selected.indexOf(it.key);
            const mark = order >= 0 ? `[${order + 1}]` : '[ ]';
            return (
              <Text key={it.key} color={it.kind === 'bad' ? 'red' : at ? 'cyan' : undefined} inverse={at && isActive}>
                {at ? '▸ ' : '  '}
                {mark.padEnd(4)}
                {truncate(itemLine(it), 92)}
              </Text>
            );
          })}
          {items.length > RUN_ROWS_MAX ? (
            <Text dimColor>
              {'  '}
              {top + 1}-{Math.min(items.length, top + RUN_ROWS_MAX)} of {items.length}
            </Text>
          ) : null}
          <Text dimColor>
            {'  '}
            {items.length} item(s){selected.length ? ` · ${selected.length} selected (the first is the baseline)` : ''} · a sweep opens as one comparison
          </Text>
        </Box>
      )}
      {mode.kind === 'export' ? <Text color="yellow">Export {idsOf(targets().filter((i) => i.kind !== 'bad')).length} run(s) as: j JSON · c CSV · m Markdown (esc cancels)</Text> : null}
      {mode.kind === 'confirm-delete' ? (
        <Text color="red">
          Delete {mode.ids.length} run file(s): {truncate(mode.ids.join(', '), 70)}? y/n
        </Text>
      ) : null}
      {mode.kind === 'busy' ? <Text color="yellow">{mode.what}</Text> : null}
      {message ? <Text color={message.color}>{truncate(message.text, 200)}</Text> : null}
      <KeyHints hints={hints} />
    </Box>
  );
}
