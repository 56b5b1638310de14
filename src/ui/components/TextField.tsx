// A one-line text field: label, value (or a dimmed placeholder) and a cursor block when focused. Keys are handled
// by the screen that owns it (editText), so one useInput decides what every key means on that screen.
import { Box, Text } from 'ink';

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
};

export function TextField({ label, value, placeholder = '', focused, labelWidth = 12, note, noteColor = 'gray' }: Props) {
  return (
    <Box>
      <Text color={focused ? 'cyan' : undefined} bold={focused}>
        {focused ? '▸ ' : '  '}
        {label.padEnd(labelWidth)}
      </Text>
      <Text>[</Text>
      {value ? <Text>{value}</Text> : <Text dimColor>{placeholder}</Text>}
      {focused ? <Text inverse> </Text> : null}
      <Text>]</Text>
      {note ? <Text color={noteColor}> {note}</Text> : null}
    </Box>
  );
}

/** The next value of a text field after a key: printable input appends, backspace/delete removes the last char. */
export function editText(value: string, input: string, key: { backspace: boolean; delete: boolean; ctrl: boolean; meta: boolean }, accept: (ch: string) => boolean = () => true): string {
  if (key.backspace || key.delete) return value.slice(0, -1);
  if (key.ctrl || key.meta || !input) return value;
  // Pasted text arrives as one input; keep the printable characters the field accepts.
  const add = [...input].filter((ch) => ch >= ' ' && ch !== '\u007f' && accept(ch)).join('');
  return value + add;
}
