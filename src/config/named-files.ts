// Settings kept as named JSON files: the built-in ones shipped with the package, then the user's own under the data
// directory (a user file may not shadow a built-in name). Presets and sweep recipes are both kept this way.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

export interface NamedFile {
  readonly name: string;
  readonly file: string;
  readonly builtin: boolean;
}

/** Built-in files first, then the user's own, each sorted by name. */
export function listNamedFiles(builtinDir: string, userDir: string): NamedFile[] {
  const out: NamedFile[] = [];
  const seen = new Set<string>();
  for (const [dir, builtin] of [[builtinDir, true], [userDir, false]] as const) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.json')) continue;
      const name = basename(f, '.json');
      if (seen.has(name)) continue;
      seen.add(name);
      out.push({ name, file: join(dir, f), builtin });
    }
  }
  return out;
}

/** A name or a path (anything with a "/" or ending in .json) to its file; null when a path does not exist. */
export function findNamedFile(nameOrPath: string, entries: readonly NamedFile[]): { file: string } | { missingPath: string } | { unknown: true } {
  if (nameOrPath.endsWith('.json') || nameOrPath.includes('/')) {
    const p = resolve(nameOrPath);
    return existsSync(p) ? { file: p } : { missingPath: p };
  }
  const hit = entries.find((e) => e.name === nameOrPath);
  return hit ? { file: hit.file } : { unknown: true };
}

/** The file's JSON, or the reason it cannot be had ("cannot read ...", "is not valid JSON: ..."). */
export function readJson(file: string, what: string): { ok: true; value: unknown } | { ok: false; message: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, message: `cannot read ${what} ${file}: ${(err as Error).message}` };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, message: `${what} ${file} is not valid JSON: ${(err as Error).message}` };
  }
}
