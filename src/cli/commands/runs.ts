// `gemma-bench runs list | show | export | rm`: browse, report, export and delete saved runs (DESIGN.md §7).
// Rendering is pure (renderRunList / renderRunText); the subcommands only resolve ids, read and write.
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { flag, helpText, oneOf, parseCommand, str, UsageError, type CommandDef, type ParsedValues } from '../args.js';
import { EXIT_OK } from '../command.js';
import { runsDir } from '../../config/paths.js';
import { LATENCY_METRICS, type RunFile } from '../../engine/types.js';
import { cropsMean, METRIC_LABELS, modelLabel, pointLabel, runDurationS } from '../../report/describe.js';
import { runExportJson, runsExportJson, runsToCsv, runToJson, runToMarkdown } from '../../report/export.js';
import { intervalTable, notesWithSteady, rateIntervalsText, runIntervals, type RunIntervals } from '../../report/intervals.js';
import { renderRepeatGroupText } from '../../report/repeat-summary.js';
import { runsToHtml } from '../../report/html/index.js';
import { writeHtmlReport } from '../html-out.js';
import { describeSlo, goodput, parseGoodputSpec, type GoodputSlo } from '../../report/goodput.js';
import { listRuns, removeRun, resolveRunOrGroup, resolveTarget, StoreError, type RunListEntry } from '../../store/run-store.js';
import { fitNote, fitTable, fmtCount, fmtDuration, fmtMs, fmtRate, padTable, sig3, type FitColumn } from '../../report/format.js';
import { tableWidth, WIDE_OPTION } from '../output-width.js';
import { loadText, localTime, panScanText, PEAK_MEMORY_EXPLAINED, peakMemoryLines } from '../../report/phrases.js';
import { rooflineDetails } from '../../report/roofline.js';

const JSON_SHAPES = `JSON output (--json), stable:
  runs list --json   {"runsDir": string, "runs": [entry...]}, newest first; an entry is either
                     {"ok": true, "id", "file", "name", "status", "startedAt", "presetName", "backend",
                      "modelLabel", "group": {"id","kind","point","index","total"} | null,
                      "headline": {"completed", "failed", "throughputReqS", "e2eP50Ms", "e2eP95Ms",
                                   "ttftP50Ms", "outputTokensPerS"}}   (numbers may be null)
                     or {"ok": false, "file", "error"} for a file that cannot be read as a run.
  runs show ID --json   the run file exactly as saved (schemaVersion 1; see src/engine/types.ts RunFile).`;

const ID_HELP = `ID is a run id, a unique prefix of one, "latest" (the newest run), "latest~1" (the one before it, and so on), or, where noted, a sweep group id.`;

export const command: CommandDef = {
  name: 'runs',
  summary: 'list, show, export and delete saved runs',
  usage: '<list|show|export|rm> [ID...] [options]',
  options: {},
  details: [
    'Subcommands:',
    '  list [--json]                                   saved runs, newest first (the default)',
    '  show ID [--json]                                one run: settings, latency table with 95% intervals, per replica,',
    '                                                  notes; a repeat group: min / median / max across its repeats',
    '  export ID... [--format json|csv|md|html] [--out FILE] a run, several, or a sweep group (CSV: one row per run)',
    '  rm ID... [--yes]                                delete runs (asks first on a terminal)',
    '',
    ID_HELP,
    `Runs live in ${runsDir()} (set GEMMA_BENCH_HOME to use another data directory).`,
    `Run \`gemma-bench runs <subcommand> --help\` for its options.`,
    '',
    JSON_SHAPES,
  ].join('\n'),
  examples: ['gemma-bench runs', 'gemma-bench runs show latest', 'gemma-bench runs export latest --format md --out report.md', 'gemma-bench runs export latest --format html', 'gemma-bench runs rm latest --yes'],
};

