// Keyboard input for the screens. Ink's useInput subscribes in a passive effect, so a screen that has just
// appeared misses a key typed right after its first frame, and a handler replaced by a re-render is swapped in
// late. Here one useInput at the root (KeysProvider, mounted once) routes every key to the handlers of the
// mounted screens, which register synchronously at commit (layout effect) and are always called in their latest
// version (a ref set during render). Without a KeysProvider, useKeys falls back to a plain useInput.
import { createContext, useCallback, useContext, useLayoutEffect, useMemo, useRef, type ReactNode } from 'react';
import { useInput, type Key } from 'ink';

export type KeyHandler = (input: string, key: Key) => void;

interface Entry {
  readonly handler: { current: KeyHandler };
  readonly active: { current: boolean };
}

class KeyRouter {
  private readonly entries: Entry[] = [];
  add(e: Entry): void {
    this.entries.push(e);
  }
  remove(e: Entry): void {
    const i = this.entries.indexOf(e);
    if (i >= 0) this.entries.splice(i, 1);
  }
  dispatch(input: string, key: Key): void {
    // A handler may unmount others (switching screens): iterate over a copy, skip the ones removed meanwhile.
    for (const e of [...this.entries]) if (e.active.current && this.entries.includes(e)) e.handler.current(input, key);
  }
}

const KeysContext = createContext<KeyRouter | null>(null);

/** Mount once at the root of an Ink tree: owns the one useInput subscription (and raw mode). */
export function KeysProvider({ children }: { readonly children: ReactNode }) {
  const router = useMemo(() => new KeyRouter(), []);
  useInput(useCallback((input: string, key: Key) => router.dispatch(input, key), [router]));
  return <KeysContext.Provider value={router}>{children}</KeysContext.Provider>;
}

export function useKeys(handler: KeyHandler, options: { readonly isActive?: boolean } = {}): void {
  const router = useContext(KeysContext);
  const isActive = options.isActive ?? true;
  const handlerRef = useRef(handler);
  handlerRef.current = handler;
  const activeRef = useRef(isActive);
  activeRef.current = isActive;
  useLayoutEffect(() => {
    if (!router) return;
    const entry: Entry = { handler: handlerRef, active: activeRef };
    router.add(entry);
    return () => router.remove(entry);
  }, [router]);
  const stable = useCallback<KeyHandler>((input, key) => handlerRef.current(input, key), []);
  useInput(stable, { isActive: router === null && isActive });
}
