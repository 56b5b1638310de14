// `gemma-bench compare ID ID...`: saved runs side by side, deltas against the first, the best of each row marked.
// The table model comes from src/report/compare.ts (shared with the UI); this only resolves ids and prints.
import { flag, helpText, oneOf, parseCommand, str, UsageError, type CommandDef } from '../args.js';
import { EXIT_OK } from '../command.js';
import type { RunFile } from '../../engine/types.js';
import { compareRuns, renderCompareText } from '../../report/compare.js';
import { compareReportHtml } from '../../report/html/index.js';
import { writeHtmlReport } from '../html-out.js';
import { resolveRunOrGroup } from '../../store/run-store.js';
import { fromStore, goodputFlag, writeStdout } from './runs.js';
import { tableWidth, WIDE_OPTION } from '../output-width.js';

export const command: CommandDef = {
  name: 'compare',
  summary: 'compare saved runs side by side (deltas against the first, best marked)',
  usage: 'ID ID... [--goodput SLOS] [--json | --format html [--out FILE]] [--wide]  |  compare GROUP_ID [...]',
  options: {
    format: { type: 'string', short: 'f', placeholder: 'text|json|html', description: 'text (default), json (as --json) or html: a self-contained page with charts, written to --out or exports/ (path printed)' },
    out: { type: 'string', short: 'o', placeholder: 'FILE', description: 'with --format html: where to write the page' },
    goodput: { type: 'string', placeholder: 'SLOS', description: 'add goodput rows: requests within every SLO per second, e.g. ttft:500,tpot:50,e2e:3000 (ms)' },
    json: { type: 'boolean', description: 'print the comparison as JSON (shape below)' },
    wide: WIDE_OPTION,
  },
  details: [
    'ID is a run id, a unique prefix of one, "latest" or "latest~N" (N runs before it). A sweep group id stands for all runs of that sweep,',
    'in grid order; alone, it compares the sweep. The first run is the baseline.',
    'Rows: E2E p50/p95/p99, TTFT p50/p95, TPOT p50, ITL p50, preprocess p50, vision p50 (lower is better),',
    'throughput, output tokens/s, tokens/s per request (higher is better), completed, failed, crops (no best).',
    'With --goodput: goodput (measured requests that completed within every SLO / measured time, as vLLM and',
    'DistServe define it) and the share of finished requests within the SLOs, from the saved per-request records.',
    'HTML (--format html): the table with deltas and overlaid E2E and TTFT CDFs, one colour per run; for a sweep also',
    'p95 E2E latency against throughput with the Pareto frontier drawn and listed with its knob values.',
    '',
    'JSON output (--json), stable:',
    '  {"baselineId": string,',
    '   "columns": [{"id","name","label","status","startedAt","preset","backend","model","groupId"}...],',
    '   "rows": [{"key","label","unit": "ms"|"req/s"|"tok/s"|"count"|"crops"|"pct",',
    '             "direction": "lower"|"higher"|"none",',
    '             "cells": [{"value","delta","deltaPct","best"}...]}...],   (one cell per column; numbers may be null)',
    '   "warnings": [string...]}',
  ].join('\n'),
  examples: ['gemma-bench compare latest~1 latest', 'gemma-bench compare latest~2 latest~1 latest --wide', 'gemma-bench compare GROUP_ID   (the id a sweep prints)', 'gemma-bench compare GROUP_ID --format html --out sweep.html'],
};

export async function run(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(command, argv);
  if (flag(values, 'help')) {
    await writeStdout(helpText(command));
    return EXIT_OK;
  }
  const slo = goodputFlag(values);
  const format = oneOf(values, 'format', ['text', 'json', 'html'] as const) ?? (flag(values, 'json') ? 'json' : 'text');
  if (flag(values, 'json') && format !== 'json') throw new UsageError(`--json and --format ${format} disagree; give one of them.`);
  const out = str(values, 'out');
  if (out !== undefined && format !== 'html') throw new UsageError('--out is for --format html (text and JSON go to stdout).');
  if (positionals.length === 0) throw new UsageError('compare needs two or more run ids, or one sweep group id. `gemma-bench runs list` shows them.');
  const runs: RunFile[] = [];
  for (const p of positionals) {
    const r = await fromStore(() => resolveRunOrGroup(p));
    if (r.kind === 'group') runs.push(...r.runs);
    else runs.push(r.run);
  }
  if (runs.length < 2) {
    throw new UsageError(`compare needs at least two runs; "${positionals[0]}" names one (${runs[0].id}). Give another run id to compare it with.`);
  }
  const model = compareRuns(runs, slo ? { slo } : {});
  if (format === 'html') {
    await writeStdout(`${await writeHtmlReport(compareReportHtml(runs, { model }), runs, out)}\n`);
    return EXIT_OK;
  }
  await writeStdout(format === 'json' ? JSON.stringify(model, null, 2) + '\n' : renderCompareText(model, { width: tableWidth(flag(values, 'wide')) }));
  return EXIT_OK;
}
