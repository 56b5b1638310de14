// The keyboard hint line every view ends with, e.g. `↑/↓ move · space select · c compare · q back`.
import { Box, Text } from 'ink';

type Props = {
  /** [keys, what they do] pairs, in display order. */
  readonly hints: readonly (readonly [string, string])[];
  /** Blank lines above (default 1). */
  readonly marginTop?: number;
  /** The line's width: it wraps at a separator, never inside a hint (default: the parent's). */
  readonly columns?: number;
};

export function KeyHints({ hints, marginTop = 1, columns }: Props) {
  return (
    <Box marginTop={marginTop} {...(columns ? { width: columns } : {})}>
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
