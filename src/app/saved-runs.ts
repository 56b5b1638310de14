// The saved runs as the interactive app's screens use them: the list rows, comparisons (of chosen runs or of a
// group), exports written under the data directory (the runs' reports, or the comparison table), and deletion.
import { join } from 'node:path';
import type { RunFile } from '../engine/types.js';
import { columnSets, compareRuns, compareSets, type CompareModel } from '../report/compare.js';
import { compareJson, compareToCsv, compareToMarkdown } from '../report/compare-export.js';
import { runsToCsv, runsToJson, runToJson, runToMarkdown } from '../report/export.js';
import { runsToHtml } from '../report/html/index.js';
import { listGroup, listRuns, loadRun, removeRun } from '../store/run-store.js';
import type { ComparisonFormat, ExportFormat, RunRow } from '../ui/app-port.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { utcStamp } from '../util/ids.js';

export async function runRows(dir: string): Promise<RunRow[]> {
  return (await listRuns(dir)).map((e): RunRow =>
    e.ok
      ? { ok: true, id: e.id, name: e.name, status: e.status, startedAt: e.startedAt, presetName: e.presetName, backend: e.backend, modelLabel: e.modelLabel, group: e.group, headline: e.headline }
      : { ok: false, file: e.file, error: e.error },
  );
}

export async function compareIds(ids: readonly string[], dir: string): Promise<CompareModel> {
  return compareRuns(await Promise.all(ids.map((id) => loadRun(id, dir))));
}

/** A group's comparison: a sweep's points (each with its repeats), or a repeat group's repeats one by one. */
export async function compareSweep(groupId: string, dir: string): Promise<CompareModel> {
  const runs = await listGroup(groupId, dir);
  if (!runs.length) throw new Error(`no readable runs in group ${groupId}`);
  if (runs[0].group?.kind === 'repeat') return compareRuns(runs);
  return compareSets(columnSets([{ kind: 'group', runs }]));
}

/** Writes the comparison table (as `compare --format` prints it) under `exportsDir` and returns its path. */
export async function exportComparison(model: CompareModel, format: ComparisonFormat, exportsDir: string): Promise<string> {
  const text = format === 'json' ? compareJson(model) : format === 'csv' ? compareToCsv(model) : compareToMarkdown(model);
  const group = model.columns[0]?.groupId;
  const base = group && model.columns.every((c) => c.groupId === group) ? `${group}-compare` : `${utcStamp()}-compare-${model.columns.length}-runs`;
  const file = join(exportsDir, `${base}.${format}`);
  await writeFileAtomic(file, text);
  return file;
}

/** Writes the export under `exportsDir` and returns its path. */
export async function exportRuns(ids: readonly string[], format: ExportFormat, dir: string, exportsDir: string): Promise<string> {
  if (!ids.length) throw new Error('nothing to export');
  const runs: RunFile[] = await Promise.all(ids.map((id) => loadRun(id, dir)));
  const text =
    format === 'json' ? (runs.length === 1 ? runToJson(runs[0]) : runsToJson(runs)) : format === 'csv' ? runsToCsv(runs) : format === 'html' ? runsToHtml(runs) : runs.map(runToMarkdown).join('\n---\n\n');
  const group = runs[0].group?.id;
  const base = runs.length === 1 ? runs[0].id : group && runs.every((r) => r.group?.id === group) ? group : `${utcStamp()}-${runs.length}-runs`;
  const file = join(exportsDir, `${base}.${format}`);
  await writeFileAtomic(file, text);
  return file;
}

export async function deleteRuns(ids: readonly string[], dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const id of ids) files.push(await removeRun(id, dir));
  return files;
}