const listDef: CommandDef = {
  name: 'runs list',
  summary: 'list saved runs, newest first; unreadable files are listed by name with the reason',
  usage: '[--json] [--wide]',
  options: { json: { type: 'boolean', description: 'print JSON (shape below) instead of a table' }, wide: WIDE_OPTION },
  details: JSON_SHAPES,
};

const showDef: CommandDef = {
  name: 'runs show',
  summary: 'show one saved run (with the 95% intervals of its statistics), or a repeat group (min / median / max)',
  usage: 'ID [--goodput SLOS] [--json]',
  options: {
    goodput: { type: 'string', placeholder: 'SLOS', description: 'also report goodput under these SLOs, e.g. ttft:500,tpot:50,e2e:3000 (ms; not with --json)' },
    json: { type: 'boolean', description: 'print the run file as saved (JSON)' },
  },
  details: [
    ID_HELP,
    'Every latency percentile and mean, and the rates, get a 95% interval from the run\'s own requests (a percentile',
    'bootstrap seeded by the run id, 1000 resamples: the same numbers every time). A run whose E2E latency drifts',
    '(the medians of its first and last thirds apart) gets the note "not steady: more warmup or a longer run".',
    'A repeat group id (`run --repeat N`) shows min / median / max of the headline numbers across its repeats.',
  ].join('\n'),
};

const EXPORT_FORMATS = ['json', 'csv', 'md', 'html'] as const;
type ExportFormat = (typeof EXPORT_FORMATS)[number];

const exportDef: CommandDef = {
  name: 'runs export',
  summary: 'export runs as JSON, CSV, Markdown or an HTML report',
  usage: 'ID... [--format json|csv|md|html] [--out FILE]',
  options: {
    format: { type: 'string', short: 'f', placeholder: 'json|csv|md|html', description: 'output format (default: from --out\'s extension, else csv for a sweep, json otherwise)' },
    out: { type: 'string', short: 'o', placeholder: 'FILE', description: 'write to FILE instead of stdout (html: instead of the data directory\'s exports/)' },
  },
  details: [
    ID_HELP + ' A group id stands for all runs of that sweep.',
    'json: one run file as saved plus "intervals" (the 95% intervals, computed on export: shape in src/report/intervals.ts',
    '  RunIntervals), or an array of them for several runs or a sweep (--format json).',
    'csv: a header and one row per run (sweep point); the first 23 columns are run_id, name, status, preset, backend,',
    '  model, min_ratio, max_crops, min_crop_size, pan_and_scan, requests_completed, requests_failed, latency_p50_ms,',
    '  latency_p90_ms, latency_p95_ms, latency_p99_ms (latency = end-to-end), ttft_p50_ms, ttft_p95_ms, tpot_p50_ms,',
    '  itl_p50_ms, throughput_req_s, output_tokens_per_s, tokens_per_s_mean; more follow, new ones only appended (among',
    '  them the 95% intervals: <metric>_<stat>_ci95_lo_ms / _hi_ms, throughput_req_s_ci95_lo / _hi, ...).',
    'md: a readable report per run, with its 95% intervals.',
    'html: one self-contained page with charts, opened from disk with the network off: a run\'s report for one run,',
    '  a sweep\'s report (with its latency-throughput Pareto frontier) for a group id, a comparison for several runs.',
    '  Written to --out or to exports/ under the data directory; the path is printed.',
  ].join('\n'),
};

const rmDef: CommandDef = {
  name: 'runs rm',
  summary: 'delete saved runs',
  usage: 'ID... [--yes]',
  options: { yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation (required when stdin is not a terminal)' } },
  details: ID_HELP + ' A group id deletes every run of that sweep. Unreadable run files can be deleted too.',
};

// ---------------------------------------------------------------------------------------------------- shared

/** Maps store lookups to exit codes: an id that names nothing is a usage error (2); unreadable files fail (1). */
export async function fromStore<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreError && (err.kind === 'not-found' || err.kind === 'ambiguous')) throw new UsageError(err.message);
    throw err;
  }
}

