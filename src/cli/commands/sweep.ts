// `gemma-bench sweep --grid KEY=V1,V2 ...`: one run per point of the grid (the cartesian product), like the
// original Python launcher's sweep, saved as one group, printed as one table and written as one CSV row per point.
// Replicas are loaded once and reused across points (pan-and-scan settings travel with each request); if a
// replica dies, the next point starts fresh ones.
import { join, resolve } from 'node:path';
import { flag, helpText, parseCommand, str, strs, UsageError, type CommandDef, type ParsedValues } from '../args.js';
import { EXIT_FAILED, EXIT_OK } from '../command.js';
import { loadPreset } from '../../config/load-preset.js';
import { dataDir, userRecipesDir } from '../../config/paths.js';
import { listRecipeFiles, loadRecipe, parseRecipe, type Recipe, type RecipeVocabulary } from '../../config/recipes.js';
import { resolveRunSpec } from '../../config/resolve-run-spec.js';
import type { LogFn, Replica } from '../../engine/backend.js';
import { createBackend, prepareWorkload } from '../../engine/prepare.js';
import { runBenchmark } from '../../engine/run-benchmark.js';
import type { RunFile, Workload } from '../../engine/types.js';
import { runsToCsv } from '../../report/export.js';
import { fitNote, fitTable, fmtMs, NONE, sig3, type FitColumn } from '../../report/format.js';
import { renderFrontierScatter, scatterPointsOfRuns } from '../../report/frontier-scatter.js';
import { tableWidth, WIDE_OPTION } from '../output-width.js';
import { ndjsonPresenter, plainPresenter } from '../../report/headless.js';
import { persistRuns } from '../../store/run-sink.js';
import { uniqueRunId } from '../../store/run-store.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { newGroupId } from '../../util/ids.js';
import { DEFAULT_PRESET, overridesFromFlags, RUN_OPTIONS } from '../run-flags.js';
import { repeatCount, repeatOf, REPEAT_OPTION } from '../repeat.js';
import { processStopper } from '../run-stopper.js';
import { ensureDataDirWritable } from '../../store/data-dir.js';

/** Run flags a grid may vary (each is also a plain `run` flag). */
export const GRID_KEYS = ['min-ratio', 'max-crops', 'min-crop-size', 'pan-and-scan', 'concurrency', 'rate', 'batch-size', 'batching', 'max-new-tokens'] as const;

/** Flags that belong to the sweep itself, never to a recipe's shared settings. */
const SWEEP_ONLY = new Set(['grid', 'csv', 'recipe', 'save-recipe', 'json', 'no-tui', 'help', 'preset', 'repeat']);

/** What a recipe may name: the run flags, and the grid keys. */
export const RECIPE_VOCABULARY: RecipeVocabulary = {
  settings: new Set(Object.keys(RUN_OPTIONS).filter((k) => !SWEEP_ONLY.has(k))),
  gridKeys: new Set(GRID_KEYS),
};

function recipesHelp(): string {
  const recipes = listRecipeFiles();
  const lines = recipes.map((r) => {
    try {
      const { recipe } = loadRecipe(r.file, RECIPE_VOCABULARY);
      return `  ${r.name}${r.builtin ? '' : ' (yours)'}: ${recipe.description}`;
    } catch (err) {
      return `  ${r.name}: invalid (${(err as Error).message.split('\n')[0]})`;
    }
  });
  return lines.length ? `Recipes (--recipe NAME; your own are saved with --save-recipe, or written as JSON into the data directory's recipes/):\n${lines.join('\n')}` : '';
}

