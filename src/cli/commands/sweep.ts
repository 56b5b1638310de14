// `gemma-bench sweep --grid KEY=V1,V2 ...`: one run per point of the grid (the cartesian product), like the
// original Python launcher's sweep, saved as one group, printed as one table and written as one CSV row per point.
// Replicas are loaded once and reused across points (pan-and-scan settings travel with each request); if a
// replica dies, the next point starts fresh ones.
import { join, resolve } from 'node:path';
import { flag, helpText, parseCommand, str, strs, UsageError, type CommandDef } from '../args.js';
import { EXIT_FAILED, EXIT_OK } from '../command.js';
import { loadPreset } from '../../config/load-preset.js';
import { dataDir } from '../../config/paths.js';
import { resolveRunSpec } from '../../config/resolve-run-spec.js';
import type { LogFn, Replica } from '../../engine/backend.js';
import { createBackend, prepareWorkload } from '../../engine/prepare.js';
import { runBenchmark } from '../../engine/run-benchmark.js';
import type { RunFile, Workload } from '../../engine/types.js';
import { runsToCsv } from '../../report/export.js';
import { fitNote, fitTable, fmtMs, NONE, sig3, type FitColumn } from '../../report/format.js';
import { tableWidth, WIDE_OPTION } from '../output-width.js';
import { ndjsonPresenter, plainPresenter } from '../../report/headless.js';
import { persistRuns } from '../../store/run-sink.js';
import { uniqueRunId } from '../../store/run-store.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { newGroupId } from '../../util/ids.js';
import { DEFAULT_PRESET, overridesFromFlags, RUN_OPTIONS } from '../run-flags.js';
import { processStopper } from '../run-stopper.js';
import { ensureDataDirWritable } from '../../store/data-dir.js';

/** Run flags a grid may vary (each is also a plain `run` flag). */
export const GRID_KEYS = ['min-ratio', 'max-crops', 'min-crop-size', 'concurrency', 'rate', 'batch-size', 'batching', 'max-new-tokens'] as const;

export const command: CommandDef = {
  name: 'sweep',
  summary: 'run one benchmark per point of a grid of settings and compare them in one table and CSV',
  usage: '--grid KEY=V1,V2 [--grid KEY=...]... [run options] [--csv FILE]',
  details: `Grid keys: ${GRID_KEYS.join(', ')}. Every other option is as for \`gemma-bench run\` and applies to all points.`,
  options: {
    grid: { type: 'string', multiple: true, placeholder: 'KEY=V1,V2', description: 'a grid axis' },
    csv: { type: 'string', placeholder: 'FILE', description: 'where to write the CSV (default: under the data directory, printed)' },
    wide: WIDE_OPTION,
    ...RUN_OPTIONS,
  },
  examples: ['gemma-bench sweep --grid min-ratio=2.0,2.5 --grid max-crops=4,6 --grid min-crop-size=448', 'gemma-bench sweep --grid concurrency=1,2,4 --requests 20 --csv sweep.csv'],
};

export interface GridAxis {
  readonly key: (typeof GRID_KEYS)[number];
  readonly values: readonly string[];
}

export function parseGrid(specs: readonly string[]): GridAxis[] {
  if (specs.length === 0) throw new UsageError('give at least one --grid KEY=V1,V2 (e.g. --grid max-crops=4,6)');
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
  const axes = parseGrid(strs(values, 'grid'));
  for (const a of axes) if (values[a.key] !== undefined) throw new UsageError(`--${a.key} is both a flag and a grid axis; drop one`);
  const points = gridPoints(axes);
  const preset = loadPreset(str(values, 'preset') ?? DEFAULT_PRESET);
  const groupId = newGroupId();
  const name = str(values, 'name') ?? preset.name;
  // Validate every point before running any, so a typo in the last value does not waste the first runs.
  const specs = points.map((p, index) =>
    resolveRunSpec(
      preset,
      { ...overridesFromFlags({ ...values, ...p }), name: `${name}-${Object.values(p).join('-')}` },
      { group: { id: groupId, kind: 'sweep', point: numericPoint(p), index, total: points.length } },
    ),
  );
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
  for (const spec of specs) workloads.push(await prepareWorkload(spec));
  const backend = await createBackend(specs[0], log);

  let replicas: Replica[] = [];
  const dead = new Set<number>();
  const runs: RunFile[] = [];
  let anyFailed = false;
  try {
    for (let i = 0; i < points.length && !stopper.signal.aborted; i++) {
      const spec = specs[i];
      const count = await backend.resolveReplicas(spec.topology.gpusPerReplica, spec.topology.replicas);
      if (replicas.length !== count || dead.size > 0) {
        await Promise.allSettled(replicas.map((x) => x.close()));
        dead.clear();
        replicas = await backend.start({ replicas: count, gpusPerReplica: spec.topology.gpusPerReplica, log });
        for (const x of replicas) void x.died.then(() => dead.add(x.id));
      }
      if (!json) process.stderr.write(`\npoint ${i + 1}/${points.length}: ${Object.entries(points[i]).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
      const workload = workloads[i];
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
    process.stdout.write(`\nsweep ${groupId}: ${runs.length} of ${points.length} point(s) saved\n`);
    process.stdout.write(`${sweepTable(axes, runs, tableWidth(flag(values, 'wide')))}\n`);
    if (runs.length) process.stdout.write(`CSV written to ${csvPath}\ncompare them: gemma-bench compare ${groupId}\n`);
  }
  if (stopper.exitCode) return stopper.exitCode;
  return anyFailed || runs.length < points.length ? EXIT_FAILED : EXIT_OK;
}

function numericPoint(p: Record<string, string>): Record<string, number | string> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Number.isFinite(Number(v)) ? Number(v) : v]));
}

/** A rate in a column whose header carries the unit. */
const rate = (v: number | null) => (v === null ? NONE : sig3(v, 2));

/** The sweep's table, fitted to `width` characters (the grid values never give way; the run ids first). */
export function sweepTable(axes: readonly GridAxis[], runs: readonly RunFile[], width = Number.POSITIVE_INFINITY): string {
  const columns: FitColumn[] = [
    ...axes.map((a): FitColumn => ({ header: a.key, priority: Number.POSITIVE_INFINITY })),
    { header: 'completed', priority: 5 },
    { header: 'failed', priority: 6 },
    { header: 'e2e p50', priority: 9 },
    { header: 'e2e p95', priority: 4 },
    { header: 'ttft p50', priority: 3 },
    { header: 'req/s', priority: 8 },
    { header: 'tok/s mean', priority: 2 },
    { header: 'run', align: 'left', priority: 1 },
  ];
  const rows = runs.map((r) => {
    const s = r.summary;
    return [...axes.map((a) => String(r.group?.point[a.key] ?? '')), s.completed, s.failed, fmtMs(s.metrics.e2eMs.p50), fmtMs(s.metrics.e2eMs.p95), fmtMs(s.metrics.ttftMs.p50), rate(s.throughputReqS), rate(s.tokensPerSMean), r.id];
  });
  const t = fitTable(columns, rows, width);
  const note = fitNote(t, width);
  return note ? `${t.text}\n${note}` : t.text;
}
