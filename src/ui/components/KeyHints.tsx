// The keyboard hint line every view ends with, e.g. `↑/↓ move · space select · c compare · q back`.
import { Box, Text } from 'ink';

type Props = {
  /** [keys, what they do] pairs, in display order. */
  readonly hints: readonly (readonly [string, string])[];
};

export function KeyHints({ hints }: Props) {
  return (
    <Box marginTop={1}>
      <Text dimColor>
        {hints.map(([k, what], i) => (
          <Text key={k}>
            {i > 0 ? ' · ' : ''}
            <Text bold>{k}</Text> {what}
          </Text>
        ))}
      </Text>
    </Box>
  );
}