/** Writes to stdout and waits for it to flush; a closed pipe (`| head`) is not an error. */
/** The SLOs of a `--goodput` flag (runs show, compare), parsed before any run is read; undefined without it. */
export function goodputFlag(values: ParsedValues): GoodputSlo | undefined {
  const spec = str(values, 'goodput');
  return spec !== undefined ? parseGoodputSpec(spec) : undefined;
}

export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(text, (err) => {
      if (err && (err as NodeJS.ErrnoException).code !== 'EPIPE') reject(err);
      else resolve();
    });
  });
}


// ---------------------------------------------------------------------------------------------------- rendering

/** The `runs list` columns: what gives way first on a narrow terminal (lowest priority) and what never does (the id). */
const RUN_LIST_COLUMNS: readonly FitColumn[] = [
  { header: 'ID', align: 'left', priority: Number.POSITIVE_INFINITY },
  { header: 'NAME', align: 'left', priority: 7, minWidth: 10 },
  { header: 'STATUS', align: 'left', priority: 10 },
  { header: 'STARTED', align: 'left', priority: 6 },
  { header: 'PRESET', align: 'left', priority: 2 },
  { header: 'BACKEND', align: 'left', priority: 5 },
  { header: 'MODEL', align: 'left', priority: 1, minWidth: 12 },
  { header: 'OK/FAIL', align: 'right', priority: 4 },
  { header: 'THROUGHPUT', align: 'right', priority: 8 },
  { header: 'E2E P50', align: 'right', priority: 9 },
  { header: 'E2E P95', align: 'right', priority: 3 },
  { header: 'TTFT P50', align: 'right', priority: 2.5 },
  { header: 'OUTPUT', align: 'right', priority: 1.5 },
  { header: 'SWEEP', align: 'left', priority: 0, minWidth: 16 },
];

/** The `runs list` table (fitted to `width` characters: columns give way, the note says which), then one line per unreadable file. */
export function renderRunList(entries: readonly RunListEntry[], dir: string, width = Number.POSITIVE_INFINITY): string {
  if (entries.length === 0) return `No saved runs in ${dir} yet.\n`;
  const ok = entries.filter((e) => e.ok);
  const lines: string[] = [];
  if (ok.length) {
    const rows = ok.map((e) => [
      e.id,
      e.name,
      e.status,
      localTime(e.startedAt),
      e.presetName,
      e.backend,
      e.modelLabel,
      `${e.headline.completed}/${e.headline.failed}`,
      fmtRate(e.headline.throughputReqS, 'req/s'),
      fmtMs(e.headline.e2eP50Ms),
      fmtMs(e.headline.e2eP95Ms),
      fmtMs(e.headline.ttftP50Ms),
      fmtRate(e.headline.outputTokensPerS, 'tok/s'),
      e.group ? `${e.group.id} [${groupPlace(e.group)}]` : '',
    ]);
    const t = fitTable(RUN_LIST_COLUMNS, rows, width);
    lines.push(t.text);
    const note = fitNote(t, width);
    if (note) lines.push(note);
  }
  const bad = entries.filter((e): e is Extract<RunListEntry, { ok: false }> => !e.ok);
  if (bad.length) {
    if (ok.length) lines.push('');
    for (const b of bad) lines.push(`unreadable: ${b.file}: ${b.error}`);
    lines.push(`(${bad.length} unreadable file${bad.length === 1 ? '' : 's'}; \`gemma-bench runs rm ID\` deletes one)`);
  }
  return lines.join('\n') + '\n';
}

/** Where a run sits in its group: its grid point (and repeat), or which repeat. */
function groupPlace(g: NonNullable<RunFile['group']>): string {
  if (g.kind === 'repeat') return `repeat ${g.index + 1}/${g.total}`;
  return `${pointLabel(g.point)}${g.repeat ? `, repeat ${g.repeat.index + 1}/${g.repeat.total}` : ''}`;
}

