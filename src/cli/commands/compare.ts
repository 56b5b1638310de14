// `gemma-bench compare ID ID...`: saved runs (or groups of repeats) side by side, deltas against the first, noise
// marked, the best of each row marked. The table model and its exports come from src/report/compare*.ts (shared
// with the UI); this only resolves ids, prints and writes.
import { flag, helpText, oneOf, parseCommand, str, UsageError, type CommandDef } from '../args.js';
import { EXIT_OK } from '../command.js';
import type { RunFile } from '../../engine/types.js';
import { columnSets, compareSets } from '../../report/compare.js';
import { renderCompareText } from '../../report/compare-text.js';
import { compareJson, compareToCsv, compareToMarkdown } from '../../report/compare-export.js';
import { compareReportHtml } from '../../report/html/index.js';
import { writeHtmlReport } from '../html-out.js';
import { describeFsError, resolveRunOrGroup } from '../../store/run-store.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { resolve } from 'node:path';
import { formatFromOut, fromStore, goodputFlag, writeStdout } from './runs.js';
import { tableWidth, WIDE_OPTION } from '../output-width.js';

export const command: CommandDef = {
  name: 'compare',
  summary: 'compare saved runs side by side (deltas against the first, noise marked ≈, best marked)',
  usage: 'ID ID... [--goodput SLOS] [--format text|md|csv|json|html] [--out FILE] [--wide]  |  compare GROUP_ID [...]',
  options: {
    format: { type: 'string', short: 'f', placeholder: 'text|md|csv|json|html', description: 'text (default), md (a Markdown table), csv (one row per metric, one column per run), json (as --json), or html: a self-contained page with charts' },
    out: { type: 'string', short: 'o', placeholder: 'FILE', description: 'write there instead of stdout (html: instead of exports/ under the data directory; the path is printed); without --format, its extension (.md, .csv, .json, .html) picks the format' },
    goodput: { type: 'string', placeholder: 'SLOS', description: 'add goodput rows: requests within every SLO per second, e.g. ttft:500,tpot:50,e2e:3000 (ms)' },
    json: { type: 'boolean', description: 'print the comparison as JSON (shape below)' },
    wide: WIDE_OPTION,
  },
  details: [
    'ID is a run id, a unique prefix of one, "latest" or "latest~N" (N runs before it). A sweep group id stands for all its points,',
    'in grid order; alone, it compares the sweep. A repeat group id (`run --repeat N`) is one column: the median of its repeats.',
    'A sweep run with --repeat gives one column per point, its repeats together. The first column is the baseline.',
    'Rows: E2E p50/p95/p99, TTFT p50/p95, TPOT p50, ITL p50, preprocess p50, vision p50 (lower is better),',
    'throughput, output tokens/s, tokens/s per request (higher is better), completed, failed, crops (no best).',
    'Noise: every time and rate has a 95% interval from its run\'s own requests (a seeded bootstrap, 1000 resamples).',
    'A change against the baseline counts only when the 95% interval of the difference excludes 0 (and, for repeat groups,',
    'when it also exceeds the spread of the repeats: their ranges do not overlap); else the table prints ≈ (within noise)',
    'instead of the change. `*` marks the best value of a row only when it beats every other value there beyond noise.',
    'A percentile is judged only where every run has 5 values beyond it (a p50 needs 10 requests, a p95 100, a p99 500);',
    'with fewer it reads ≈ and a note says so.',
    'A run whose latency drifts (E2E median of its first and last thirds apart) is named in a note.',
    'On a terminal, box plots of E2E and TTFT (p5..p95, p25..p75, the median and its interval) follow the text table.',
    'With --goodput: goodput (measured requests that completed within every SLO / measured time, as vLLM and',
    'DistServe define it) and the share of finished requests within the SLOs, from the saved per-request records.',
    'HTML (--format html): the table with deltas and overlaid E2E and TTFT CDFs, one colour per run; for a sweep also',
    'p95 E2E latency against throughput with the Pareto frontier drawn and listed with its knob values (single runs only:',
    'a repeat group is compared as text, md, csv or json).',
    'CSV: a header "metric,label,unit,<one column per run id>", then one row per metric (values only; JSON has the rest).',
    '',
    'JSON output (--json, --format json), stable:',
    '  {"baselineId": string,',
    '   "columns": [{"id","name","label","status","startedAt","preset","backend","model","groupId","runIds"}...],',
    '   "rows": [{"key","label","unit": "ms"|"req/s"|"tok/s"|"count"|"crops"|"pct",',
    '             "direction": "lower"|"higher"|"none",',
    '             "cells": [{"value","delta","deltaPct","best",',
    '                        "ci95": [lo, hi] | null,       (the value\'s 95% interval; every time and rate with a value has one)',
    '                        "significant": bool | null,    (differs from the baseline beyond noise; null for the baseline)',
    '                        "repeats": {"count","min","median","max"} | null}...]}...],   (one cell per column; numbers may be null)',
    '   "distributions": [{"key": "e2e"|"ttft", "label", "rows": [{"label","p5","p25","p50","p75","p95","medianCi95"} | null...]}...],',
    '   "warnings": [string...]}',
  ].join('\n'),
  examples: [
    'gemma-bench compare latest~1 latest',
    'gemma-bench compare latest~2 latest~1 latest --wide',
    'gemma-bench compare latest~1 latest --format md --out compare.md',
    'gemma-bench compare GROUP_ID   (the id a sweep prints)',
    'gemma-bench compare REPEAT_GROUP_A REPEAT_GROUP_B   (two `run --repeat N` groups)',
    'gemma-bench compare GROUP_ID --format html --out sweep.html',
  ],
};

