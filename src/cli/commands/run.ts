// `gemma-bench run`: the main job without the interactive screen. Resolves preset + flags, the workload and the
// backend, runs the engine, presents its events (NDJSON with --json, else progress on stderr and a summary table on
// stdout) and maps the outcome to an exit code. Ctrl-C or SIGTERM stops the run; the partial run is saved as
// interrupted and the exit code is 130 (SIGINT) or 143 (SIGTERM).
import { flag, helpText, parseCommand, str, type CommandDef } from '../args.js';
import { EXIT_FAILED, EXIT_OK } from '../command.js';
import { processLiveScreen } from '../live-screen.js';
import { loadPreset } from '../../config/load-preset.js';
import { resolveRunSpec } from '../../config/resolve-run-spec.js';
import type { LogFn, Replica } from '../../engine/backend.js';
import type { RunGroup } from '../../engine/types.js';
import type { RunSpec } from '../../config/run-spec.js';
import { newGroupId } from '../../util/ids.js';
import { repeatCount, repeatOf, REPEAT_OPTION } from '../repeat.js';
import { intervalsOffThread } from '../../app/intervals-client.js';
import type { EngineEvent } from '../../engine/events.js';
import { createBackend, prepareWorkload } from '../../engine/prepare.js';
import { runBenchmark } from '../../engine/run-benchmark.js';
import { ndjsonPresenter, plainPresenter, type Presenter } from '../../report/headless.js';
import { persistRuns } from '../../store/run-sink.js';
import { uniqueRunId } from '../../store/run-store.js';
import { DEFAULT_PRESET, overridesFromFlags, RUN_OPTIONS } from '../run-flags.js';
import { processStopper } from '../run-stopper.js';
import { ensureDataDirWritable } from '../../store/data-dir.js';

export const command: CommandDef = {
  name: 'run',
  summary: 'run a benchmark: a preset\'s requests across replicas, measured, saved and summarised',
  usage: '[options]',
  details:
    'Without options it runs the balanced preset on the built-in tiny Gemma 3 model (random weights: speed only) over\n' +
    'the built-in synthetic document set, on the CPU. The run is saved under the data directory ($GEMMA_BENCH_HOME)\n' +
    'and its id printed; see `gemma-bench runs` and `gemma-bench compare`. Exit codes: 0 ok, 1 the run failed,\n' +
    '2 bad usage or configuration, 130/143 interrupted by SIGINT/SIGTERM (the partial run is saved).\n' +
    'With --repeat N the same specification runs N times on the same replicas, one saved run per repeat, grouped under\n' +
    'a repeat group id (printed); each repeat requests the images in its own shuffled order, and progress is printed as\n' +
    'lines (no dashboard). `runs show GROUP` gives min / median / max over the repeats; `compare GROUP_A GROUP_B` compares\n' +
    'two groups as two columns, counting a difference only when it also exceeds the spread of the repeats (their ranges\n' +
    'do not overlap). More repeats make that surer: by chance alone the ranges of 2 + 2 repeats separate a third of the\n' +
    'time, of 3 + 3 one time in ten, of 4 + 4 one in thirty.',
  options: { ...RUN_OPTIONS, repeat: REPEAT_OPTION },
  examples: [
    'gemma-bench run',
    'gemma-bench run --preset doc-centric --images ./docs --requests 100 --concurrency 8',
    'gemma-bench run --rate 2 --duration 60 --replicas 2 --json > events.ndjson',
    'gemma-bench run --requests 50 --repeat 3',
  ],
};

export async function run(argv: readonly string[]): Promise<number> {
  const { values } = parseCommand(command, argv);
  if (flag(values, 'help')) {
    process.stdout.write(helpText(command));
    return EXIT_OK;
  }
  const repeats = repeatCount(values);
  const preset = loadPreset(str(values, 'preset') ?? DEFAULT_PRESET);
  const overrides = overridesFromFlags(values);
  const spec = resolveRunSpec(preset, overrides);
  const json = flag(values, 'json');
  if (repeats > 1) return runRepeats(spec.seed, repeats, (group) => resolveRunSpec(preset, overrides, { group }), json);
  // Under CI (Ink would draw nothing live) or in a pipe: plain progress lines instead of the dashboard.
  const dashboard = !json && !flag(values, 'no-tui') && processLiveScreen().ok;
  const presenter: Presenter = json ? ndjsonPresenter() : plainPresenter();
  const early: EngineEvent[] = [];
  const log: LogFn = (level, message) => {
    if (json) early.push({ type: 'log', at: 0, level, message });
    else process.stderr.write(`${level === 'info' ? '' : `${level}: `}${message}\n`);
  };
  // A signal never kills the process: the run stops, is saved as interrupted, and the command returns 130/143 once
  // every worker has ended by itself (see RunStopper). main.tsx started listening before this module loaded.
  const stopper = processStopper;
  stopper.listen();
  if (dashboard) stopper.say = () => {};
  let status: string = 'failed';
  let backend: Awaited<ReturnType<typeof createBackend>> | null = null;
  try {
    await ensureDataDirWritable();
    const workload = await prepareWorkload(spec);
    backend = await createBackend(spec, log);
    for (const e of early) presenter.onEvent(e);
    // Primed: a topology the backend refuses throws here, as a configuration error, before any screen is drawn.
    const events = await primed(persistRuns(runBenchmark(spec, { backend, workload, runId: await uniqueRunId(spec.name), signal: stopper.signal, stopNow: stopper.now })));
    if (dashboard) {
      const { presentWithDashboard } = await import('../../ui/dashboard-runner.js');
      // q, Esc and Ctrl-C arrive as keys (the terminal is in raw mode): the first stops, a second stops at once.
      await presentWithDashboard(tap(events, (e) => {
        if (e.type === 'run-finished') status = e.file ? e.status : 'failed';
      }), () => stopper.stop('SIGINT'), { intervalsOf: (run) => intervalsOffThread(run) });
    } else {
      for await (const e of events) {
        presenter.onEvent(e);
        if (e.type === 'run-finished') status = e.file ? e.status : 'failed';
      }
    }
  } finally {
    // The stopper keeps listening: a signal during the last moments (threads ending) must not kill the process.
    await backend?.close?.();
  }
  if (stopper.exitCode) return stopper.exitCode;
  return status === 'completed' ? EXIT_OK : EXIT_FAILED;
}

