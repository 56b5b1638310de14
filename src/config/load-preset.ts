// Resolves a preset by name (built-in, then the user's saved presets) or by file path, validates it with the
// zod schema and applies CLI overrides. Every failure is a PresetError naming the file and the field.
import { z } from 'zod';
import { findNamedFile, listNamedFiles, readJson, type NamedFile } from './named-files.js';
import { BUILTIN_PRESETS_DIR, userPresetsDir } from './paths.js';
import { PresetSchema, type Preset } from './preset-schema.js';

export class PresetError extends Error {
  override name = 'PresetError';
  constructor(message: string, readonly file?: string) {
    super(message);
  }
}

export type PresetEntry = NamedFile;

/** Built-in presets first, then the user's own (a user preset may not shadow a built-in name). */
export function listPresetFiles(env?: NodeJS.ProcessEnv): PresetEntry[] {
  return listNamedFiles(BUILTIN_PRESETS_DIR, userPresetsDir(env));
}

/** Finds the file for a preset name or path; throws PresetError listing the names that exist. */
export function resolvePresetFile(nameOrPath: string, env?: NodeJS.ProcessEnv): string {
  const entries = listPresetFiles(env);
  const hit = findNamedFile(nameOrPath, entries);
  if ('file' in hit) return hit.file;
  if ('missingPath' in hit) throw new PresetError(`preset file not found: ${hit.missingPath}`, hit.missingPath);
  throw new PresetError(`unknown preset "${nameOrPath}". Available: ${entries.map((e) => e.name).join(', ')}. Or give a path to a preset .json file.`);
}

/** Validates parsed JSON as a preset; the error names the file and each bad field. */
export function parsePreset(raw: unknown, file: string): Preset {
  const result = PresetSchema.safeParse(raw);
  if (!result.success) throw new PresetError(`invalid preset ${file}:\n${formatIssues(result.error)}`, file);
  return result.data;
}

export function loadPreset(nameOrPath: string, env?: NodeJS.ProcessEnv): Preset {
  const file = resolvePresetFile(nameOrPath, env);
  const json = readJson(file, 'preset');
  if (!json.ok) throw new PresetError(json.message, file);
  return parsePreset(json.value, file);
}

/** One line per issue: `  - field.path: message`, so the user sees exactly which field to fix. */
export function formatIssues(err: z.ZodError): string {
  return err.issues
    .map((i) => `  - ${i.path.length ? i.path.join('.') : '(preset)'}: ${i.message}`)
    .join('\n');
}
