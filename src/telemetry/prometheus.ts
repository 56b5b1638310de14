// Pure: the Prometheus text exposition format (0.0.4, and the OpenMetrics text that servers also send) into samples.
// Lines: `# HELP name text`, `# TYPE name type`, other `#` comments, `# EOF`, and samples
// `name{label="value",...} value [timestamp]` with escapes \\ \" \n in label values, `+Inf`/`-Inf`/`NaN` values,
// whitespace around labels and a trailing comma allowed (the DCGM exporter's README shows `{gpu="0", UUID=...}`).
// A line that cannot be read is reported with its number and skipped; the rest of the page still counts.
//
// Hand-written rather than parse-prometheus-text-format (1.1.1, last released in 2019): that library groups by
// family and drops the per-line problems we want to report, and it was slower on the recorded pages
// (bench/parsers.ts). This parser is one pass over the text with no regular expressions per sample.

export interface PromSample {
  /** Full sample name as written (histograms keep their _bucket/_sum/_count suffix, counters their _total). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Optional timestamp (ms since epoch) written after the value. */
  readonly timestampMs: number | null;
}

export interface PromProblem {
  readonly lineNumber: number;
  readonly line: string;
  readonly message: string;
}

export interface PromPage {
  readonly samples: readonly PromSample[];
  /** Metric family -> declared type (counter, gauge, histogram, summary, untyped, ...). */
  readonly types: ReadonlyMap<string, string>;
  readonly help: ReadonlyMap<string, string>;
  readonly problems: readonly PromProblem[];
}

const MAX_PROBLEM_LINE_CHARS = 200;

function parseValue(s: string): number | null {
  switch (s) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
  }
  if (s.length === 0) return null;
  const v = Number(s);
  return Number.isNaN(v) ? null : v;
}

function isNameChar(c: number, first: boolean): boolean {
  // [a-zA-Z_:][a-zA-Z0-9_:]*
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || (!first && c >= 48 && c <= 57);
}

class LineError extends Error {}

function parseSampleLine(line: string): PromSample {
  let i = 0;
  const n = line.length;
  while (i < n && isNameChar(line.charCodeAt(i), i === 0)) i++;
  if (i === 0) throw new LineError('no metric name');
  const name = line.slice(0, i);
  const labels: Record<string, string> = {};
  const skipWs = () => {
    while (i < n && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
  };
  skipWs();
  if (line.charCodeAt(i) === 123 /* { */) {
    i++;
    for (;;) {
      skipWs();
      if (i >= n) throw new LineError('unterminated label set');
      if (line.charCodeAt(i) === 125 /* } */) {
        i++;
        break;
      }
      const ls = i;
      while (i < n && isNameChar(line.charCodeAt(i), i === ls)) i++;
      if (i === ls) throw new LineError(`bad label name at column ${i + 1}`);
      const key = line.slice(ls, i);
      skipWs();
      if (line.charCodeAt(i) !== 61 /* = */) throw new LineError(`expected = after label ${key}`);
      i++;
      skipWs();
      if (line.charCodeAt(i) !== 34 /* " */) throw new LineError(`expected a quoted value for label ${key}`);
      i++;
      let value = '';
      let seg = i;
      for (;;) {
        if (i >= n) throw new LineError(`unterminated value for label ${key}`);
        const c = line.charCodeAt(i);
        if (c === 34) {
          value += line.slice(seg, i);
          i++;
          break;
        }
        if (c === 92 /* \ */) {
          value += line.slice(seg, i);
          const e = line.charCodeAt(i + 1);
          value += e === 110 ? '\n' : e === 92 ? '\\' : e === 34 ? '"' : line[i + 1] ?? '';
          i += 2;
          seg = i;
          continue;
        }
        i++;
      }
      labels[key] = value;
      skipWs();
      const sep = line.charCodeAt(i);
      if (sep === 44 /* , */) i++;
      else if (sep !== 125 /* } */) throw new LineError(`expected , or } after label ${key}`);
    }
  }
  skipWs();
  const rest = line.slice(i).trim().split(/[ \t]+/);
  const value = parseValue(rest[0] ?? '');
  if (value === null) throw new LineError(`bad value ${JSON.stringify(rest[0] ?? '')}`);
  let ts: number | null = null;
  if (rest.length > 1) {
    const t = Number(rest[1]);
    if (!Number.isFinite(t)) throw new LineError(`bad timestamp ${JSON.stringify(rest[1])}`);
    ts = t;
  }
  return { name, labels, value, timestampMs: ts };
}

export function parsePrometheusText(text: string): PromPage {
  const samples: PromSample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const problems: PromProblem[] = [];
  let lineNumber = 0;
  let start = 0;
  const n = text.length;
  while (start <= n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    lineNumber++;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const t = line.trim();
    if (t.length === 0) {
      if (end === n) break;
      continue;
    }
    if (t.charCodeAt(0) === 35 /* # */) {
      const m = /^#\s*(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(t);
      if (m) {
        if (m[1] === 'TYPE') types.set(m[2], m[3].trim());
        else help.set(m[2], m[3]);
      }
      continue;
    }
    try {
      samples.push(parseSampleLine(t));
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      problems.push({ lineNumber, line: t.length > MAX_PROBLEM_LINE_CHARS ? `${t.slice(0, MAX_PROBLEM_LINE_CHARS)}...` : t, message: e.message });
    }
    if (end === n) break;
  }
  return { samples, types, help, problems };
}

/** Samples of one name, optionally only those whose labels include `match`. */
export function samplesOf(page: PromPage, name: string, match?: Readonly<Record<string, string>>): PromSample[] {
  return page.samples.filter((s) => s.name === name && (!match || Object.entries(match).every(([k, v]) => s.labels[k] === v)));
}

/** Sum over every label set of the first of `names` present on the page; null when none is. */
export function sumOf(page: PromPage, names: readonly string[]): number | null {
  for (const name of names) {
    const ss = samplesOf(page, name);
    if (ss.length > 0) return ss.reduce((a, s) => a + s.value, 0);
  }
  return null;
}

/** Mean over every label set of the first of `names` present; null when none is. */
export function meanOf(page: PromPage, names: readonly string[]): number | null {
  for (const name of names) {
    const ss = samplesOf(page, name);
    if (ss.length > 0) return ss.reduce((a, s) => a + s.value, 0) / ss.length;
  }
  return null;
}
