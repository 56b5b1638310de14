// Test helper: runs the real built CLI (dist/src/cli/main.js) in a child process against its own GEMMA_BENCH_HOME,
// seeded with fake runs written through the real store.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runsDir } from '../../src/config/paths.js';
import type { RunFile } from '../../src/engine/types.js';
import { saveRun } from '../../src/store/run-store.js';
import { REPO_ROOT } from './repo.js';

export const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Home {
  readonly home: string;
  readonly dir: string;
  cli(args: readonly string[], o?: { input?: string; cwd?: string }): CliResult;
}

/** A fresh data directory holding `runs`. Stdin is a pipe (not a TTY), as in CI. */
export async function homeWith(runs: readonly RunFile[]): Promise<Home> {
  const home = mkdtempSync(join(tmpdir(), 'gb-cli-'));
  const dir = runsDir({ GEMMA_BENCH_HOME: home });
  for (const r of runs) await saveRun(r, dir);
  return {
    home,
    dir,
    cli(args, o = {}) {
      const r = spawnSync(process.execPath, [CLI, ...args], {
        encoding: 'utf8',
        cwd: o.cwd ?? home,
        input: o.input ?? '',
        env: { ...process.env, GEMMA_BENCH_HOME: home, GEMMA_BENCH_DEBUG: '' },
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}
