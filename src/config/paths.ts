// Where gemma-bench keeps things: the package's own files (presets, examples) and the user's data directory
// (saved runs, user presets, the built tiny model, preferences). GEMMA_BENCH_HOME overrides the data directory,
// which is how tests and CI stay out of the user's home.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'presets'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('gemma-bench: cannot find its package root (package.json beside presets/)');
    dir = parent;
  }
}

/** The installed package's root (holds package.json, presets/, python/, examples/). */
export const PACKAGE_ROOT = findPackageRoot();
export const BUILTIN_PRESETS_DIR = join(PACKAGE_ROOT, 'presets');
export const BUILTIN_RECIPES_DIR = join(PACKAGE_ROOT, 'recipes');

/** The user's data directory: $GEMMA_BENCH_HOME, else $XDG_DATA_HOME/gemma-bench, else ~/.local/share/gemma-bench. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GEMMA_BENCH_HOME) return resolve(env.GEMMA_BENCH_HOME);
  const xdg = env.XDG_DATA_HOME;
  return join(xdg ? resolve(xdg) : join(homedir(), '.local', 'share'), 'gemma-bench');
}

export const runsDir = (env?: NodeJS.ProcessEnv): string => join(dataDir(env), 'runs');
export const userPresetsDir = (env?: NodeJS.ProcessEnv): string => join(dataDir(env), 'presets');
export const userRecipesDir = (env?: NodeJS.ProcessEnv): string => join(dataDir(env), 'recipes');
export const modelCacheDir = (env?: NodeJS.ProcessEnv): string => join(dataDir(env), 'models');