export const command: CommandDef = {
  name: 'sweep',
  summary: 'run one benchmark per point of a grid of settings and compare them in one table and CSV',
  usage: '(--grid KEY=V1,V2 [--grid KEY=...]... | --recipe NAME) [run options] [--csv FILE]',
  details: [
    `Grid keys: ${GRID_KEYS.join(', ')}. Every other option is as for \`gemma-bench run\` and applies to all points; it overrides a recipe's settings.`,
    'With --repeat N every point runs N times, the whole grid once per round (so slow drift of the machine spreads over\n' +
      'every point), each repeat in its own shuffled request order. `compare GROUP_ID` then shows one column per point\n' +
      '(the median of its repeats) and counts a difference only when it also exceeds the spread of the repeats.',
    recipesHelp(),
  ]
    .filter(Boolean)
    .join('\n\n'),
  options: {
    grid: { type: 'string', multiple: true, placeholder: 'KEY=V1,V2', description: 'a grid axis (replaces a recipe axis of the same key)' },
    recipe: { type: 'string', placeholder: 'NAME|FILE', description: 'a saved sweep: its preset, shared settings, grid and extra points' },
    'save-recipe': { type: 'string', placeholder: 'NAME', description: 'save this sweep (its flags, grid and points) as your recipe NAME, then run it' },
    csv: { type: 'string', placeholder: 'FILE', description: 'where to write the CSV (default: under the data directory, printed)' },
    repeat: REPEAT_OPTION,
    wide: WIDE_OPTION,
    ...RUN_OPTIONS,
  },
  examples: [
    'gemma-bench sweep --grid min-ratio=2.0,2.5 --grid max-crops=4,6 --grid min-crop-size=448',
    'gemma-bench sweep --recipe panscan-grid --requests 8 --max-new-tokens 16',
    'gemma-bench sweep --grid concurrency=1,2,4 --requests 20 --csv sweep.csv',
    'gemma-bench sweep --grid max-crops=4,6 --requests 30 --repeat 3',
  ],
};

export interface GridAxis {
  readonly key: (typeof GRID_KEYS)[number];
  readonly values: readonly string[];
}

export function parseGrid(specs: readonly string[]): GridAxis[] {
  const axes: GridAxis[] = [];
  for (const spec of specs) {
    const m = /^([a-z-]+)=(.+)$/.exec(spec.trim());
    if (!m) throw new UsageError(`--grid ${spec}: expected KEY=V1,V2,... (e.g. max-crops=4,6)`);
    const key = m[1] as GridAxis['key'];
    if (!(GRID_KEYS as readonly string[]).includes(key)) throw new UsageError(`--grid ${spec}: unknown key "${m[1]}"; grid keys are ${GRID_KEYS.join(', ')}`);
    if (axes.some((a) => a.key === key)) throw new UsageError(`--grid ${key} is given twice; list all its values in one --grid`);
    const values = m[2].split(',').map((v) => v.trim()).filter((v) => v.length > 0);
    if (values.length === 0) throw new UsageError(`--grid ${spec}: no values`);
    axes.push({ key, values });
  }
  return axes;
}

/** The cartesian product, first axis varying slowest. */
export function gridPoints(axes: readonly GridAxis[]): Record<string, string>[] {
  let points: Record<string, string>[] = [{}];
  for (const a of axes) points = points.flatMap((p) => a.values.map((v) => ({ ...p, [a.key]: v })));
  return points;
}

