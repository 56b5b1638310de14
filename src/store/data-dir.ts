// Whether the data directory ($GEMMA_BENCH_HOME) can take what a command will write there (saved runs, the built
// tiny model, the synthetic set, user presets), checked before anything loads: a store that cannot be written is
// found in milliseconds, not after a whole benchmark whose run would then be lost (DESIGN.md §9).
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dataDir, runsDir } from '../config/paths.js';
import { describeFsError } from './run-store.js';

/** The data directory cannot be written: a configuration the user must fix (exit code 2). */
export class DataDirError extends Error {
  override name = 'DataDirError';
}

/**
 * Why the data directory (and its runs/ folder) cannot be written, in words with the fix; null when it can.
 * Creates the folders when missing, and writes and removes one probe file in each.
 */
export async function dataDirProblem(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const home = dataDir(env);
  for (const dir of [home, runsDir(env)]) {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      return explain(home, `cannot create ${dir}: ${describeFsError(err)}`);
    }
    const probe = join(dir, `.write-check.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await writeFile(probe, '');
    } catch (err) {
      return explain(home, `cannot write in ${dir}: ${describeFsError(err)}`);
    }
    await rm(probe, { force: true }).catch(() => undefined);
  }
  return null;
}

function explain(home: string, what: string): string {
  return `the data directory ${home} is not writable (${what}). Runs, the built-in model and presets are kept there: fix its permissions, or set GEMMA_BENCH_HOME to a writable directory.`;
}

/** Throws DataDirError (exit 2) unless the data directory can be written. */
export async function ensureDataDirWritable(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const problem = await dataDirProblem(env);
  if (problem !== null) throw new DataDirError(problem);
}
