// Editing a one-line text field, key by key. Pure: the screens' reducers use it without Ink.

/** The keys editText reads (Ink's Key has them). */
export interface EditKey {
  readonly backspace: boolean;
  readonly delete: boolean;
  readonly ctrl: boolean;
  readonly meta: boolean;
}

/** The next value of a text field after a key: printable input appends, backspace/delete removes the last char. */
export function editText(value: string, input: string, key: EditKey, accept: (ch: string) => boolean = () => true): string {
  if (key.backspace || key.delete) return value.slice(0, -1);
  if (key.ctrl || key.meta || !input) return value;
  // Pasted text arrives as one input; keep the printable characters the field accepts.
  const add = [...input].filter((ch) => ch >= ' ' && ch !== '\u007f' && accept(ch)).join('');
  return value + add;
}
