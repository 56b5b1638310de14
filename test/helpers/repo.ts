// Test helpers for locating the repository root and the optional shared fixture set beside it.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repo root not found');
    dir = up;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot();
export const FIXTURES_DIR = join(REPO_ROOT, 'test', 'fixtures');
/** ../shared/fixtures/panscan beside the checkout; present on developer machines, absent on a fresh clone. */
export const SHARED_PANSCAN_DIR = resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'panscan');
export const hasSharedPanscan = (): boolean => existsSync(join(SHARED_PANSCAN_DIR, 'index.json'));
