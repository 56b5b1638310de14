// What the HTML reports hand their page script: chart descriptions with their data already binned, sorted and
// aligned in Node (src/report/html/*.ts), so the script in the page only draws them (client.ts). Types only.

/** How a series is drawn: a line, a step line, unconnected points, or bars. */
export type SeriesKind = 'line' | 'step' | 'points' | 'bars';

export interface SeriesSpec {
  readonly label: string;
  /** One value per x of the chart; null = no value there. */
  readonly values: readonly (number | null)[];
  /** CSS colour (from the Okabe-Ito palette). */
  readonly color: string;
  readonly kind: SeriesKind;
  /** Canvas line dash, e.g. [6, 3], to tell series apart beyond the palette's colours. */
  readonly dash?: readonly number[];
  /** 'y2': the right-hand axis. */
  readonly axis?: 'y' | 'y2';
  /** Point diameter in CSS pixels (points and lines with markers). */
  readonly pointSize?: number;
  /** Points drawn as rings rather than discs. */
  readonly hollow?: boolean;
  /** Lines: also mark each value. */
  readonly markers?: boolean;
  /** Lines: connect across nulls (series sharing an x axis they only partly fill). */
  readonly spanGaps?: boolean;
}

export interface ChartSpec {
  /** The DOM id of the chart's figure. */
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly y2Label?: string;
  /** Ascending. */
  readonly x: readonly number[];
  readonly series: readonly SeriesSpec[];
  /** Fixed ends of the y axis (null: from the data), e.g. [0, 100] for a percentage. */
  readonly yRange?: readonly [number | null, number | null];
  readonly y2Range?: readonly [number | null, number | null];
  /** Text drawn beside the points of series 0 (the sweep's knob values), aligned with x; null = none. */
  readonly pointLabels?: readonly (string | null)[];
  /** Plot height in CSS pixels. */
  readonly height?: number;
}

/** The JSON inside the page. */
export interface ReportData {
  readonly kind: 'run' | 'compare' | 'sweep';
  readonly generatedBy: string;
  readonly charts: readonly ChartSpec[];
  /** Run reports: every request, column by column (see RequestColumns). */
  readonly requests?: RequestColumns;
  /** Comparison and sweep reports: the runs' headline numbers, in column order. */
  readonly runs?: readonly { readonly id: string; readonly name: string; readonly color: string; readonly point: Readonly<Record<string, number | string>> | null; readonly p95E2eMs: number | null; readonly throughputReqS: number | null }[];
  /** Sweep reports: indices into `runs` of the Pareto frontier, by throughput. */
  readonly frontier?: readonly number[];
}

/**
 * Every request of a run, one array per field (times in ms, rounded to 0.01 ms; offsets from the run's start).
 * Per-token timestamps are not kept: they are summarised (binned token rates, the ITL distribution).
 */
export interface RequestColumns {
  readonly id: readonly number[];
  /** 'ok' | 'failed' | 'cancelled'. */
  readonly status: readonly string[];
  readonly warmup: readonly boolean[];
  readonly replica: readonly (number | null)[];
  readonly imageIndex: readonly number[];
  readonly crops: readonly number[];
  readonly promptTokens: readonly number[];
  readonly outputTokens: readonly number[];
  readonly enqueuedAtMs: readonly number[];
  readonly dispatchedAtMs: readonly (number | null)[];
  readonly finishedAtMs: readonly (number | null)[];
  readonly queueMs: readonly (number | null)[];
  readonly preprocessMs: readonly (number | null)[];
  readonly visionMs: readonly (number | null)[];
  readonly ttftMs: readonly (number | null)[];
  readonly e2eMs: readonly (number | null)[];
  readonly tpotMs: readonly (number | null)[];
  /** Index into `errors`, or null. */
  readonly error: readonly (number | null)[];
  /** The distinct error messages. */
  readonly errors: readonly string[];
}
