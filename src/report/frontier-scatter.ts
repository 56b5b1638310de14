// The sweep's latency-throughput scatter as text, for the terminal (under `sweep`'s table and on the TUI's sweep
// comparison): p95 E2E latency against request throughput, each point drawn as its number in the table, the
// Pareto frontier's points filled (●) and the others hollow (○), then the frontier listed with its knob values.
// Fits the width it is given (80 columns by default). Pure.
import { runLabels, type CompareModel } from './compare.js';
import { paretoFrontier } from './frontier.js';
import { NONE, sig3 } from './format.js';
import type { RunFile } from '../engine/types.js';

export interface ScatterPoint {
  /** The number the point has in the table it sits under (1-based). */
  readonly n: number;
  /** The knob values, e.g. "min-ratio=2 max-crops=4". */
  readonly label: string;
  readonly throughputReqS: number | null;
  /** p95 E2E latency, ms. */
  readonly latencyMs: number | null;
}

export const FRONTIER_MARK = '●';
export const DOMINATED_MARK = '○';
const DEFAULT_WIDTH = 80;
const DEFAULT_HEIGHT = 9;
/** Frontier points listed under the plot, at most. */
export const FRONTIER_LISTED_MAX = 10;
/** Cells kept free right of the last column so a point's number fits. */
const RIGHT_PAD = 4;

/** The points of a sweep's saved runs, numbered in their order and labelled as compare's columns. */
export function scatterPointsOfRuns(runs: readonly RunFile[]): ScatterPoint[] {
  const labels = runLabels(runs);
  return runs.map((r, i) => ({
    n: i + 1,
    label: labels[i],
    throughputReqS: r.summary.throughputReqS,
    latencyMs: r.summary.metrics.e2eMs.p95,
  }));
}

/** The points of a comparison model (its p95 E2E and throughput rows), numbered as its columns. */
export function scatterPointsOfModel(model: CompareModel): ScatterPoint[] {
  const row = (key: string) => model.rows.find((r) => r.key === key);
  const lat = row('e2e_p95');
  const thr = row('throughput_req_s');
  return model.columns.map((c, i) => ({ n: i + 1, label: c.label, throughputReqS: thr?.cells[i]?.value ?? null, latencyMs: lat?.cells[i]?.value ?? null }));
}

/** True when every column of the model belongs to one sweep (the compare screen then shows the scatter). */
export function isSweepModel(model: CompareModel): boolean {
  const g = model.columns[0]?.groupId ?? null;
  return g !== null && model.columns.length >= 2 && model.columns.every((c) => c.groupId === g);
}

const num = (v: number) => sig3(v, 2);