const FORMATS = ['text', 'md', 'csv', 'json', 'html'] as const;

export async function run(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(command, argv);
  if (flag(values, 'help')) {
    await writeStdout(helpText(command));
    return EXIT_OK;
  }
  const slo = goodputFlag(values);
  const out = str(values, 'out');
  // Without --format, --out's extension says it (cmp.md, cmp.csv, cmp.json, cmp.html), as for `runs export`.
  const format = oneOf(values, 'format', FORMATS) ?? (flag(values, 'json') ? 'json' : (formatFromOut(out) ?? 'text'));
  if (flag(values, 'json') && format !== 'json') throw new UsageError(`--json and --format ${format} disagree; give one of them.`);
  if (out !== undefined && format === 'text') throw new UsageError('--out is for --format md, csv, json or html (or a file ending in .md, .csv, .json or .html); the text table goes to stdout.');
  if (positionals.length === 0) throw new UsageError('compare needs two or more run ids, or one sweep group id. `gemma-bench runs list` shows them.');
  const named = [];
  for (const p of positionals) named.push(await fromStore(() => resolveRunOrGroup(p)));
  const sets = columnSets(named);
  const runs: RunFile[] = sets.flat();
  if (sets.length < 2) {
    const what = named[0].kind === 'group' ? `the group of ${runs.length} repeats` : `one run (${runs[0].id})`;
    throw new UsageError(`compare needs at least two columns; "${positionals[0]}" names ${what}. Give another run or group id to compare it with.`);
  }
  const model = compareSets(sets, slo ? { slo } : {});
  if (format === 'html') {
    // The page draws one CDF per run and numbers runs as the table numbers columns: a column of repeats has no one run.
    if (sets.some((x) => x.length > 1)) throw new UsageError('--format html compares single runs, not groups of repeats; use --format md, csv or json (or text) for repeat groups.');
    await writeStdout(`${await writeHtmlReport(compareReportHtml(runs, { model }), runs, out)}\n`);
    return EXIT_OK;
  }
  if (format === 'text') {
    // Box plots and colour only for a person at a terminal (no colour with NO_COLOR set): a pipe gets the table alone.
    const tty = process.stdout.isTTY === true;
    await writeStdout(renderCompareText(model, { width: tableWidth(flag(values, 'wide')), boxPlots: tty, color: tty && !process.env.NO_COLOR }));
    return EXIT_OK;
  }
  const text = format === 'json' ? compareJson(model) : format === 'md' ? compareToMarkdown(model) : compareToCsv(model);
  if (out === undefined) {
    await writeStdout(text);
    return EXIT_OK;
  }
  const file = resolve(out);
  try {
    await writeFileAtomic(file, text);
  } catch (err) {
    throw new Error(`cannot write ${file}: ${describeFsError(err)}. Choose another --out path.`);
  }
  await writeStdout(`${file}\n`);
  return EXIT_OK;
}
