// Shared helpers for the telemetry tests: locating fixtures from the compiled tests (which run from
// dist/test/...), making the fake nvidia-smi runnable, and generous "eventually" waits.
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test', 'fixtures', 'telemetry'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root from ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const REPO_ROOT = findRepoRoot();
export const FIXTURES_DIR = join(REPO_ROOT, 'test', 'fixtures', 'telemetry');
export const fixture = (name: string): string => join(FIXTURES_DIR, name);
export const readFixture = (name: string): string => readFileSync(fixture(name), 'utf8');

/**
 * An executable path for the fake nvidia-smi. A tiny shell wrapper in a temp dir execs it with this very
 * node binary, so the test works whatever git did to the script's mode and whether `node` is on PATH.
 */
export function fakeNvidiaSmi(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gb-fake-smi-'));
  const path = join(dir, 'nvidia-smi');
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(path, `#!/bin/sh\nexec ${q(process.execPath)} ${q(fixture('fake-nvidia-smi.mjs'))} "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

export const tempFile = (name: string): string => join(mkdtempSync(join(tmpdir(), 'gb-telemetry-')), name);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `cond()` holds; fails after a generous timeout (slow CI machines), never asserts on timing. */
export async function eventually(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** True while a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
