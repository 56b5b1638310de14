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
  useInput(
    useCallback(
      (input: string, key: Key) => {
        for (const [i, k] of splitKeys(input, key)) router.dispatch(i, k);
      },
      [router],
    ),
  );
  return <KeysContext.Provider value={router}>{children}</KeysContext.Provider>;
}

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/** One character as Ink reads it when it arrives alone (its parse-keypress), for keys that came in one chunk. */
export function keyOfChar(ch: string): [string, Key] {
  switch (ch) {
    case '\r':
      return ['', { ...NO_KEY, return: true }];
    case '\n':
      return ['', { ...NO_KEY, return: true }];
    case '\t':
      return ['', { ...NO_KEY, tab: true }];
    case '\b':
      return ['', { ...NO_KEY, backspace: true }];
    case '\u007f':
      return ['', { ...NO_KEY, delete: true }];
    case '\u001b':
      return ['', { ...NO_KEY, escape: true, meta: true }];
  }
  const code = ch.codePointAt(0) ?? 0;
  // Ctrl+letter: \x01..\x1a, as Ink reports it (the letter, ctrl set).
  if (code >= 1 && code <= 26) return [String.fromCharCode(code + 96), { ...NO_KEY, ctrl: true }];
  return [ch, { ...NO_KEY, shift: /^[A-Z]$/.test(ch) }];
}

/**
 * The keys in what Ink handed over at once. Ink reads a terminal chunk and splits off escape sequences (arrows
 * and the like), but gives a run of plain characters as one input: three Backspaces typed fast arrive as
 * "\x7f\x7f\x7f", two Tabs as "\t\t", two Ctrl-Cs as "\x03\x03", and Ink recognises none of them as keys. Such a
 * run is split into one key per character, each as Ink reads it alone; anything else passes through as it is.
 * (Typed or pasted text splits into its characters, which text fields append one by one.)
 */
export function splitKeys(input: string, key: Key): [string, Key][] {
  const chars = [...input];
  const special = key.upArrow || key.downArrow || key.leftArrow || key.rightArrow || key.pageUp || key.pageDown || key.home || key.end || key.return || key.escape || key.tab || key.backspace || key.delete || key.ctrl || key.meta;
  if (chars.length <= 1 || special || input.includes('\u001b')) return [[input, key]];
  return chars.map(keyOfChar);
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
