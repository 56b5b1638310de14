// The runs screen's table as data: its columns (what tells runs apart: the name, the id's suffix, when, preset,
// backend, how many requests, status, headline numbers), their widths for the terminal's width (the name and the
// preset grow into spare room and give way first), and which of them show when they do not all fit: the name
// stays, the others scroll sideways with ←/→. Pure.
import { localTime } from '../report/phrases.js';
import { idSuffix } from '../report/compare.js';
import { fit, fitRight, msCell, rateCell, truncate } from './cells.js';
import { idOfFile, type RunItem } from './runs-model.js';

/** Columns before the table: the cursor and the selection mark, e.g. "▸ [1] ". */
export const RUNS_ROW_PREFIX = 6;

interface RunsColumn {
  readonly header: string;
  readonly align: 'left' | 'right';
  /** Narrowest it gets (before the table scrolls), and widest it grows to on a wide terminal. */
  readonly min: number;
  readonly max: number;
  readonly cell: (it: Exclude<RunItem, { kind: 'bad' }>) => string;
}

const groupReqs = (members: readonly { headline: { completed: number; failed: number } }[]) =>
  `${members.reduce((a, m) => a + m.headline.completed, 0)}/${members.reduce((a, m) => a + m.headline.failed, 0)}`;

const COLUMNS: readonly RunsColumn[] = [
  { header: 'NAME', align: 'left', min: 10, max: 24, cell: (it) => (it.kind === 'run' ? it.row.name : `${it.members[0]?.group?.kind === 'repeat' ? 'repeat' : 'sweep'} ×${it.members.length}`) },
  { header: 'ID', align: 'left', min: 4, max: 4, cell: (it) => idSuffix(it.kind === 'run' ? it.row.id : it.groupId) },
  { header: 'STARTED', align: 'left', min: 11, max: 11, cell: (it) => localTime(it.kind === 'run' ? it.row.startedAt : it.members[0].startedAt, 'short') },
  { header: 'PRESET', align: 'left', min: 8, max: 14, cell: (it) => (it.kind === 'run' ? it.row.presetName : it.members[0].presetName) },
  { header: 'BACKEND', align: 'left', min: 7, max: 12, cell: (it) => (it.kind === 'run' ? it.row.backend : it.members[0].backend) },
  { header: 'OK/FAIL', align: 'right', min: 7, max: 9, cell: (it) => (it.kind === 'run' ? `${it.row.headline.completed}/${it.row.headline.failed}` : groupReqs(it.members)) },
  {
    header: 'STATUS',
    align: 'left',
    min: 11,
    max: 11,
    cell: (it) => (it.kind === 'run' ? it.row.status : `${it.members.filter((m) => m.status === 'completed').length}/${it.members.length} done`),
  },
  { header: 'req/s', align: 'right', min: 6, max: 7, cell: (it) => (it.kind === 'run' ? rateCell(it.row.headline.throughputReqS) : '-') },
  { header: 'e2e p50 ms', align: 'right', min: 10, max: 10, cell: (it) => (it.kind === 'run' ? msCell(it.row.headline.e2eP50Ms) : '-') },
  { header: 'e2e p95 ms', align: 'right', min: 10, max: 10, cell: (it) => (it.kind === 'run' ? msCell(it.row.headline.e2eP95Ms) : '-') },
];

export interface RunsTableLayout {
  /** Width of each column (all of them). */
  readonly widths: readonly number[];
  /** Indices of the columns shown: the name, then a window of the others. */
  readonly shown: readonly number[];
  /** The first scrolled column shown (1 = none scrolled off), and the largest useful value. */
  readonly offset: number;
  readonly maxOffset: number;
}

const total = (widths: readonly number[], idx: readonly number[]) => idx.reduce((a, i) => a + widths[i], 0) + Math.max(0, idx.length - 1);

/** The widths for a terminal `columns` wide, and the columns shown from `offset` (a scrolled column index). */
export function runsTableLayout(columns: number, offset: number): RunsTableLayout {
  const room = columns - RUNS_ROW_PREFIX;
  const widths = COLUMNS.map((c) => c.min);
  const all = COLUMNS.map((_, i) => i);
  // Spare room goes to the columns that can grow, the name first.
  let spare = room - total(widths, all);
  for (const i of [0, 3, 4, 5, 7]) {
    if (spare <= 0) break;
    const grow = Math.min(spare, COLUMNS[i].max - widths[i]);
    widths[i] += grow;
    spare -= grow;
  }
  if (total(widths, all) <= room) return { widths, shown: all, offset: 1, maxOffset: 1 };
  // Too narrow: the name stays; the others show from `offset` on, as many as fit.
  const fitFrom = (start: number) => {
    const shown = [0];
    for (let i = start; i < COLUMNS.length && total(widths, [...shown, i]) <= room; i++) shown.push(i);
    return shown;
  };
  let maxOffset = COLUMNS.length - 1;
  while (maxOffset > 1 && fitFrom(maxOffset - 1).at(-1) === COLUMNS.length - 1) maxOffset--;
  const start = Math.max(1, Math.min(offset, maxOffset));
  return { widths, shown: fitFrom(start), offset: start, maxOffset };
}

const cellOf = (text: string, width: number, align: 'left' | 'right') => (align === 'left' ? fit(text, width) : fitRight(text, width));

export function runsHeader(l: RunsTableLayout): string {
  return ' '.repeat(RUNS_ROW_PREFIX) + l.shown.map((i) => cellOf(COLUMNS[i].header, l.widths[i], COLUMNS[i].align)).join(' ');
}

/** An item's line after its prefix: its cells, or for an unreadable file one line saying so. */
export function runsLine(it: RunItem, l: RunsTableLayout, columns: number): string {
  if (it.kind === 'bad') return truncate(`✖ unreadable: ${idOfFile(it.row.file)}.json: ${it.row.error}`, columns - RUNS_ROW_PREFIX);
  return l.shown.map((i) => cellOf(COLUMNS[i].cell(it), l.widths[i], COLUMNS[i].align)).join(' ');
}

/** "columns 2-6 of 10" when the table scrolls sideways, else null. */
export function runsScrollNote(l: RunsTableLayout): string | null {
  if (l.shown.length === COLUMNS.length) return null;
  return `←/→ more columns (${l.shown.slice(1).map((i) => COLUMNS[i].header).join(', ')} shown of ${COLUMNS.length - 1})`;
}
