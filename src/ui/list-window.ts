// Which rows of a scrolling list are on screen: a window of `rows` items that keeps the cursor near its middle.
// Pure.

/** The index of the first visible item. */
export function windowTop(cursor: number, length: number, rows: number): number {
  return Math.max(0, Math.min(cursor - Math.floor(rows / 2), length - rows));
}

/** The visible items and where they start. */
export function listWindow<T>(items: readonly T[], cursor: number, rows: number): { readonly top: number; readonly visible: readonly T[] } {
  const top = windowTop(cursor, items.length, rows);
  return { top, visible: items.slice(top, top + rows) };
}
