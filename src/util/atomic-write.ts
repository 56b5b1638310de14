// The one atomic file writer: a temp file beside the target (a dotfile, so listings skip it), fsync, rename, then a
// best-effort fsync of the directory so the rename survives a crash too. A crash, a full disk or a read-only
// directory never leaves a half-written target; on failure the temp file is removed and the fs error rethrown.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const TEMP_SUFFIX = '.tmp';

export async function writeFileAtomic(file: string, text: string, mode = 0o644): Promise<void> {
  const dir = dirname(file);
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  let fh: FileHandle | null = null;
  try {
    await mkdir(dir, { recursive: true });
    fh = await open(tmp, 'wx', mode);
    await fh.writeFile(text, 'utf8');
    await fh.sync();
    await fh.close();
    fh = null;
    await rename(tmp, file);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some file systems refuse fsync on a directory; the data itself is already synced.
  }
}