/** `text` cut to `width` characters (with an ellipsis). */
const fit = (text: string, width: number) => (text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`);

/**
 * The scatter as lines of at most `width` characters: a title, `height` plot rows with the latency axis on the
 * left, the throughput axis, then the frontier's points with their knobs and numbers, and the points that could
 * not be drawn (no numbers, or no free cell near their place).
 */
export function renderFrontierScatter(points: readonly ScatterPoint[], opts: { width?: number; height?: number } = {}): string[] {
  const width = Math.max(40, opts.width ?? DEFAULT_WIDTH);
  const height = Math.max(3, opts.height ?? DEFAULT_HEIGHT);
  const frontier = paretoFrontier(points);
  const onFrontier = new Set(frontier);
  const drawable = points.map((p, i) => i).filter((i) => points[i].throughputReqS !== null && points[i].latencyMs !== null && Number.isFinite(points[i].throughputReqS!) && Number.isFinite(points[i].latencyMs!));
  const out = [fit(`p95 E2E latency (ms) vs throughput (req/s): ${FRONTIER_MARK} Pareto frontier, ${DOMINATED_MARK} dominated`, width)];
  if (!drawable.length) return [...out, '  (no point has both numbers: no run completed a measured request)'];

  const xs = drawable.map((i) => points[i].throughputReqS!);
  const ys = drawable.map((i) => points[i].latencyMs!);
  const [xMin, xMax, yMin, yMax] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const yTicks = [num(yMax), num((yMax + yMin) / 2), num(yMin)];
  const margin = Math.max(...yTicks.map((t) => t.length)) + 2;
  const plotW = width - margin - 1;
  const span = Math.max(1, plotW - RIGHT_PAD);
  const grid: string[][] = Array.from({ length: height }, () => Array.from({ length: plotW }, () => ' '));
  const colOf = (x: number) => (xMax === xMin ? Math.floor(span / 2) : Math.round(((x - xMin) / (xMax - xMin)) * span));
  const rowOf = (y: number) => (yMax === yMin ? Math.floor(height / 2) : Math.round(((yMax - y) / (yMax - yMin)) * (height - 1)));
  const free = (r: number, c: number, len: number) => r >= 0 && r < height && c >= 0 && c + len <= plotW && grid[r].slice(c, c + len).every((ch) => ch === ' ');
  const hidden: number[] = [];
  // The frontier first, so its points get their exact places when two points crowd one cell.
  for (const i of [...frontier, ...drawable.filter((j) => !onFrontier.has(j))]) {
    const mark = `${onFrontier.has(i) ? FRONTIER_MARK : DOMINATED_MARK}${points[i].n}`;
    const r0 = rowOf(points[i].latencyMs!);
    const c0 = colOf(points[i].throughputReqS!);
    // A free span of mark + one blank on each side, nearest the exact place first.
    const tries: [number, number][] = [];
    for (const dr of [0, -1, 1, -2, 2]) for (const dc of [0, 1, -1, 2, -2, 3, -3]) tries.push([r0 + dr, c0 + dc]);
    const spot = tries.find(([r, c]) => free(r, c - 1, mark.length + 2) || (c === 0 && free(r, 0, mark.length + 1)));
    if (!spot) {
      hidden.push(i);
      continue;
    }
    [...mark].forEach((ch, k) => (grid[spot[0]][spot[1] + k] = ch));
  }
  const tickRows =
    yMax === yMin
      ? new Map([[Math.floor(height / 2), num(yMin)]])
      : new Map([[0, yTicks[0]], [Math.floor((height - 1) / 2), yTicks[1]], [height - 1, yTicks[2]]]);
  for (let r = 0; r < height; r++) {
    const t = tickRows.get(r);
    out.push(`${(t ?? '').padStart(margin - 2)} ${t !== undefined ? '┤' : '│'}${grid[r].join('').trimEnd()}`);
  }
  const axis = Array.from({ length: plotW }, () => '─');
  const left = xMax === xMin ? colOf(xMin) : 0;
  axis[left] = '┬';
  if (xMax !== xMin) axis[span] = '┬';
  out.push(`${' '.repeat(margin - 1)}└${axis.join('')}`);
  const lo = num(xMin);
  const hi = `${num(xMax)} req/s`;
  const labels = Array.from({ length: plotW + 1 }, () => ' ');
  const put = (at: number, s: string) => [...s].forEach((ch, k) => at + k < labels.length && (labels[at + k] = ch));
  if (xMax === xMin) put(Math.max(0, left + 1 - Math.floor(hi.length / 2)), hi);
  else {
    put(0, lo);
    put(Math.max(lo.length + 2, Math.min(span + 1 - Math.floor(hi.length / 2), labels.length - hi.length)), hi);
  }
  out.push(`${' '.repeat(margin)}${labels.join('').trimEnd()}`);
  out.push(fit(`Pareto frontier, ${frontier.length} of ${points.length} point${points.length === 1 ? '' : 's'}: none is beaten on both p95 and req/s`, width));
  for (const i of frontier.slice(0, FRONTIER_LISTED_MAX)) {
    const p = points[i];
    out.push(fit(`  ${FRONTIER_MARK}${String(p.n).padEnd(3)} ${num(p.throughputReqS!).padStart(7)} req/s ${num(p.latencyMs!).padStart(7)} ms  ${p.label || NONE}`, width));
  }
  if (frontier.length > FRONTIER_LISTED_MAX) out.push(fit(`  … and ${frontier.length - FRONTIER_LISTED_MAX} more (the HTML report lists all)`, width));
  const missing = points.map((p, i) => i).filter((i) => !drawable.includes(i));
  if (missing.length) out.push(...wrapList('  not drawn (no completed request): ', missing.map((i) => String(points[i].n)), width));
  if (hidden.length) out.push(...wrapList('  not drawn (crowded out): ', hidden.map((i) => String(points[i].n)), width));
  return out;
}

/** `head` then the items joined by ", ", continued on indented lines so no line passes `width`. */
function wrapList(head: string, items: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let line = head;
  items.forEach((item, k) => {
    const piece = item + (k < items.length - 1 ? ',' : '');
    if (line.length + piece.length + 1 > width && line.trim() !== head.trim()) {
      lines.push(line.trimEnd());
      line = '    ';
    }
    line += (line.endsWith(' ') ? '' : ' ') + piece;
  });
  lines.push(line);
  return lines.map((l) => fit(l, width));
}
