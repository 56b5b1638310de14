// Shared helpers of the UI tests: recorded event streams, ANSI-free frames, and the macrotask waits
// ink-testing-library needs (a key written straight after render() is lost; a frame is drawn a tick later).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cloneElement, type ReactElement } from 'react';
import type { EngineEvent } from '../../src/engine/events.js';
import { FIXTURES_DIR } from '../helpers/repo.js';

export const UI_FIXTURES = join(FIXTURES_DIR, 'ui');

/** A recorded NDJSON stream from test/fixtures/ui. */
export function loadStream(name: 'run-cpu' | 'run-errors' | 'gpu-4x2'): EngineEvent[] {
  return readFileSync(join(UI_FIXTURES, `${name}.ndjson`), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EngineEvent);
}

const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
export const stripAnsi = (s: string | undefined): string => (s ?? '').replace(ANSI, '');

/** One macrotask (plus a little slack for React's scheduler). */
export const tick = (ms = 15): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` passes (or throws the last failure after `timeoutMs`). */
export async function waitFor(check: () => void, timeoutMs = 3000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() - t0 > timeoutMs) throw err;
      await tick(10);
    }
  }
}

/** Key sequences as a terminal sends them. */
export const KEYS = {
  up: '\u001b[A',
  down: '\u001b[B',
  right: '\u001b[C',
  left: '\u001b[D',
  enter: '\r',
  escape: '\u001b',
  tab: '\t',
  shiftTab: '\u001b[Z',
  backspace: '\u007f',
  ctrlC: '\u0003',
} as const;

/**
 * Writes keys one at a time with a macrotask before and after each (Ink reads a chunk of several as one paste,
 * and a screen that just appeared subscribes to keys in an effect, a tick after its first frame).
 */
export async function press(stdin: { write(s: string): void }, ...keys: string[]): Promise<void> {
  for (const k of keys) {
    await tick();
    stdin.write(k);
  }
  await tick();
}

/**
 * Gives a rendered tree a terminal of `columns` x `rows` (ink-testing-library's is 100 columns, no rows) and draws
 * it again: Ink lays out to stdout.columns and the screens read both through useStdout.
 */
export function resize(r: { readonly stdout: object; rerender(tree: ReactElement): void }, tree: ReactElement, columns: number, rows: number): void {
  Object.defineProperty(r.stdout, 'columns', { value: columns, configurable: true });
  Object.defineProperty(r.stdout, 'rows', { value: rows, configurable: true });
  r.rerender(cloneElement(tree));
}
