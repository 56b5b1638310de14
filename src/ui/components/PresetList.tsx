// The home screen's preset list: each preset with its key settings (invalid ones say why), the selected one
// marked, scrolling when longer than its rows, and the selected preset's description under it.
import { Box, Text } from 'ink';
import { presetSummary, type BackendOption, type PresetInfo } from '../app-port.js';
import { fit, truncate } from '../cells.js';
import type { HomeLayout } from '../home-layout.js';
import { listWindow } from '../list-window.js';

type Props = {
  readonly presets: readonly PresetInfo[];
  /** Index of the selected preset. */
  readonly sel: number;
  readonly focused: boolean;
  /** The selected preset's description, if any. */
  readonly description: string | null;
  readonly layout: HomeLayout;
  /** What the chosen backend's replicas run on: the topology is shown as it would run there. */
  readonly runsOn?: BackendOption['runsOn'];
};

export function PresetList({ presets, sel, focused, description, layout, runsOn }: Props) {
  const { visible } = listWindow(presets, sel, layout.presetRows);
  const cols = layout.summaryColumns;
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold color={focused ? 'cyan' : undefined}>
        {focused ? '▸ ' : '  '}Preset
      </Text>
      {visible.map((x) => {
        const on = presets.indexOf(x) === sel;
        return (
          <Text key={x.name} color={on ? 'cyan' : undefined} inverse={on && focused}>
            {on ? ' ● ' : '   '}
            {fit(x.name, 15)} {fit(x.builtin ? 'built-in' : 'user', 9)}
            {x.preset ? truncate(presetSummary(x.preset, runsOn), cols) : <Text color="red">{truncate(`invalid: ${x.error ?? ''}`, cols)}</Text>}
          </Text>
        );
      })}
      {layout.scrolls ? <Text dimColor>   ({presets.length} presets; ↑/↓ scrolls)</Text> : null}
      {description ? <Text dimColor>   {truncate(description, layout.descriptionColumns)}</Text> : null}
    </Box>
  );
}