/**
 * `run --repeat N`: the specification N times as one repeat group, each repeat in its own request order, on one set
 * of replicas (loaded once; fresh ones if one dies), with plain progress lines (or NDJSON) instead of the dashboard.
 * A signal stops the repeat in progress (saved as interrupted) and the rest.
 */
async function runRepeats(seed: number, repeats: number, specOf: (group: RunGroup) => RunSpec, json: boolean): Promise<number> {
  const groupId = newGroupId(undefined, undefined, 'repeat');
  const specs = Array.from({ length: repeats }, (_, index) => specOf({ id: groupId, kind: 'repeat', point: {}, index, total: repeats, repeat: repeatOf(index, repeats, seed) }));
  const presenter = json ? ndjsonPresenter() : plainPresenter();
  const log: LogFn = (level, message) => {
    if (!json || level !== 'info') process.stderr.write(`${level === 'info' ? '' : `${level}: `}${message}\n`);
  };
  const stopper = processStopper;
  stopper.listen();
  if (json) stopper.say = () => {};
  await ensureDataDirWritable();
  const workload = await prepareWorkload(specs[0]);
  const backend = await createBackend(specs[0], log);
  const topology = specs[0].topology;
  let replicas: Replica[] = [];
  const dead = new Set<number>();
  const saved: string[] = [];
  let anyFailed = false;
  try {
    for (let i = 0; i < repeats && !stopper.signal.aborted; i++) {
      if (replicas.length === 0 || dead.size > 0) {
        await Promise.allSettled(replicas.map((x) => x.close()));
        dead.clear();
        const count = await backend.resolveReplicas(topology.gpusPerReplica, topology.replicas);
        // A missing package, provider or GPU is a configuration error (exit 2) before anything loads.
        await backend.preflight?.({ replicas: count, gpusPerReplica: topology.gpusPerReplica });
        replicas = await backend.start({ replicas: count, gpusPerReplica: topology.gpusPerReplica, log });
        for (const x of replicas) void x.died.then(() => dead.add(x.id));
      }
      if (!json) process.stderr.write(`\nrepeat ${i + 1}/${repeats}\n`);
      const events = persistRuns(runBenchmark(specs[i], { backend, workload, replicas, runId: await uniqueRunId(specs[i].name), signal: stopper.signal, stopNow: stopper.now }));
      for await (const e of events) {
        presenter.onEvent(e);
        if (e.type === 'run-finished') {
          if (e.status !== 'completed' || !e.file) anyFailed = true;
          if (e.file && e.run) saved.push(e.run.id);
        }
      }
    }
  } finally {
    await Promise.allSettled(replicas.map((x) => x.close()));
    await backend.close?.();
  }
  if (json) process.stdout.write(`${JSON.stringify({ type: 'repeats-finished', groupId, runs: saved })}\n`);
  else if (saved.length) {
    process.stdout.write(`\nrepeat group ${groupId}: ${saved.length} of ${repeats} repeat(s) saved\n`);
    process.stdout.write(`min / median / max over the repeats: gemma-bench runs show ${groupId}\ncompare with another group or run: gemma-bench compare ${groupId} OTHER\n`);
  }
  if (stopper.exitCode) return stopper.exitCode;
  return anyFailed || saved.length < repeats ? EXIT_FAILED : EXIT_OK;
}

/** Waits for the stream's first item (so what it throws before starting is thrown here), then yields them all. */
export async function primed<T>(items: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const it = items[Symbol.asyncIterator]();
  const first = await it.next();
  return (async function* () {
    if (first.done) return;
    yield first.value;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
}

/** Passes events through, letting the caller look at each on the way. */
async function* tap(events: AsyncIterable<EngineEvent>, see: (e: EngineEvent) => void): AsyncGenerator<EngineEvent> {
  for await (const e of events) {
    see(e);
    yield e;
  }
}
