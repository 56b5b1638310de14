// The saved runs: name, date, preset, backend, status and headline numbers; select several and compare them
// (the first selected is the baseline), export (JSON, CSV, Markdown, an HTML report) or delete them (after a confirmation).
// A sweep is one row that opens as one comparison; unreadable files are rows of their own. I/O via callbacks.
// What each key does is runs-keys.ts's reducer; the list and the prompts are drawn by RunsList and RunsPrompt.
import { useState } from 'react';
import { Box, Text } from 'ink';
import { truncate } from '../cells.js';
import { listWindow } from '../list-window.js';
import { idsOf, type RunItem } from '../runs-model.js';
import { exportable, RUN_ROWS_MAX, runsHints, type RunsState } from '../runs-keys.js';
import { runsHeader, runsLine, runsScrollNote, runsTableLayout, type RunsTableLayout } from '../runs-table.js';
import { useKeys } from '../use-keys.js';
import { useRunsScreen, type RunsScreenOptions } from '../use-runs-screen.js';
import { useTerminalSize, type TerminalSize } from '../terminal-size.js';
import { KeyHints } from './KeyHints.js';

export { RUN_ROWS_MAX, type OpenTarget } from '../runs-keys.js';

type Props = RunsScreenOptions & {
  /** Why the list could not be read at all. */
  readonly error?: string | null;
  readonly runsDir: string;
  /** The terminal's size (default: the terminal's own). */
  readonly size?: Partial<TerminalSize>;
};

/** Lines the screen takes besides the rows of the list (title, blanks, header, window line, count, prompt, hints). */
const OTHER_LINES = 10;

export function RunsScreen(props: Props) {
  const { rows, isActive = true } = props;
  const { state, items } = useRunsScreen(props);
  const size = useTerminalSize(props.size);
  const [offset, setOffset] = useState(1);
  const table = runsTableLayout(size.columns, offset);
  const visibleRows = Math.max(3, Math.min(RUN_ROWS_MAX, size.rows - OTHER_LINES));
  useKeys(
    (_input, key) => {
      if (state.mode.kind !== 'list') return;
      if (key.leftArrow) setOffset(Math.max(1, table.offset - 1));
      if (key.rightArrow) setOffset(Math.min(table.maxOffset, table.offset + 1));
    },
    { isActive },
  );
  const scroll = runsScrollNote(table);
  return (
    <Box flexDirection="column" width={size.columns}>
      <Text>
        <Text bold color="cyan">gemma-bench</Text> <Text dimColor>· saved runs in {truncate(props.runsDir, size.columns - 27)}</Text>
      </Text>
      {props.error ? <Text color="red">{truncate(props.error, size.columns)}</Text> : null}
      {rows === null ? (
        <Text dimColor>loading…</Text>
      ) : items.length === 0 ? (
        <Box marginTop={1}>
          <Text dimColor>No saved runs yet: start one from the presets screen (q, then Enter).</Text>
        </Box>
      ) : (
        <RunsList items={items} state={state} isActive={isActive} table={table} columns={size.columns} rows={visibleRows} />
      )}
      <RunsPrompt state={state} items={items} columns={size.columns} />
      <KeyHints hints={[...runsHints(state.mode), ...(scroll && items.length && state.mode.kind === 'list' ? [['←/→', 'more columns'] as const] : [])]} columns={size.columns} />
    </Box>
  );
}

/** The header, the visible rows (cursor, selection order), where the window is, and what is selected. */
function RunsList(p: { readonly items: readonly RunItem[]; readonly state: RunsState; readonly isActive: boolean; readonly table: RunsTableLayout; readonly columns: number; readonly rows: number }) {
  const { items, state, isActive, table, columns, rows } = p;
  const { cursor, selected } = state;
  const { top, visible } = listWindow(items, cursor, rows);
  const scroll = runsScrollNote(table);
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>{runsHeader(table)}</Text>
      {visible.map((it) => {
        const at = items.indexOf(it) === cursor;
        const order = selected.indexOf(it.key);
        const mark = order >= 0 ? `[${order + 1}]` : '[ ]';
        return (
          <Text key={it.key} color={it.kind === 'bad' ? 'red' : at ? 'cyan' : undefined} inverse={at && isActive}>
            {at ? '▸ ' : '  '}
            {mark.padEnd(4)}
            {runsLine(it, table, columns)}
          </Text>
        );
      })}
      {items.length > rows ? (
        <Text dimColor>
          {'  '}
          {top + 1}-{Math.min(items.length, top + rows)} of {items.length}
        </Text>
      ) : null}
      <Text dimColor>
        {truncate(`  ${items.length} item(s)${selected.length ? ` · ${selected.length} selected (the first is the baseline)` : ''} · a sweep opens as one comparison${scroll ? ` · ${scroll}` : ''}`, columns)}
      </Text>
    </Box>
  );
}

/** The mode's prompt (export format, delete confirmation, busy) and the message line. */
function RunsPrompt({ state: s, items, columns }: { readonly state: RunsState; readonly items: readonly RunItem[]; readonly columns: number }) {
  return (
    <>
      {s.mode.kind === 'export' ? <Text color="yellow">Export {idsOf(exportable(s, items)).length} run(s) as: j JSON · c CSV · m Markdown · h HTML (esc cancels)</Text> : null}
      {s.mode.kind === 'confirm-delete' ? (
        <Text color="red">
          Delete {s.mode.ids.length} run file(s): {truncate(s.mode.ids.join(', '), columns - 30)}? y/n
        </Text>
      ) : null}
      {s.mode.kind === 'busy' ? <Text color="yellow">{s.mode.what}</Text> : null}
      {s.message ? <Text color={s.message.color}>{truncate(s.message.text, 2 * columns - 1)}</Text> : null}
    </>
  );
}
