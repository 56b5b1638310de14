// Test helper: drives a program in a real pseudo-terminal with tmux, on a socket of its own (never the user's
// server, never another test's). Sessions run a shell command; screens are read with capture-pane.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';

export const hasTmux = (): boolean => spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;

/** Ink draws nothing live when CI is set (is-in-ci): programs under test get a plain user's environment. */
export const NO_CI = 'env -u CI -u CONTINUOUS_INTEGRATION';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Tmux {
  constructor(readonly socket: string) {}

  run(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Starts `command` (a shell command line) in a detached session of the given size. */
  start(session: string, cols: number, rows: number, command: string): void {
    this.run('new-session', '-d', '-s', session, '-x', String(cols), '-y', String(rows), command);
  }

  /** The visible screen; with `scrollback`, also what scrolled off. */
  capture(session: string, scrollback = false): string {
    return this.run('capture-pane', '-p', ...(scrollback ? ['-J', '-S', '-300'] : []), '-t', session);
  }

  /** Named keys (Enter, Tab, BSpace, Left, C-c ...), one tmux call each, `gapMs` apart. */
  async keys(session: string, gapMs: number, ...ks: string[]): Promise<void> {
    for (const k of ks) {
      this.run('send-keys', '-t', session, k);
      await sleep(gapMs);
    }
  }

  /** Several keys in ONE tmux call: the terminal receives them as one burst (one read, one chunk for the app). */
  burst(session: string, ...ks: string[]): void {
    this.run('send-keys', '-t', session, ...ks);
  }

  /** Literal text, one character at a time. */
  async text(session: string, s: string, gapMs = 60): Promise<void> {
    for (const ch of s) {
      this.run('send-keys', '-t', session, '-l', ch);
      await sleep(gapMs);
    }
  }

  /** Resizes the session's window (the program gets SIGWINCH). */
  resize(session: string, cols: number, rows: number): void {
    this.run('resize-window', '-t', session, '-x', String(cols), '-y', String(rows));
  }

  async waitScreen(session: string, re: RegExp, timeoutMs: number, what: string, scrollback = false): Promise<string> {
    const t0 = Date.now();
    let last = '';
    while (Date.now() - t0 < timeoutMs) {
      last = this.capture(session, scrollback);
      if (re.test(last)) return last;
      await sleep(100);
    }
    assert.fail(`timed out after ${timeoutMs} ms waiting for ${what} (${re}); the screen was:\n${last}`);
  }

  kill(): void {
    try {
      this.run('kill-server');
    } catch {
      // never started
    }
  }
}

/** The widest line of a screen (trailing spaces ignored). */
export const widest = (screen: string): number => Math.max(0, ...screen.split('\n').map((l) => [...l.trimEnd()].length));
