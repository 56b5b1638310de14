// A one-line text field: label, value (or a dimmed placeholder) and a cursor block when focused. Keys are handled
// by the screen that owns it (editText in text-edit.ts), so one handler decides what every key means on that
// screen.
import { Box, Text } from 'ink';
import { truncateStart } from '../cells.js';

type Props = {
  readonly label: string;
  readonly value: string;
  readonly placeholder?: string;
  readonly focused: boolean;
  /** Columns the label takes, so fields line up. */
  readonly labelWidth?: number;
  /** Shown after the value: validation or a description. */
  readonly note?: string;
  readonly noteColor?: 'green' | 'red' | 'yellow' | 'gray';
  /** Columns the value may take: a longer one shows its end, after "…" (the end is where typing happens). */
  readonly valueColumns?: number;
};

export function TextField({ label, value, placeholder = '', focused, labelWidth = 12, note, noteColor = 'gray', valueColumns }: Props) {
  const shown = valueColumns === undefined ? value : truncateStart(value, valueColumns);
  return (
    <Box>
      <Text color={focused ? 'cyan' : undefined} bold={focused}>
        {focused ? '▸ ' : '  '}
        {label.padEnd(labelWidth)}
      </Text>
      <Text>[</Text>
      {value ? <Text>{shown}</Text> : <Text dimColor>{placeholder}</Text>}
      {focused ? <Text inverse> </Text> : null}
      <Text>]</Text>
      {note ? <Text color={noteColor}> {note}</Text> : null}
    </Box>
  );
}