export async function run(argv: readonly string[]): Promise<number> {
  const { values } = parseCommand(command, argv);
  if (flag(values, 'help')) {
    process.stdout.write(helpText(command));
    return EXIT_OK;
  }
  const plan = sweepPlan(values);
  const { points } = plan;
  for (const k of plan.keys) if (values[k] !== undefined) throw new UsageError(`--${k} is both a flag and a grid axis; drop one`);
  if (str(values, 'save-recipe') !== undefined) process.stderr.write(`recipe saved to ${await saveRecipe(str(values, 'save-recipe')!, values, plan)}\n`);
  const preset = loadPreset(str(values, 'preset') ?? plan.recipe?.preset ?? DEFAULT_PRESET);
  const groupId = newGroupId();
  const name = str(values, 'name') ?? preset.name;
  const repeats = repeatCount(values);
  // Validate every point before running any, so a typo in the last value does not waste the first runs. With
  // --repeat, round r runs every point once (repeat r of each), in grid order.
  const overridesOf = (p: Record<string, string>) => ({ ...overridesFromFlags({ ...plan.settings, ...values, ...p }), name: `${name}-${Object.values(p).join('-')}` });
  const seeds = points.map((p) => resolveRunSpec(preset, overridesOf(p)).seed);
  const specs = Array.from({ length: repeats }, (_, r) =>
    points.map((p, index) =>
      resolveRunSpec(preset, overridesOf(p), {
        group: { id: groupId, kind: 'sweep', point: numericPoint(p), index, total: points.length, ...(repeats > 1 ? { repeat: repeatOf(r, repeats, seeds[index]) } : {}) },
      }),
    ),
  ).flat();
  const json = flag(values, 'json');
  const presenter = json ? ndjsonPresenter() : plainPresenter();
  const log: LogFn = (level, message) => {
    if (!json || level !== 'info') process.stderr.write(`${level === 'info' ? '' : `${level}: `}${message}\n`);
  };
  const csvPath = resolve(str(values, 'csv') ?? join(dataDir(), 'sweeps', `${groupId}.csv`));
  // Signals stop the point in progress (saved as interrupted) and the sweep, never the process (RunStopper).
  const stopper = processStopper;
  stopper.listen();
  if (json) stopper.say = () => {};
  await ensureDataDirWritable();
  // Every point's workload (headers read, crops planned) before any model loads: images that cannot be used at all
  // are refused here (exit 2), not after the first replicas have started.
  const workloads: Workload[] = [];
  for (const spec of specs.slice(0, points.length)) workloads.push(await prepareWorkload(spec));
  const backend = await createBackend(specs[0], log);

  let replicas: Replica[] = [];
  const dead = new Set<number>();
  const runs: RunFile[] = [];
  let anyFailed = false;
  try {
    for (let i = 0; i < specs.length && !stopper.signal.aborted; i++) {
      const spec = specs[i];
      const count = await backend.resolveReplicas(spec.topology.gpusPerReplica, spec.topology.replicas);
      if (replicas.length !== count || dead.size > 0) {
        await Promise.allSettled(replicas.map((x) => x.close()));
        dead.clear();
        // A missing package, provider or GPU is a configuration error (exit 2) before anything loads.
        await backend.preflight?.({ replicas: count, gpusPerReplica: spec.topology.gpusPerReplica });
        replicas = await backend.start({ replicas: count, gpusPerReplica: spec.topology.gpusPerReplica, log });
        for (const x of replicas) void x.died.then(() => dead.add(x.id));
      }
      const at = i % points.length;
      const round = repeats > 1 ? `, repeat ${Math.floor(i / points.length) + 1}/${repeats}` : '';
      if (!json) process.stderr.write(`\npoint ${at + 1}/${points.length}${round}: ${Object.entries(points[at]).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
      const workload = workloads[at];
      const events = persistRuns(runBenchmark(spec, { backend, workload, replicas, runId: await uniqueRunId(spec.name), signal: stopper.signal, stopNow: stopper.now }));
      for await (const e of events) {
        presenter.onEvent(e);
        if (e.type === 'run-finished') {
          if (e.status !== 'completed') anyFailed = true;
          if (e.file && e.run) runs.push(e.run);
        }
      }
    }
  } finally {
    // The stopper keeps listening: a signal during the last moments (threads ending) must not kill the process.
    await Promise.allSettled(replicas.map((x) => x.close()));
    await backend.close?.();
  }
  if (runs.length > 0) await writeFileAtomic(csvPath, runsToCsv(runs));
  if (json) process.stdout.write(`${JSON.stringify({ type: 'sweep-finished', groupId, runs: runs.map((x) => x.id), csv: runs.length ? csvPath : null })}\n`);
  else {
    process.stdout.write(`\nsweep ${groupId}: ${runs.length} of ${specs.length} ${repeats > 1 ? `run(s) saved (${points.length} point(s) × ${repeats} repeats)` : 'point(s) saved'}\n`);
    process.stdout.write(`${sweepTable(plan.keys, runs, tableWidth(flag(values, 'wide')))}\n`);
    if (runs.length) process.stdout.write(`\n${renderFrontierScatter(scatterPointsOfRuns(runs), { width: Math.min(process.stdout.columns || 80, 100) }).join('\n')}\n\n`);
    if (runs.length) {
      const how = repeats > 1 ? 'one column per point, its repeats together' : '--format html: the report with charts';
      process.stdout.write(`CSV written to ${csvPath}\ncompare them: gemma-bench compare ${groupId} (${how})\n`);
    }
  }
  if (stopper.exitCode) return stopper.exitCode;
  return anyFailed || runs.length < specs.length ? EXIT_FAILED : EXIT_OK;
}

export interface SweepPlan {
  readonly recipe: Recipe | null;
  /** The recipe's shared settings as raw flag values (the command line overrides them). */
  readonly settings: ParsedValues;
  readonly axes: readonly GridAxis[];
  /** Every key a point sets, grid axes first: the sweep table's and CSV's knob columns. */
  readonly keys: readonly string[];
  readonly points: readonly Record<string, string>[];
}

/** The points to run: a recipe's grid (axes the command line names replace its own) and extra points, or the --grid flags. */
export function sweepPlan(values: ParsedValues): SweepPlan {
  const name = str(values, 'recipe');
  const recipe = name === undefined ? null : loadRecipe(name, RECIPE_VOCABULARY).recipe;
  const given = parseGrid(strs(values, 'grid'));
  const fromRecipe: GridAxis[] = recipe ? Object.entries(recipe.grid).map(([key, vs]) => ({ key: key as GridAxis['key'], values: vs.map(String) })) : [];
  const axes = [...fromRecipe.filter((a) => !given.some((g) => g.key === a.key)), ...given];
  const extra = (recipe?.points ?? []).map((p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)])));
  if (axes.length === 0 && extra.length === 0) throw new UsageError('give at least one --grid KEY=V1,V2 (e.g. --grid max-crops=4,6), or --recipe NAME (see `gemma-bench sweep --help`)');
  const points = [...(axes.length ? gridPoints(axes) : []), ...extra];
  const keys = [...new Set(points.flatMap((p) => Object.keys(p)))];
  const settings: ParsedValues = {};
  for (const [k, v] of Object.entries(recipe?.settings ?? {})) {
    if (keys.includes(k)) throw new UsageError(`recipe ${recipe!.name}: ${k} is both a shared setting and a grid key`);
    if (v === false) continue;
    settings[k] = v === true ? true : String(v);
  }
  return { recipe, settings, axes, keys, points };
}

/** Writes the sweep as the user's recipe `name`: the flags given (over the recipe's), its grid and extra points. */
async function saveRecipe(name: string, values: ParsedValues, plan: SweepPlan): Promise<string> {
  const existing = listRecipeFiles().find((r) => r.name === name);
  if (existing) throw new UsageError(`--save-recipe ${name}: a ${existing.builtin ? 'built-in' : 'user'} recipe of that name exists (${existing.file}); choose another name`);
  const settings: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries({ ...plan.settings, ...values })) {
    if (SWEEP_ONLY.has(k) || v === undefined || Array.isArray(v)) continue;
    settings[k] = typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  const recipe = {
    name,
    description: `Saved by gemma-bench sweep${plan.recipe ? ` from ${plan.recipe.name}` : ''}.`,
    ...(str(values, 'preset') ?? plan.recipe?.preset ? { preset: str(values, 'preset') ?? plan.recipe!.preset } : {}),
    settings,
    grid: Object.fromEntries(plan.axes.map((a) => [a.key, a.values.map((v) => (Number.isFinite(Number(v)) ? Number(v) : v))])),
    points: plan.recipe?.points ?? [],
  };
  const checked = parseRecipe(recipe, `--save-recipe ${name}`, RECIPE_VOCABULARY);
  const file = join(userRecipesDir(), `${name}.json`);
  await writeFileAtomic(file, `${JSON.stringify(checked, null, 2)}\n`);
  return file;
}

function numericPoint(p: Record<string, string>): Record<string, number | string> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Number.isFinite(Number(v)) ? Number(v) : v]));
}

/** A rate in a column whose header carries the unit. */
const rate = (v: number | null) => (v === null ? NONE : sig3(v, 2));

/** The sweep's table, one numbered row per saved point (the scatter under it names points by these numbers), fitted to
 * `width` characters (the numbers and grid values never give way; the run ids first). */
export function sweepTable(keys: readonly string[], runs: readonly RunFile[], width = Number.POSITIVE_INFINITY): string {
  const columns: FitColumn[] = [
    { header: '#', priority: Number.POSITIVE_INFINITY },
    ...keys.map((k): FitColumn => ({ header: k, priority: Number.POSITIVE_INFINITY })),
    { header: 'completed', priority: 5 },
    { header: 'failed', priority: 6 },
    { header: 'e2e p50', priority: 9 },
    { header: 'e2e p95', priority: 4 },
    { header: 'ttft p50', priority: 3 },
    { header: 'req/s', priority: 8 },
    { header: 'tok/s mean', priority: 2 },
    { header: 'run', align: 'left', priority: 1 },
  ];
  const rows = runs.map((r, i) => {
    const s = r.summary;
    return [String(i + 1), ...keys.map((k) => String(r.group?.point[k] ?? '')), s.completed, s.failed, fmtMs(s.metrics.e2eMs.p50), fmtMs(s.metrics.e2eMs.p95), fmtMs(s.metrics.ttftMs.p50), rate(s.throughputReqS), rate(s.tokensPerSMean), r.id];
  });
  const t = fitTable(columns, rows, width);
  const note = fitNote(t, width);
  return note ? `${t.text}\n${note}` : t.text;
}
