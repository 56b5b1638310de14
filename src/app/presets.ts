// Presets as the home screen uses them: every preset with its validation result (an invalid user preset is listed
// with the field to fix), and saving the screen's settings as a new user preset (validated, never over another).
import { join } from 'node:path';
import { formatIssues, listPresetFiles, loadPreset } from '../config/load-preset.js';
import { userPresetsDir } from '../config/paths.js';
import { PresetSchema } from '../config/preset-schema.js';
import { effectivePreset, resolveRunSpec } from '../config/resolve-run-spec.js';
import type { PresetInfo, RunRequest, SavePresetResult } from '../ui/app-port.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { requestOverrides } from './run-starter.js';

export const PRESET_NAME_PATTERN = /^[A-Za-z0-9._-]+$/;

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function presetInfos(env: NodeJS.ProcessEnv): PresetInfo[] {
  return listPresetFiles(env).map((e) => {
    try {
      return { name: e.name, builtin: e.builtin, file: e.file, preset: loadPreset(e.file, env), error: null };
    } catch (err) {
      return { name: e.name, builtin: e.builtin, file: e.file, preset: null, error: errText(err).replace(/\n\s*/g, ' ') };
    }
  });
}

/** The request's settings (resolved as a run would resolve them) saved as the user preset `name`. */
export async function savePresetAs(name: string, req: RunRequest, env: NodeJS.ProcessEnv): Promise<SavePresetResult> {
  const n = name.trim();
  if (!PRESET_NAME_PATTERN.test(n)) return { ok: false, message: `preset name "${n}": use letters, digits, ".", "_" and "-" only` };
  const existing = listPresetFiles(env).find((e) => e.name === n);
  if (existing?.builtin) return { ok: false, message: `"${n}" is a built-in preset: choose another name` };
  if (existing) return { ok: false, message: `a user preset "${n}" exists (${existing.file}): choose another name` };
  try {
    const base = loadPreset(req.preset, env);
    const candidate = { ...effectivePreset(resolveRunSpec(base, requestOverrides(req))), name: n, description: `Saved from the interactive app, based on ${base.name}.` };
    const parsed = PresetSchema.safeParse(candidate);
    if (!parsed.success) return { ok: false, message: `invalid preset:\n${formatIssues(parsed.error)}` };
    const file = join(userPresetsDir(env), `${n}.json`);
    await writeFileAtomic(file, `${JSON.stringify(parsed.data, null, 2)}\n`);
    return { ok: true, file };
  } catch (err) {
    return { ok: false, message: `cannot save preset ${n}: ${errText(err)}` };
  }
}
