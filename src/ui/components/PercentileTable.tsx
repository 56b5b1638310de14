// The streaming percentile table: p50/p90/p95/p99 (and mean, count) of E2E, TTFT, TPOT, ITL and preprocess
// latency, in ms, from the engine's HDR histograms (the same numbers that get saved). Pure view.
import { Box, Text } from 'ink';
import type { LatencyMetric, MetricSummary } from '../../engine/types.js';
import { fit, fitRight, msCell } from '../cells.js';

/** The rows the dashboard shows, in order, with their labels. */
export const LIVE_METRICS: readonly (readonly [LatencyMetric, string])[] = [
  ['e2eMs', 'E2E'],
  ['ttftMs', 'TTFT'],
  ['tpotMs', 'TPOT'],
  ['itlMs', 'ITL'],
  ['preprocessMs', 'Preprocess'],
];

const WIDE_LABEL_W = 16;
/** Below this many columns the label column narrows, so the table (and its "live" mark) fits 80 columns. */
const NARROW_BELOW = 90;
const CELL_W = 10;
const COLUMNS = ['p50', 'p90', 'p95', 'p99', 'mean', 'n'] as const;

type Props = {
  readonly metrics: Readonly<Record<LatencyMetric, MetricSummary>> | null;
  /** "live" while the run goes, "final" once it has finished. */
  readonly mode: 'live' | 'final';
  /** The terminal's width (default 100). */
  readonly columns?: number;
};

export function PercentileTable({ metrics, mode, columns = 100 }: Props) {
  const LABEL_W = columns < NARROW_BELOW ? 12 : WIDE_LABEL_W;
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>{fit('Latency (ms)', LABEL_W)}</Text>
        <Text bold>{COLUMNS.map((c) => fitRight(c, CELL_W)).join('')}</Text>
        <Text dimColor>{mode === 'live' ? '  live' : '  final'}</Text>
      </Text>
      {LIVE_METRICS.map(([m, label]) => {
        const s = metrics?.[m];
        const cells = s ? [msCell(s.p50), msCell(s.p90), msCell(s.p95), msCell(s.p99), msCell(s.mean), String(s.count)] : COLUMNS.map(() => '-');
        return (
          <Text key={m}>
            {fit(label, LABEL_W)}
            {cells.map((c) => fitRight(c, CELL_W)).join('')}
          </Text>
        );
      })}
    </Box>
  );
}
