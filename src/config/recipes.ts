// Sweep recipes: a sweep kept as data, like a preset. A recipe names a base preset, the settings every point shares
// (as run flags and their values), grid axes (the cartesian product is swept) and extra points (e.g. the baseline
// with pan-and-scan off). Built-in recipes live in recipes/ beside presets/, the user's own under the data
// directory. Validated by zod: unknown keys and unknown flags are errors naming the file and the field.
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { formatIssues } from './load-preset.js';
import { findNamedFile, listNamedFiles, readJson, type NamedFile } from './named-files.js';
import { BUILTIN_RECIPES_DIR, userRecipesDir } from './paths.js';

const Value = z.union([z.string().min(1), z.number().finite()]);

export const RecipeSchema = z
  .strictObject({
    name: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, ".", "_" and "-" only'),
    description: z.string().default(''),
    /** The preset the points start from (default: the sweep's --preset, else balanced). */
    preset: z.string().min(1).optional(),
    /** Run flags (without dashes) and their values, shared by every point; the command line overrides them. */
    settings: z.record(z.string(), z.union([Value, z.boolean()])).default({}),
    /** Grid axes: a grid key and its values. */
    grid: z.record(z.string(), z.array(Value).min(1)).default({}),
    /** Points run after the grid's, each a few flag values (e.g. {"pan-and-scan": "off"} for a baseline). */
    points: z.array(z.record(z.string(), Value)).default([]),
  })
  .refine((r) => Object.keys(r.grid).length > 0 || r.points.length > 0, { message: 'a recipe needs a grid or points' });

export type Recipe = z.infer<typeof RecipeSchema>;

export interface RecipeVocabulary {
  /** Flags a recipe's settings may set. */
  readonly settings: ReadonlySet<string>;
  /** Keys a grid axis or an extra point may vary. */
  readonly gridKeys: ReadonlySet<string>;
}

export function listRecipeFiles(env?: NodeJS.ProcessEnv): NamedFile[] {
  return listNamedFiles(BUILTIN_RECIPES_DIR, userRecipesDir(env));
}

/** Checks a parsed recipe; every problem names the file and the field. */
export function parseRecipe(raw: unknown, file: string, vocab: RecipeVocabulary): Recipe {
  const r = RecipeSchema.safeParse(raw);
  if (!r.success) throw new ConfigError(`invalid recipe ${file}:\n${formatIssues(r.error)}`);
  const problems: string[] = [];
  for (const k of Object.keys(r.data.settings)) if (!vocab.settings.has(k)) problems.push(`  - settings.${k}: not a run flag`);
  for (const k of Object.keys(r.data.grid)) if (!vocab.gridKeys.has(k)) problems.push(`  - grid.${k}: not a grid key (${[...vocab.gridKeys].join(', ')})`);
  r.data.points.forEach((p, i) => {
    for (const k of Object.keys(p)) if (!vocab.gridKeys.has(k)) problems.push(`  - points.${i}.${k}: not a grid key (${[...vocab.gridKeys].join(', ')})`);
  });
  if (problems.length) throw new ConfigError(`invalid recipe ${file}:\n${problems.join('\n')}`);
  return r.data;
}

export function loadRecipe(nameOrPath: string, vocab: RecipeVocabulary, env?: NodeJS.ProcessEnv): { recipe: Recipe; file: string } {
  const entries = listRecipeFiles(env);
  const hit = findNamedFile(nameOrPath, entries);
  if ('missingPath' in hit) throw new ConfigError(`recipe file not found: ${hit.missingPath}`);
  if ('unknown' in hit) throw new ConfigError(`unknown recipe "${nameOrPath}". Available: ${entries.map((e) => e.name).join(', ') || 'none'}. Or give a path to a recipe .json file.`);
  const json = readJson(hit.file, 'recipe');
  if (!json.ok) throw new ConfigError(json.message);
  return { recipe: parseRecipe(json.value, hit.file, vocab), file: hit.file };
}