function goodputLine(run: RunFile, slo: GoodputSlo): string {
  const g = goodput(run, slo);
  return `Goodput:   ${fmtRate(g.goodputReqS, 'req/s')} within ${describeSlo(slo)}: ${g.good} of ${g.finished} finished measured requests${g.goodPct === null ? '' : ` (${sig3(g.goodPct, 1)}%)`}`;
}

/** The `runs show` text report; `iv` defaults to the run's intervals, computed here (runIntervals). */
export function renderRunText(run: RunFile, slo?: GoodputSlo, iv: RunIntervals = runIntervals(run)): string {
  const s = run.summary;
  const st = run.settings;
  const dur = runDurationS(run);
  const out: string[] = [];
  out.push(`Run ${run.id}: ${run.name} (${run.status})`);
  if (run.group?.kind === 'repeat') out.push(`Repeat ${run.group.index + 1}/${run.group.total} of group ${run.group.id}`);
  else if (run.group) out.push(`Sweep: ${run.group.id}, point ${run.group.index + 1}/${run.group.total}: ${pointLabel(run.group.point)}${run.group.repeat ? `, repeat ${run.group.repeat.index + 1}/${run.group.repeat.total}` : ''}`);
  out.push(
    `Model:     ${modelLabel(run)}`,
    `Backend:   ${run.backend.name}; ${run.backend.replicas.map((r) => `replica ${r.replica}: ${r.devices.join(',') || '-'}`).join('; ') || 'no replicas'}`,
    `Started:   ${localTime(run.startedAt)}, took ${fmtDuration(dur)}`,
    `Preset:    ${run.preset.name}; pan-and-scan ${panScanText(run.preset.panScan, 'long')}`,
    `Load:      ${loadText(st, 'long')}, batch ${st.batchSize} (${st.batching}), max ${st.maxNewTokens} new tokens`,
    `Workload:  ${run.workload.source}, ${run.workload.images.length} images x ${run.workload.prompts.length} prompts`,
    `Requests:  ${s.completed} completed, ${s.failed} failed, ${s.cancelled} cancelled, ${s.warmup} warmup (excluded)`,
    `Rates:     ${fmtRate(s.throughputReqS, 'req/s')}, ${fmtRate(s.outputTokensPerS, 'output tok/s')}, ${fmtRate(s.tokensPerSMean, 'tok/s per request (mean)')} over ${fmtDuration(s.measuredWallS)} measured`,
    `           95% intervals: ${rateIntervalsText(iv)}`,
    ...(slo ? [goodputLine(run, slo)] : []),
    ...rooflineDetails(s.roofline).map((l, i) => (i === 0 ? `Roofline:  ${l}` : `           ${l}`)),
    `Crops:     ${Object.entries(s.cropsHistogram).map(([k, n]) => `${k}: ${n}`).join(', ') || '-'} (mean ${cropsMean(s) === null ? '-' : sig3(cropsMean(s)!, 2)})`,
    '',
  );
  const header = ['METRIC', 'COUNT', 'P50', 'P90', 'P95', 'P99', 'MEAN', 'MIN', 'MAX'];
  const rows = LATENCY_METRICS.map((m) => {
    const x = s.metrics[m];
    return [METRIC_LABELS[m], fmtCount(x.count), fmtMs(x.p50), fmtMs(x.p90), fmtMs(x.p95), fmtMs(x.p99), fmtMs(x.mean), fmtMs(x.min), fmtMs(x.max)];
  });
  out.push(padTable([header, ...rows]), '');
  if (iv.requests > 0) {
    out.push(`95% intervals (ms), from ${iv.requests} completed requests (seeded bootstrap, ${iv.resamples} resamples):`, padTable(intervalTable(iv)), '');
  }
  if (s.perReplica.length) {
    const rh = ['REPLICA', 'DEVICES', 'OK', 'FAILED', 'THROUGHPUT', 'E2E P50', 'E2E P95', 'TTFT P50', 'STATE'];
    const rr = s.perReplica.map((r) => [
      String(r.replica),
      r.devices.join(',') || '-',
      fmtCount(r.completed),
      fmtCount(r.failed),
      fmtRate(r.throughputReqS, 'req/s'),
      fmtMs(r.e2eMs.p50),
      fmtMs(r.e2eMs.p95),
      fmtMs(r.ttftMs.p50),
      r.died ? `died: ${r.died}` : 'ok',
    ]);
    out.push(padTable([rh, ...rr], { align: ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'] }), '');
  }
  const peaks = peakMemoryLines(s.perReplica);
  if (peaks.length) out.push(`Peak GPU memory (${PEAK_MEMORY_EXPLAINED}):`, ...peaks.map((l) => `  ${l}`), '');
  const failed = run.requests.filter((r) => r.status === 'failed' && !r.warmup);
  const notes = notesWithSteady(run, iv);
  if (notes.length || failed.length) {
    out.push('Notes:');
    for (const n of notes) out.push(`  - ${n}`);
    for (const f of failed.slice(0, 5)) out.push(`  - request ${f.id} failed: ${f.error ?? 'no error message'}`);
    if (failed.length > 5) out.push(`  - ... ${failed.length - 5} more failed requests (\`gemma-bench runs show ${run.id} --json\` has them all)`);
  }
  return out.join('\n').trimEnd() + '\n';
}

// ---------------------------------------------------------------------------------------------------- subcommands

async function list(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(listDef, argv);
  if (flag(values, 'help')) return help(listDef);
  if (positionals.length) throw new UsageError(`runs list takes no arguments (got "${positionals[0]}"). Did you mean \`gemma-bench runs show ${positionals[0]}\`?`);
  const dir = runsDir();
  const entries = await listRuns(dir);
  await writeStdout(flag(values, 'json') ? JSON.stringify({ runsDir: dir, runs: entries }, null, 2) + '\n' : renderRunList(entries, dir, tableWidth(flag(values, 'wide'))));
  return EXIT_OK;
}

function oneId(def: CommandDef, positionals: readonly string[]): string {
  if (positionals.length === 0) throw new UsageError(`${def.name} needs a run id. \`gemma-bench runs list\` shows them.`);
  if (positionals.length > 1) throw new UsageError(`${def.name} takes one run id (got ${positionals.length}: ${positionals.join(' ')}).`);
  return positionals[0];
}

async function show(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(showDef, argv);
  if (flag(values, 'help')) return help(showDef);
  const id = oneId(showDef, positionals);
  if (str(values, 'goodput') !== undefined && flag(values, 'json')) throw new UsageError('runs show --json prints the run file as saved; drop --goodput, or drop --json for the report with goodput.');
  const slo = goodputFlag(values);
  const r = await fromStore(() => resolveRunOrGroup(id));
  if (r.kind === 'group' && r.runs[0]?.group?.kind === 'repeat' && !flag(values, 'json')) {
    await writeStdout(renderRepeatGroupText(r.groupId, r.runs));
    return EXIT_OK;
  }
  if (r.kind === 'group') {
    const what = r.runs[0]?.group?.kind === 'repeat' ? 'repeat group' : 'sweep group';
    throw new UsageError(`"${id}" is a ${what} of ${r.runs.length} runs; show one of them (${r.runs.map((x) => x.id).join(', ')}), or \`gemma-bench compare ${id}\`.`);
  }
  await writeStdout(flag(values, 'json') ? runToJson(r.run) : renderRunText(r.run, slo));
  return EXIT_OK;
}

/** The format an --out file's extension names (.csv, .md/.markdown, .json, .html/.htm), if any. */
export function formatFromOut(out: string | undefined): ExportFormat | undefined {
  if (!out) return undefined;
  const ext = extname(out).toLowerCase();
  return ext === '.csv' ? 'csv' : ext === '.md' || ext === '.markdown' ? 'md' : ext === '.json' ? 'json' : ext === '.html' || ext === '.htm' ? 'html' : undefined;
}

async function exportRuns(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(exportDef, argv);
  if (flag(values, 'help')) return help(exportDef);
  if (positionals.length === 0) throw new UsageError('runs export needs at least one run id or sweep group id. `gemma-bench runs list` shows them.');
  const outFile = str(values, 'out');
  const asked = oneOf(values, 'format', EXPORT_FORMATS) ?? formatFromOut(outFile);
  const runs: RunFile[] = [];
  let single = positionals.length === 1;
  let sweep = false;
  for (const p of positionals) {
    const r = await fromStore(() => resolveRunOrGroup(p));
    if (r.kind === 'group') {
      single = false;
      sweep = true;
      runs.push(...r.runs);
    } else runs.push(r.run);
  }
  // A sweep is a table of grid points, so it exports as CSV unless asked otherwise.
  const format: ExportFormat = asked ?? (sweep ? 'csv' : 'json');
  if (format === 'html') {
    await writeStdout(`${await writeHtmlReport(runsToHtml(runs), runs, outFile)}\n`);
    return EXIT_OK;
  }
  const text =
    format === 'csv' ? runsToCsv(runs) : format === 'md' ? runs.map((r) => runToMarkdown(r)).join('\n---\n\n') : single ? runExportJson(runs[0]) : runsExportJson(runs);
  if (!outFile) {
    await writeStdout(text);
    return EXIT_OK;
  }
  try {
    await writeFile(outFile, text, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot write ${outFile}: ${e.code ? `${e.code}` : e.message}. Choose another --out path.`);
  }
  process.stderr.write(`wrote ${runs.length} run${runs.length === 1 ? '' : 's'} as ${format} to ${outFile}\n`);
  return EXIT_OK;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

async function rm(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(rmDef, argv);
  if (flag(values, 'help')) return help(rmDef);
  if (positionals.length === 0) throw new UsageError('runs rm needs at least one run id. `gemma-bench runs list` shows them.');
  const ids: string[] = [];
  for (const p of positionals) {
    const t = await fromStore(() => resolveTarget(p));
    if (t.kind === 'run') ids.push(t.id);
    else ids.push(...t.members.map((m) => m.id));
  }
  const unique = [...new Set(ids)];
  if (!flag(values, 'yes')) {
    if (!process.stdin.isTTY) {
      throw new UsageError(`refusing to delete ${unique.length} run${unique.length === 1 ? '' : 's'} without --yes: stdin is not a terminal, so nobody can confirm. Add --yes.`);
    }
    const ok = await confirm(`Delete ${unique.length} run${unique.length === 1 ? '' : 's'} from ${runsDir()}?\n${unique.map((i) => `  ${i}`).join('\n')}\n[y/N] `);
    if (!ok) {
      process.stderr.write('nothing deleted\n');
      return EXIT_OK;
    }
  }
  for (const id of unique) {
    const file = await fromStore(() => removeRun(id));
    await writeStdout(`deleted ${id} (${file})\n`);
  }
  return EXIT_OK;
}

async function help(def: CommandDef): Promise<number> {
  await writeStdout(helpText(def));
  return EXIT_OK;
}

const SUBCOMMANDS: Record<string, (argv: readonly string[]) => Promise<number>> = { list, ls: list, show, export: exportRuns, rm, remove: rm };

export async function run(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') return help(command);
  // Bare `runs` (or `runs --json`) lists.
  if (sub === undefined || sub.startsWith('-')) return list(argv);
  const fn = SUBCOMMANDS[sub];
  if (!fn) throw new UsageError(`unknown subcommand "runs ${sub}". Use one of: list, show, export, rm. Run \`gemma-bench runs --help\`.`);
  return fn(rest);
}
