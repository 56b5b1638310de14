// Where `--format html` writes (runs export, compare): to --out, else to a file under the data directory's
// exports/ folder named after what it reports. The HTML is a page to open, not text for the terminal, so it is
// always written to a file and its path printed on stdout.
import { resolve, join } from 'node:path';
import { dataDir } from '../config/paths.js';
import type { RunFile } from '../engine/types.js';
import { describeFsError } from '../store/run-store.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { utcStamp } from '../util/ids.js';

/** exports/<run id>.html, exports/<sweep id>.html, or exports/<stamp>-compare-<n>-runs.html. */
export function defaultHtmlPath(runs: readonly RunFile[]): string {
  const g = runs[0]?.group?.id;
  const base = runs.length === 1 ? runs[0].id : g && runs.every((r) => r.group?.id === g) ? g : `${utcStamp()}-compare-${runs.length}-runs`;
  return join(dataDir(), 'exports', `${base}.html`);
}

/** Writes the page (atomically) and returns its absolute path; an unwritable path is an error that says so. */
export async function writeHtmlReport(html: string, runs: readonly RunFile[], out: string | undefined): Promise<string> {
  const file = resolve(out ?? defaultHtmlPath(runs));
  try {
    await writeFileAtomic(file, html);
  } catch (err) {
    throw new Error(`cannot write ${file}: ${describeFsError(err)}. Choose another --out path.`);
  }
  return file;
}
