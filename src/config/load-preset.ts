// Resolves a preset by name (built-in, then the user's saved presets) or by file path, validates it with the
// zod schema and applies CLI overrides. Every failure is a PresetError naming the file and the field.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { BUILTIN_PRESETS_DIR, userPresetsDir } from './paths.js';
import { PresetSchema, type Preset } from './preset-schema.js';

export class PresetError extends Error {
  override name = 'PresetError';
  constructor(message: string, readonly file?: string) {
    super(message);
  }
}

export interface PresetEntry {
  readonly name: string;
  readonly file: string;
  readonly builtin: boolean;
}

/** Built-in presets first, then the user's own (a user preset may not shadow a built-in name). */
export function listPresetFiles(env?: NodeJS.ProcessEnv): PresetEntry[] {
  const out: PresetEntry[] = [];
  const seen = new Set<string>();
  for (const [dir, builtin] of [[BUILTIN_PRESETS_DIR, true], [userPresetsDir(env), false]] as const) {
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

/** Finds the file for a preset name or path; throws PresetError listing the names that exist. */
export function resolvePresetFile(nameOrPath: string, env?: NodeJS.ProcessEnv): string {
  if (nameOrPath.endsWith('.json') || nameOrPath.includes('/')) {
    const p = resolve(nameOrPath);
    if (!existsSync(p)) throw new PresetError(`preset file not found: ${p}`, p);
    return p;
  }
  const hit = listPresetFiles(env).find((e) => e.name === nameOrPath);
  if (!hit) {
    const names = listPresetFiles(env).map((e) => e.name).join(', ');
    throw new PresetError(`unknown preset "${nameOrPath}". Available: ${names}. Or give a path to a preset .json file.`);
  }
  return hit.file;
}

/** Validates parsed JSON as a preset; the error names the file and each bad field. */
export function parsePreset(raw: unknown, file: string): Preset {
  const result = PresetSchema.safeParse(raw);
  if (!result.success) throw new PresetError(`invalid preset ${file}:\n${formatIssues(result.error)}`, file);
  return result.data;
}

export function loadPreset(nameOrPath: string, env?: NodeJS.ProcessEnv): Preset {
  const file = resolvePresetFile(nameOrPath, env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PresetError(`cannot read preset ${file}: ${(err as Error).message}`, file);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new PresetError(`preset ${file} is not valid JSON: ${(err as Error).message}`, file);
  }
  return parsePreset(raw, file);
}

/** One line per issue: `  - field.path: message`, so the user sees exactly which field to fix. */
export function formatIssues(err: z.ZodError): string {
  return err.issues
    .map((i) => `  - ${i.path.length ? i.path.join('.') : '(preset)'}: ${i.message}`)
    .join('\n');
}
