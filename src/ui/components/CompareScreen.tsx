// Saved runs side by side (@alcalzone/ink-table, behind this one module): one column per run, the first the
// baseline, the change against it after every other value, `*` on the best value of each row; the runs' ids,
// status and the reasons they may not compare like for like underneath. ←/→ scroll when the runs do not fit.
import { useState } from 'react';
import { Box, Text, useStdout } from 'ink';
import { Table } from '@alcalzone/ink-table';
import type { ExportFormat } from '../app-port.js';
import { BEST_MARK, columnsThatFit, compareTable } from '../compare-view.js';
import { localTime } from '../../report/phrases.js';
import { truncate } from '../cells.js';
import type { CompareModel } from '../../report/compare.js';
import { isSweepModel, renderFrontierScatter, scatterPointsOfModel } from '../../report/frontier-scatter.js';
import { KeyHints } from './KeyHints.js';
import { useKeys } from '../use-keys.js';

/** ink-table draws a rule between every row; this keeps only the one under the heading (half the height). */
class CompactTable extends Table<Record<string, string>> {
  constructor(props: ConstructorParameters<typeof Table<Record<string, string>>>[0]) {
    super(props);
    const rule = this.separator;
    this.separator = (p) => (p.key.endsWith('-0') ? rule(p) : <></>);
  }
}

const DEFAULT_WIDTH = 100;

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
};

const FORMAT_KEYS: Readonly<Record<string, ExportFormat>> = { j: 'json', c: 'csv', m: 'md', h: 'html' };
/** The sweep's scatter is drawn at most this wide, however wide the terminal. */
const SCATTER_WIDTH_MAX = 100;

export function CompareScreen({ model, title, onExport, onBack, onHelp, isActive = true, width }: Props) {
  const { stdout } = useStdout();
  const cols = width ?? (stdout?.columns || DEFAULT_WIDTH);
  const fit = columnsThatFit(model, cols);
  const [offset, setOffset] = useState(0);
  const [exporting, setExporting] = useState<'ask' | 'busy' | null>(null);
  const [message, setMessage] = useState<{ text: string; color: 'green' | 'red' | 'yellow' } | null>(null);
  const others = model.columns.length - 1;
  const maxOffset = Math.max(0, others - (fit - 1));

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
            setMessage({ text: `exported ${model.columns.length} run(s) as ${f.toUpperCase()} to ${path}`, color: 'green' });
          },
          (err: unknown) => {
            setExporting(null);
            setMessage({ text: `export failed: ${(err as Error)?.message ?? String(err)}`, color: 'red' });
          },
        );
        return;
      }
      if (key.leftArrow) return setOffset((o) => Math.max(0, o - 1));
      if (key.rightArrow) return setOffset((o) => Math.min(maxOffset, o + 1));
      if (input === 'e') return setExporting('ask');
      if (input === '?') return onHelp();
      if (input === 'q' || key.escape) return onBack();
    },
    { isActive },
  );

  const view = compareTable(model, fit, offset);
  const columns = view.columns.map((c, i) => ({ key: c, align: i === 0 ? ('left' as const) : ('right' as const) }));
  const hints: (readonly [string, string])[] = exporting
    ? [['j', 'JSON'], ['c', 'CSV'], ['m', 'Markdown'], ['h', 'HTML'], ['esc', 'cancel']]
    : [...(others + 1 > fit ? [['←/→', 'scroll runs'] as const] : []), ['e', 'export'], ['?', 'help'], ['q', 'back']];
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold color="cyan">gemma-bench</Text> <Text dimColor>· compare {title}</Text>
      </Text>
      <CompactTable data={view.data as Record<string, string>[]} columns={columns} />
      <Text dimColor>
        {BEST_MARK} best in row (lower is better for times, higher for rates) · (±%) change against run 1
        {others + 1 > fit ? ` · showing runs 1 and ${view.shown.slice(1).map((i) => i + 1).join(', ')} of ${others + 1}` : ''}
      </Text>
      {isSweepModel(model) ? (
        <Box flexDirection="column" marginTop={1}>
          {renderFrontierScatter(scatterPointsOfModel(model), { width: Math.min(cols, SCATTER_WIDTH_MAX), height: 7 }).map((line, i) => (
            <Text key={i}>{line}</Text>
          ))}
        </Box>
      ) : null}
      <Box flexDirection="column" marginTop={1}>
        {model.columns.map((c, i) => (
          <Text key={`${i}:${c.id}`}>
            <Text bold>{String(i + 1).padStart(2)}</Text> {truncate(`${c.id} · ${c.status} · ${localTime(c.startedAt)} · preset ${c.preset} · ${c.backend} · ${c.model}`, 95)}
          </Text>
        ))}
      </Box>
      {model.warnings.length ? (
        <Box flexDirection="column" marginTop={1}>
          {model.warnings.map((w, i) => (
            <Text key={i} color="yellow">
              note: {truncate(w, 92)}
            </Text>
          ))}
        </Box>
      ) : null}
      {exporting === 'ask' ? <Text color="yellow">Export these {model.columns.length} run(s) as: j JSON · c CSV · m Markdown · h HTML (esc cancels)</Text> : null}
      {exporting === 'busy' ? <Text color="yellow">exporting…</Text> : null}
      {message ? <Text color={message.color}>{truncate(message.text, 200)}</Text> : null}
      <KeyHints hints={hints} />
    </Box>
  );
}
