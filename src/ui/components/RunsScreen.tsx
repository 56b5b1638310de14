// The saved runs: name, date, preset, backend, status and headline numbers; select several and compare them
// (the first selected is the baseline), export (JSON, CSV, Markdown, an HTML report) or delete them (after a confirmation).
// A sweep is one row that opens as one comparison; unreadable files are rows of their own. I/O via callbacks.
// What each key does is runs-keys.ts's reducer; the list and the prompts are drawn by RunsList and RunsPrompt.
import { Box, Text } from 'ink';
import { fit, fitRight, msCell, rateCell, truncate } from '../cells.js';
import { listWindow } from '../list-window.js';
import { idOfFile, idsOf, type RunItem } from '../runs-model.js';
import { exportable, RUN_ROWS_MAX, runsHints, type RunsState } from '../runs-keys.js';
import { useRunsScreen, type RunsScreenOptions } from '../use-runs-screen.js';
import { KeyHints } from './KeyHints.js';
import { localTime } from '../../report/phrases.js';

export { RUN_ROWS_MAX, type OpenTarget } from '../runs-keys.js';

type Props = RunsScreenOptions & {
  /** Why the list could not be read at all. */
  readonly error?: string | null;
  readonly runsDir: string;
};

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
  const { state, items } = useRunsScreen(props);
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
        <RunsList items={items} state={state} isActive={isActive} />
      )}
      <RunsPrompt state={state} items={items} />
      <KeyHints hints={runsHints(state.mode)} />
    </Box>
  );
}

/** The header, the visible rows (cursor, selection order), where the window is, and what is selected. */
function RunsList({ items, state, isActive }: { readonly items: readonly RunItem[]; readonly state: RunsState; readonly isActive: boolean }) {
  const { cursor, selected } = state;
  const { top, visible } = listWindow(items, cursor, RUN_ROWS_MAX);
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>{RUNS_HEADER}</Text>
      {visible.map((it) => {
        const at = items.indexOf(it) === cursor;
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
  );
}

/** The mode's prompt (export format, delete confirmation, busy) and the message line. */
function RunsPrompt({ state: s, items }: { readonly state: RunsState; readonly items: readonly RunItem[] }) {
  return (
    <>
      {s.mode.kind === 'export' ? <Text color="yellow">Export {idsOf(exportable(s, items)).length} run(s) as: j JSON · c CSV · m Markdown · h HTML (esc cancels)</Text> : null}
      {s.mode.kind === 'confirm-delete' ? (
        <Text color="red">
          Delete {s.mode.ids.length} run file(s): {truncate(s.mode.ids.join(', '), 70)}? y/n
        </Text>
      ) : null}
      {s.mode.kind === 'busy' ? <Text color="yellow">{s.mode.what}</Text> : null}
      {s.message ? <Text color={s.message.color}>{truncate(s.message.text, 200)}</Text> : null}
    </>
  );
}
