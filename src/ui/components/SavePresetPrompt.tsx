// The home screen's save-preset prompt: the name being typed, then "saving…" while the controller writes it.
import { Box } from 'ink';
import { TextField } from './TextField.js';

export function SavePresetPrompt({ name, busy }: { readonly name: string; readonly busy: boolean }) {
  return (
    <Box marginTop={1}>
      <TextField label="Save as" value={name} placeholder="preset name (letters, digits, . _ -)" focused={!busy} note={busy ? 'saving…' : 'Enter saves, Esc cancels'} />
    </Box>
  );
}
