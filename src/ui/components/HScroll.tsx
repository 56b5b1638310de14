// A horizontal viewport: draws its children at `contentWidth` columns and shows `width` of them from `offset` on
// (the screens move the offset with ←/→). Ink clips what lies outside.
import type { ReactNode } from 'react';
import { Box } from 'ink';

type Props = {
  readonly width: number;
  readonly contentWidth: number;
  readonly offset: number;
  readonly children: ReactNode;
};

export function HScroll({ width, contentWidth, offset, children }: Props) {
  if (contentWidth <= width) return <Box flexDirection="column">{children}</Box>;
  return (
    <Box width={width} overflowX="hidden" flexDirection="column">
      <Box width={contentWidth} flexShrink={0} marginLeft={-offset} flexDirection="column">
        {children}
      </Box>
    </Box>
  );
}

/** The offset after ←/→ (`step` columns), kept within what there is to see. */
export function scrolled(offset: number, direction: -1 | 1, width: number, contentWidth: number, step = 8): number {
  return Math.max(0, Math.min(Math.max(0, contentWidth - width), offset + direction * step));
}
