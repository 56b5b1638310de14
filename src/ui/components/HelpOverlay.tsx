// The `?` help screen: the keys of the view it was opened from, what the dashboard's numbers mean (DESIGN.md §5),
// and how to close it. It replaces the view while open (Ink has no layers) and answers its own keys.
import { Box, Text } from 'ink';
import { useKeys } from '../use-keys.js';
import { useTerminalSize } from '../terminal-size.js';

/** Rows the terminal needs for the metric definitions to show under the keys (else only the keys show). */
const METRICS_MIN_ROWS = 36;

export type HelpTopic = 'home' | 'dashboard' | 'runs' | 'compare';

export const HELP_KEYS: Readonly<Record<HelpTopic, readonly (readonly [string, string])[]>> = {
  home: [
    ['↑/↓', 'choose a preset (in the preset list)'],
    ['tab / shift+tab', 'next / previous field'],
    ['type', 'edit the focused field (images: a file, a folder or a quoted glob; empty = built-in synthetic set)'],
    ['←/→', 'choose the backend (on the backend field)'],
    ['enter', 'start the run'],
    ['s', 'save the current settings as a user preset'],
    ['r', 'saved runs'],
    ['esc', 'leave a text field'],
    ['q / esc', 'quit (from the preset list)'],
  ],
  dashboard: [
    ['q / esc / ctrl+c', 'stop the run: in-flight requests may finish, the partial run is saved as interrupted'],
    ['ctrl+c again', 'stop at once: in-flight requests are cancelled (the partial run is still saved)'],
    ['←/→', 'scroll sideways (a terminal narrower than a table)'],
    ['r', 'saved runs (once the run has finished)'],
    ['enter', 'back to the presets (once the run has finished)'],
  ],
  runs: [
    ['↑/↓', 'move'],
    ['space', 'select / unselect (the first selected is the baseline)'],
    ['c / enter', 'compare the selection, or the run or sweep under the cursor'],
    ['e', 'export the selection (or the run under the cursor) as JSON, CSV, Markdown or HTML (a report with charts)'],
    ['d', 'delete the selection (or the run under the cursor), after a confirmation'],
    ['g', 'reload the list'],
    ['←/→', 'more columns (a narrow terminal)'],
    ['q / esc', 'back to the presets'],
  ],
  compare: [
    ['←/→', 'scroll the run columns (the baseline stays)'],
    ['↑/↓', 'scroll the rows (a short terminal)'],
    ['e', 'export the comparison table (JSON, CSV, Markdown), or the runs\' HTML report with charts (a sweep\'s shows its Pareto frontier)'],
    ['≈ / *', '≈: within noise (the 95% interval of the difference from run 1 includes 0); *: best in its row, beyond noise'],
    ['q / esc', 'back to the saved runs'],
  ],
};

const METRICS: readonly (readonly [string, string])[] = [
  ['E2E', 'enqueue -> last output token (includes the queue)'],
  ['TTFT', 'dispatch to a replica -> first output token (excludes the queue)'],
  ['TPOT', '(last token - first token) / (output tokens - 1), per request'],
  ['ITL', 'every gap between consecutive output tokens, pooled over requests'],
  ['Preprocess', 'decode + crops + resize + normalize + tokenize'],
  ['req/s', 'completed measured requests / measured wall time (warmup excluded)'],
  ['tok/s', 'output tokens of completed requests / measured wall time'],
];

type Props = {
  readonly topic: HelpTopic;
  readonly onClose: () => void;
};

export function HelpOverlay({ topic, onClose }: Props) {
  useKeys((input, key) => {
    if (input === '?' || input === 'q' || key.escape || key.return) onClose();
  });
  const keys = HELP_KEYS[topic];
  const w = Math.max(...keys.map(([k]) => k.length)) + 2;
  const size = useTerminalSize();
  const metrics = size.rows >= METRICS_MIN_ROWS;
  return (
    <Box flexDirection="column" borderStyle="round" paddingX={1} width={Math.min(size.columns, 120)}>
      <Text bold>Help: {topic} keys</Text>
      {keys.map(([k, what]) => (
        <Text key={k}>
          <Text bold>{k.padEnd(w)}</Text>
          {what}
        </Text>
      ))}
      {metrics ? <Box marginTop={1} flexDirection="column">
        <Text bold>What the numbers mean (all times in ms, percentiles from HDR histograms)</Text>
        {METRICS.map(([k, what]) => (
          <Text key={k}>
            <Text bold>{k.padEnd(12)}</Text>
            {what}
          </Text>
        ))}
        <Text dimColor>Models with random weights are labelled "random weights: speed only": timings are real, text is not.</Text>
      </Box> : <Text dimColor>(a taller terminal also shows what the numbers mean; the README has them)</Text>}
      <Box marginTop={1}>
        <Text dimColor>
          <Text bold>? / esc / q</Text> close help
        </Text>
      </Box>
    </Box>
  );
}
