// Saved runs side by side (@alcalzone/ink-table, behind this one module): one column per run, the first the
// baseline, the change against it after every other value (≈ when within noise), `*` on the best value of each
// row beyond noise; the box plots of E2E and TTFT when the height allows; the runs' ids, status and the reasons
// they may not compare like for like underneath. ←/→ scroll when the runs do not fit. `e` writes the comparison
// (Markdown, CSV, JSON) or the runs' HTML report, through the app port.
import { createContext, useContext, useState } from 'react';
import { Box, Text } from 'ink';
import { Table } from '@alcalzone/ink-table';
import type { ExportFormat } from '../app-port.js';
import { BEST_MARK, compareFit, compareTable } from '../compare-view.js';
import { BOXPLOT_WIDTH_MAX, compareBoxPlotLines, WITHIN_NOISE_MARK } from '../../report/compare-text.js';
import { useTerminalSize } from '../terminal-size.js';
import { localTime } from '../../report/phrases.js';
import { truncate } from '../cells.js';
import type { CompareModel } from '../../report/compare.js';
import { isSweepModel, renderFrontierScatter, scatterPointsOfModel } from '../../report/frontier-scatter.js';
import { KeyHints } from './KeyHints.js';
import { useKeys } from '../use-keys.js';

/** The table row a cell is drawn in (ink-table tells a cell only its column). */
const RowIndex = createContext(-1);
/** Per shown row and column: the colour of a change beyond noise (green better, red worse), or none. */
const Tones = createContext<readonly (readonly ('green' | 'red' | undefined)[])[]>([]);

/**
 * ink-table draws a rule between every row; this keeps only the one under the heading (half the height), and tells
 * each data row's cells which row they are in (its key ends with the row's index), so they can be coloured.
 */
class CompactTable extends Table<Record<string, string>> {
  constructor(props: ConstructorParameters<typeof Table<Record<string, string>>>[0]) {
    super(props);
    const rule = this.separator;
    this.separator = (p) => (p.key.endsWith('-0') ? rule(p) : <></>);
    const data = this.data;
    this.data = (p) => <RowIndex.Provider value={Number(p.key.slice(p.key.lastIndexOf('-') + 1))}>{data(p)}</RowIndex.Provider>;
  }
}

function ToneCell({ column, children }: { readonly column: number; readonly children?: React.ReactNode }) {
  const tone = useContext(Tones)[useContext(RowIndex)]?.[column];
  return <Text {...(tone ? { color: tone } : {})}>{children}</Text>;
}

type Props = {
  readonly model: CompareModel;
  /** What is compared, for the title: "3 runs" or "sweep sweep-2026…". */
  readonly title: string;
  readonly onExport: (format: ExportFormat) => Promise<string>;
  readonly onBack: () => void;
  readonly onHelp: () => void;
  readonly isActive?: boolean;
  /** Terminal width override (tests); default: the terminal's. */
  readonly width?: number;
  /** Terminal height override (tests); default: the terminal's. */
  readonly height?: number;
};

const FORMAT_KEYS: Readonly<Record<string, ExportFormat>> = { j: 'json', c: 'csv', m: 'md', h: 'html' };
/** The sweep's scatter is drawn at most this wide, however wide the terminal. */
const SCATTER_WIDTH_MAX = 100;

/** Lines of the screen besides the table's rows and the footer: title, the table's borders and heading, hints. */
const FIXED_LINES = 1 + 4 + 2;
/** Metric rows shown at least, however short the terminal. */
const MIN_TABLE_ROWS = 4;

