// Permission tests must run as an unprivileged user: root ignores file modes. This says whether user nobody can
// read the built CLI from this checkout (a clone inside a 0700 directory cannot), so such tests skip with the
// reason instead of failing for a reason unrelated to what they test.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './repo.js';

export const NOBODY_UID = 65534;
export const isRoot = (): boolean => process.getuid?.() === 0;

/** Options that run a child as nobody when we are root (otherwise as ourselves, where modes already apply). */
export const asNobodyOptions = (): { uid?: number; gid?: number } => (isRoot() ? { uid: NOBODY_UID, gid: NOBODY_UID } : {});

/** null when nobody can run the built CLI; otherwise why not, for a visible skip. */
export function nobodyCannotRun(): string | null {
  const cli = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
  const r = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(cli)}, require('fs').constants.R_OK)`], { encoding: 'utf8', ...asNobodyOptions() });
  return r.status === 0 ? null : `user nobody cannot read ${cli} (a parent directory is not world-searchable); run .ci/run, which opens the checkout, or chmod o+rx the path`;
}
