// The terminal's size as React state, for screens that lay themselves out to it. One provider at the root of an
// Ink tree listens to the terminal's resize events: it re-renders every screen at the new size, then wipes the
// screen and has Ink draw the new frame again (a narrower terminal re-wraps the old frame, which Ink's
// line-counting redraw would otherwise leave behind as garbage). Without a provider (tests), the size is read from Ink's stdout, or the given fallback.
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useStdout } from 'ink';

export interface TerminalSize {
  readonly columns: number;
  readonly rows: number;
}

/** What the screens were designed for when the terminal does not say (and the smallest they are tested at). */
export const DEFAULT_SIZE: TerminalSize = { columns: 100, rows: 50 };
export const MIN_SIZE: TerminalSize = { columns: 80, rows: 24 };

/** After a resize, the clean redraw waits this long: longer than one of Ink's throttled frames (30 fps). */
const REDRAW_AFTER_RESIZE_MS = 80;

/** Clear the screen and put the cursor home (not the scrollback: what scrolled off stays readable). */
const CLEAR_SCREEN = '\u001b[2J\u001b[H';

const SizeContext = createContext<TerminalSize | null>(null);

function sizeOf(stdout: NodeJS.WriteStream | undefined): TerminalSize {
  return { columns: stdout?.columns || DEFAULT_SIZE.columns, rows: stdout?.rows || DEFAULT_SIZE.rows };
}

export function TerminalSizeProvider({ children }: { readonly children: ReactNode }) {
  const { stdout, write } = useStdout();
  const [size, setSize] = useState<TerminalSize>(() => sizeOf(stdout));
  useEffect(() => {
    if (!stdout) return;
    let timer: NodeJS.Timeout | undefined;
    const onResize = () => {
      setSize(sizeOf(stdout));
      // Once Ink has drawn the frame laid out for the new size (its renders are throttled), wipe the screen and
      // have Ink draw that frame again from the top: write() erases Ink's frame, writes ours, then restores it.
      clearTimeout(timer);
      timer = setTimeout(() => write(CLEAR_SCREEN), REDRAW_AFTER_RESIZE_MS);
    };
    stdout.on('resize', onResize);
    return () => {
      clearTimeout(timer);
      stdout.off('resize', onResize);
    };
  }, [stdout]);
  return <SizeContext.Provider value={size}>{children}</SizeContext.Provider>;
}

/** The terminal's size (re-rendered on resize under a TerminalSizeProvider); `override` wins (tests). */
export function useTerminalSize(override?: Partial<TerminalSize>): TerminalSize {
  const fromProvider = useContext(SizeContext);
  const { stdout } = useStdout();
  const base = fromProvider ?? sizeOf(stdout);
  return { columns: override?.columns ?? base.columns, rows: override?.rows ?? base.rows };
}