export function CompareScreen({ model, title, onExport, onBack, onHelp, isActive = true, width, height }: Props) {
  const size = useTerminalSize({ ...(width !== undefined ? { columns: width } : {}), ...(height !== undefined ? { rows: height } : {}) });
  const cols = size.columns;
  const fit = compareFit(model, cols);
  const [offset, setOffset] = useState(0);
  const [rowOffset, setRowOffset] = useState(0);
  const [exporting, setExporting] = useState<'ask' | 'busy' | null>(null);
  const [message, setMessage] = useState<{ text: string; color: 'green' | 'red' | 'yellow' } | null>(null);
  const others = model.columns.length - 1;
  const maxOffset = Math.max(0, others - (fit.visible - 1));
  const shownOffset = Math.min(offset, maxOffset);
  const scrollsRuns = others + 1 > fit.visible;

  // Heights: the shown runs' legend and the notes go under the table when they fit; else they shrink to a line each.
  const shownRuns = compareTable(model, fit.visible, shownOffset).shown;
  const notes = model.warnings.length;
  const extra = (exporting ? 1 : 0) + (message ? 1 : 0);
  // The footer says which runs and rows show; it may take two lines on a narrow terminal.
  const footerLines = (rowsShown: boolean) => Math.ceil(footerText(model, fit.visible, scrollsRuns, rowsShown ? 'rows 10-20 of 20' : null).length / cols);
  const budget = size.rows - 1 - FIXED_LINES - extra - footerLines(true);
  const roomy = budget - (1 + model.columns.length) - (notes ? 1 + notes : 0) >= model.rows.length;
  const tableRows = roomy ? model.rows.length : Math.max(MIN_TABLE_ROWS, Math.min(model.rows.length, budget - shownRuns.length - (notes ? 1 : 0)));
  const maxRowOffset = model.rows.length - tableRows;
  // A sweep's scatter goes under the table only when everything else shows in full and it fits too.
  const scatterLines = isSweepModel(model) ? renderFrontierScatter(scatterPointsOfModel(model), { width: Math.min(cols, SCATTER_WIDTH_MAX), height: 7 }) : [];
  const spare = budget - (1 + model.columns.length) - (notes ? 1 + notes : 0) - model.rows.length;
  const scatter = roomy && spare >= scatterLines.length + 1 ? scatterLines : [];
  // The E2E and TTFT box plots (one numbered line per run, the median's interval marked) when they fit too.
  const plotLines = compareBoxPlotLines(model, Math.min(cols, BOXPLOT_WIDTH_MAX));
  const plots = roomy && spare - (scatter.length ? scatter.length + 1 : 0) >= plotLines.length + 1 ? plotLines : [];
  const shownRowOffset = Math.min(rowOffset, maxRowOffset);

  useKeys(
    (input, key) => {
      if (exporting === 'busy') return;
      if (exporting === 'ask') {
        if (key.escape || input === 'q') return setExporting(null);
        const f = FORMAT_KEYS[input];
        if (!f) return;
        setExporting('busy');
        onExport(f).then(
          (path) => {
            setExporting(null);
            const what = f === 'html' ? `the ${model.columns.length} runs' report` : 'the comparison';
            setMessage({ text: `exported ${what} as ${f.toUpperCase()} to ${path}`, color: 'green' });
          },
          (err: unknown) => {
            setExporting(null);
            setMessage({ text: `export failed: ${(err as Error)?.message ?? String(err)}`, color: 'red' });
          },
        );
        return;
      }
      if (key.leftArrow) return setOffset(Math.max(0, shownOffset - 1));
      if (key.rightArrow) return setOffset(Math.min(maxOffset, shownOffset + 1));
      if (key.upArrow) return setRowOffset(Math.max(0, shownRowOffset - 1));
      if (key.downArrow) return setRowOffset(Math.min(maxRowOffset, shownRowOffset + 1));
      if (input === 'e') return setExporting('ask');
      if (input === '?') return onHelp();
      if (input === 'q' || key.escape) return onBack();
    },
    { isActive },
  );

  const view = compareTable(model, fit.visible, shownOffset, { labelChars: fit.labelChars, headingChars: fit.headingChars, rows: tableRows, rowOffset: shownRowOffset });
  // A change beyond noise in green when better, red when worse (column 0 holds the row labels).
  const tones = view.rows.map((ri) => {
    const row = model.rows[ri];
    return [undefined, ...view.shown.map((ci) => {
      const c = row.cells[ci];
      if (c.significant !== true || c.delta === null || row.direction === 'none') return undefined;
      return (c.delta < 0) === (row.direction === 'lower') ? ('green' as const) : ('red' as const);
    })];
  });
  const columns = view.columns.map((c, i) => ({ key: c, align: i === 0 ? ('left' as const) : ('right' as const) }));
  const hints: (readonly [string, string])[] = exporting
    ? [['j', 'JSON'], ['c', 'CSV'], ['m', 'Markdown'], ['h', 'HTML'], ['esc', 'cancel']]
    : [...(scrollsRuns ? [['←/→', 'scroll runs'] as const] : []), ...(maxRowOffset > 0 ? [['↑/↓', 'scroll rows'] as const] : []), ['e', 'export'], ['?', 'help'], ['q', 'back']];
  const footer = footerText(model, fit.visible, scrollsRuns, maxRowOffset > 0 ? `rows ${view.rows[0] + 1}-${view.rows[view.rows.length - 1] + 1} of ${model.rows.length}` : null, view.shown);
  return (
    <Box flexDirection="column" width={cols}>
      <Text>
        <Text bold color="cyan">gemma-bench</Text> <Text dimColor>· compare {truncate(title, cols - 24)}</Text>
      </Text>
      <Tones.Provider value={tones}>
        <CompactTable data={view.data as Record<string, string>[]} columns={columns} cell={ToneCell} />
      </Tones.Provider>
      <Text dimColor>
        {truncate(footer, 2 * cols - 1)}
      </Text>
      {scatter.length ? (
        <Box flexDirection="column" marginTop={1}>
          {scatter.map((line, i) => (
            <Text key={i}>{line}</Text>
          ))}
        </Box>
      ) : null}
      {plots.length ? (
        <Box flexDirection="column" marginTop={1}>
          {plots.map((line, i) => (
            <Text key={i} dimColor={i === plots.length - 1}>
              {line}
            </Text>
          ))}
        </Box>
      ) : null}
      <Box flexDirection="column" marginTop={roomy ? 1 : 0}>
        {(roomy ? model.columns.map((_, i) => i) : view.shown).map((i) => {
          const c = model.columns[i];
          return (
            <Text key={`${i}:${c.id}`}>
              <Text bold>{String(i + 1).padStart(2)}</Text> {truncate(`${c.id} · ${c.status} · ${localTime(c.startedAt)} · preset ${c.preset} · ${c.backend} · ${c.model}`, cols - 4)}
            </Text>
          );
        })}
      </Box>
      {notes ? (
        <Box flexDirection="column" marginTop={roomy ? 1 : 0}>
          {(roomy ? model.warnings : [model.warnings.join(' · ')]).map((w, i) => (
            <Text key={i} color="yellow">
              note: {truncate(w, cols - 7)}
            </Text>
          ))}
        </Box>
      ) : null}
      {exporting === 'ask' ? <Text color="yellow">{truncate(`Export this comparison as: j JSON · c CSV · m Markdown table · h HTML report (esc cancels)`, cols)}</Text> : null}
      {exporting === 'busy' ? <Text color="yellow">exporting…</Text> : null}
      {message ? <Text color={message.color}>{truncate(message.text, cols)}</Text> : null}
      <KeyHints hints={hints} columns={cols} />
    </Box>
  );
}

/** The line under the table: the marks' meaning, and which runs and rows show when not all do. */
function footerText(model: CompareModel, visible: number, scrollsRuns: boolean, rows: string | null, shown?: readonly number[]): string {
  const runs = scrollsRuns ? `runs 1 and ${rangeText((shown ?? Array.from({ length: visible }, (_, i) => i)).slice(1).map((i) => i + 1))} of ${model.columns.length}` : null;
  const where = [runs, rows].filter((x): x is string => x !== null);
  return `${BEST_MARK} best in row beyond noise (lower is better for times, higher for rates) · (±%) change against run 1 · ${WITHIN_NOISE_MARK} within noise${where.length ? ` · showing ${where.join(', ')}` : ''}`;
}

/** "2-4" for consecutive numbers, else "2, 5". */
function rangeText(ns: readonly number[]): string {
  if (ns.length === 0) return '-';
  const consecutive = ns.every((n, i) => i === 0 || n === ns[i - 1] + 1);
  return consecutive && ns.length > 2 ? `${ns[0]}-${ns[ns.length - 1]}` : ns.join(', ');
}
