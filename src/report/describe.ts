// Small derived facts about a saved run that exports, comparison and the commands all show the same way. Pure.
import type { LatencyMetric, RunFile, RunGroup, RunStatus, RunSummary } from '../engine/types.js';

export const RANDOM_WEIGHTS_LABEL = 'random weights: speed only';

/** The numbers a run list shows for a run (the store derives them; the UI shows them). */
export interface RunHeadline {
  readonly completed: number;
  readonly failed: number;
  readonly throughputReqS: number | null;
  readonly e2eP50Ms: number | null;
  readonly e2eP95Ms: number | null;
  readonly ttftP50Ms: number | null;
  readonly outputTokensPerS: number | null;
}

/** A saved run as `runs list` and the UI show it. */
export interface RunListOk {
  readonly ok: true;
  readonly id: string;
  readonly file: string;
  readonly name: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly presetName: string;
  readonly backend: string;
  readonly modelLabel: string;
  readonly group: RunGroup | null;
  readonly headline: RunHeadline;
}

/** A run file that cannot be read: listed by name with the reason. */
export interface RunListBad {
  readonly ok: false;
  readonly file: string;
  readonly error: string;
}

export type RunListEntry = RunListOk | RunListBad;

/** Human names of the latency metrics, in LATENCY_METRICS order. */
export const METRIC_LABELS: Readonly<Record<LatencyMetric, string>> = {
  e2eMs: 'E2E latency',
  ttftMs: 'TTFT',
  tpotMs: 'TPOT',
  itlMs: 'ITL',
  queueMs: 'Queue',
  preprocessMs: 'Preprocess',
  visionMs: 'Vision',
};

/** The model's label, always saying "random weights: speed only" when the weights are random. */
export function modelLabel(run: Pick<RunFile, 'backend'>): string {
  const m = run.backend.model;
  const label = m.label || m.name;
  return m.randomWeights && !label.includes(RANDOM_WEIGHTS_LABEL) ? `${label}, ${RANDOM_WEIGHTS_LABEL}` : label;
}

/** A sweep grid point as `k=v k=v`, keys in their saved order. */
export function pointLabel(point: RunGroup['point']): string {
  return Object.entries(point)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** Mean crops per completed measured request, from the crops histogram; null with none. */
export function cropsMean(summary: Pick<RunSummary, 'cropsHistogram'>): number | null {
  let n = 0;
  let sum = 0;
  for (const [k, c] of Object.entries(summary.cropsHistogram)) {
    n += c;
    sum += Number(k) * c;
  }
  return n ? sum / n : null;
}

/** Wall-clock length of the run in seconds (from its saved start and end times), or null if unknown. */
export function runDurationS(run: Pick<RunFile, 'startedAt' | 'endedAt'>): number | null {
  const d = (Date.parse(run.endedAt) - Date.parse(run.startedAt)) / 1000;
  return Number.isFinite(d) && d >= 0 ? d : null;
}
