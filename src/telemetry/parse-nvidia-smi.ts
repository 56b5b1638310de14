// Pure parsers for nvidia-smi's CSV query output (`--format=csv,noheader,nounits`): the per-tick sample query
// and the one-shot environment query, plus the argument lists that produce them. No I/O. Nothing here
// throws on bad input: unreadable lines come back as ParseProblems and unreadable fields as null, because
// nvidia-smi's output varies by driver, board and failure mode and telemetry must never stop a run.
import type { GpuInfo, GpuSample, ParseProblem } from './types.js';

/** Fields of the per-tick query, in the order the parser expects them. */
export const NVIDIA_SMI_SAMPLE_FIELDS = [
  'index',
  'uuid',
  'name',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'power.draw',
  'temperature.gpu',
  'clocks.sm',
] as const;

/** Fields of the one-shot environment query. */
export const NVIDIA_SMI_INFO_FIELDS = ['index', 'uuid', 'name', 'memory.total', 'driver_version', 'pci.bus_id'] as const;

export const NVIDIA_SMI_FORMAT = 'csv,noheader,nounits';

/** Arguments for the long-lived loop: one block of rows (one per GPU) every `intervalMs`. */
export function nvidiaSmiSampleArgs(intervalMs: number): string[] {
  return [`--query-gpu=${NVIDIA_SMI_SAMPLE_FIELDS.join(',')}`, `--format=${NVIDIA_SMI_FORMAT}`, '-lms', String(Math.round(intervalMs))];
}

/** Arguments for the one-shot environment query. */
export function nvidiaSmiInfoArgs(): string[] {
  return [`--query-gpu=${NVIDIA_SMI_INFO_FIELDS.join(',')}`, `--format=${NVIDIA_SMI_FORMAT}`];
}

/** Each GPU's MIG mode (doctor): `mig.mode.current` is "Enabled", "Disabled" or "[N/A]" where MIG does not exist. */
export const NVIDIA_SMI_MIG_FIELDS = ['index', 'mig.mode.current'] as const;
export function nvidiaSmiMigArgs(): string[] {
  return [`--query-gpu=${NVIDIA_SMI_MIG_FIELDS.join(',')}`, `--format=${NVIDIA_SMI_FORMAT}`];
}

/** `index, mig.mode.current` lines -> index -> "Enabled" | "Disabled" | null (not supported, unreadable). */
export function parseNvidiaSmiMig(text: string): Map<number, string | null> {
  const out = new Map<number, string | null>();
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(\d+)\s*,\s*(.*?)\s*$/.exec(raw);
    if (!m) continue;
    const v = m[2];
    out.set(Number(m[1]), /^\[.*\]$/.test(v) || v === '' ? null : v);
  }
  return out;
}

/**
 * The highest CUDA version the driver supports, from nvidia-smi's banner (`CUDA Version: 12.4`) or `-q` output
 * (`CUDA Version : 12.4`); null when absent. --query-gpu has no field for it.
 */
export function parseNvidiaSmiCudaVersion(text: string): string | null {
  const m = /CUDA Version\s*:\s*([0-9]+(?:\.[0-9]+)*)/.exec(text);
  return m ? m[1] : null;
}

/** What one line of nvidia-smi output turned out to be. */
export type NvidiaSmiLine =
  | { kind: 'gpu'; gpu: GpuSample; problems: ParseProblem[] }
  | { kind: 'skip' } // blank line or a CSV header
  | { kind: 'device-error'; pciBusId: string; reason: string; lost: boolean; line: string }
  | { kind: 'problem'; problem: ParseProblem };

// Long garbage (a stack trace, a binary blob) should not bloat problems and run files.
const MAX_PROBLEM_LINE_CHARS = 200;

// nvidia-smi puts every "no value" status in brackets ([N/A], [Not Supported], [Unknown Error],
// [Insufficient Permissions], [GPU is lost], [GPU requires reset], ...); older drivers print a bare N/A.
const BARE_NO_VALUE = new Set(['', 'n/a', 'not supported', 'unknown error', 'gpu is lost']);
const LOST_MARKERS = ['gpu is lost', 'gpu requires reset'];

// Printed instead of a row when NVML cannot open a GPU, e.g.
// "Unable to determine the device handle for GPU 0000:3B:00.0: GPU is lost.  Reboot the system to recover this GPU"
const DEVICE_HANDLE_RE = /unable to determine the device handle for gpu\s*([0-9a-f]{1,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-9a-f])\s*:?\s*(.*)$/i;

// With `nounits` values are bare numbers; the unit alternatives only make a misconfigured `--format=csv`
// (units on) read the same rather than turn every field into null.
const NUMBER_RE = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:\s*(?:%|MiB|W|C|MHz))?$/i;

function clip(line: string): string {
  return line.length > MAX_PROBLEM_LINE_CHARS ? `${line.slice(0, MAX_PROBLEM_LINE_CHARS)}...` : line;
}

function cleanLine(raw: string): string {
  // CRLF (Windows nvidia-smi, or output captured through a Windows tool) and stray BOMs.
  return raw.replace(/^\uFEFF/, '').replace(/\r+$/g, '').trim();
}

function isNoValue(field: string): boolean {
  const f = field.trim();
  if (f.startsWith('[') && f.endsWith(']')) return true;
  return BARE_NO_VALUE.has(f.toLowerCase());
}

function isLostMarker(field: string): boolean {
  const f = field.trim().toLowerCase();
  return LOST_MARKERS.some((m) => f.includes(m));
}

/** A text field: null for any "no value" status. */
function textField(field: string): string | null {
  const f = field.trim();
  return isNoValue(f) ? null : f;
}

/**
 * A numeric field: null for any "no value" status; anything else that is not a finite number is null too,
 * with a note in `problems` (a new driver spelling we do not know yet should be visible, not silent).
 */
function numberField(field: string, name: string, line: string, problems: ParseProblem[]): number | null {
  const f = field.trim();
  if (isNoValue(f)) return null;
  const m = NUMBER_RE.exec(f);
  const v = m ? Number(m[1]) : Number.NaN;
  if (!Number.isFinite(v)) {
    problems.push({ message: `${name}: unreadable value ${JSON.stringify(clip(f))}`, line: clip(line) });
    return null;
  }
  return v;
}

function parseIndex(field: string): number | null {
  const f = field.trim();
  return /^\d+$/.test(f) ? Number(f) : null;
}

function isHeader(fields: string[]): boolean {
  return fields[0]?.trim().toLowerCase() === 'index';
}

/**
 * Splits a row into `expected` fields. nvidia-smi does not quote, so a product name containing a comma
 * would add fields; the name is the only free-text column, so the surplus is joined back into it.
 */
function splitRow(line: string, expected: number, nameAt: number): string[] | null {
  const parts = line.split(',');
  if (parts.length < expected) return null;
  const surplus = parts.length - expected;
  if (surplus === 0) return parts.map((p) => p.trim());
  const name = parts.slice(nameAt, nameAt + surplus + 1).join(',');
  return [...parts.slice(0, nameAt), name, ...parts.slice(nameAt + surplus + 1)].map((p) => p.trim());
}

/** Recognises "Unable to determine the device handle for GPU <bus id>: <reason>" lines. */
export function parseDeviceError(rawLine: string): { pciBusId: string; reason: string; lost: boolean } | null {
  const m = DEVICE_HANDLE_RE.exec(cleanLine(rawLine));
  if (!m) return null;
  const reason = (m[2] ?? '').replace(/\s+/g, ' ').trim();
  return { pciBusId: m[1]!, reason, lost: isLostMarker(reason) };
}

/** Parses one line of the sample query (NVIDIA_SMI_SAMPLE_FIELDS). */
export function parseNvidiaSmiSampleLine(rawLine: string): NvidiaSmiLine {
  const line = cleanLine(rawLine);
  if (line === '') return { kind: 'skip' };
  const dev = parseDeviceError(line);
  if (dev) return { kind: 'device-error', ...dev, line: clip(line) };
  const fields = splitRow(line, NVIDIA_SMI_SAMPLE_FIELDS.length, 2);
  if (fields && isHeader(fields)) return { kind: 'skip' };
  if (!fields) {
    const n = line.split(',').length;
    return {
      kind: 'problem',
      problem: { message: `expected ${NVIDIA_SMI_SAMPLE_FIELDS.length} comma-separated fields, got ${n}`, line: clip(line) },
    };
  }
  const index = parseIndex(fields[0]!);
  if (index === null) {
    return { kind: 'problem', problem: { message: `GPU index is not a number: ${JSON.stringify(clip(fields[0]!))}`, line: clip(line) } };
  }
  const problems: ParseProblem[] = [];
  const lost = fields.slice(1).some(isLostMarker);
  const gpu: GpuSample = {
    index,
    uuid: textField(fields[1]!),
    name: textField(fields[2]!),
    utilPct: numberField(fields[3]!, 'utilization.gpu', line, problems),
    memUsedMiB: numberField(fields[4]!, 'memory.used', line, problems),
    memTotalMiB: numberField(fields[5]!, 'memory.total', line, problems),
    powerW: numberField(fields[6]!, 'power.draw', line, problems),
    tempC: numberField(fields[7]!, 'temperature.gpu', line, problems),
    smClockMHz: numberField(fields[8]!, 'clocks.sm', line, problems),
    state: lost ? 'lost' : 'ok',
  };
  return { kind: 'gpu', gpu, problems };
}

/** Everything a block of sample-query output contained, in order. */
export interface ParsedSampleText {
  gpus: GpuSample[];
  deviceErrors: Array<{ pciBusId: string; reason: string; lost: boolean; lineNumber: number }>;
  problems: ParseProblem[];
}

/** Parses a whole captured output of the sample query (any number of ticks; no tick grouping here). */
export function parseNvidiaSmiSamples(text: string): ParsedSampleText {
  const out: ParsedSampleText = { gpus: [], deviceErrors: [], problems: [] };
  text.split('\n').forEach((raw, i) => {
    const lineNumber = i + 1;
    const r = parseNvidiaSmiSampleLine(raw);
    if (r.kind === 'gpu') {
      out.gpus.push(r.gpu);
      for (const p of r.problems) out.problems.push({ ...p, lineNumber });
    } else if (r.kind === 'device-error') {
      out.deviceErrors.push({ pciBusId: r.pciBusId, reason: r.reason, lost: r.lost, lineNumber });
    } else if (r.kind === 'problem') {
      out.problems.push({ ...r.problem, lineNumber });
    }
  });
  return out;
}

/** Parses the one-shot environment query (NVIDIA_SMI_INFO_FIELDS). Rows come back sorted by index. */
export function parseNvidiaSmiInfo(text: string): { gpus: GpuInfo[]; problems: ParseProblem[] } {
  const gpus: GpuInfo[] = [];
  const problems: ParseProblem[] = [];
  text.split('\n').forEach((raw, i) => {
    const lineNumber = i + 1;
    const line = cleanLine(raw);
    if (line === '') return;
    const dev = parseDeviceError(line);
    if (dev) {
      problems.push({ message: `GPU ${dev.pciBusId} cannot be opened: ${dev.reason}`, line: clip(line), lineNumber });
      return;
    }
    const fields = splitRow(line, NVIDIA_SMI_INFO_FIELDS.length, 2);
    if (fields && isHeader(fields)) return;
    if (!fields) {
      problems.push({
        message: `expected ${NVIDIA_SMI_INFO_FIELDS.length} comma-separated fields, got ${line.split(',').length}`,
        line: clip(line),
        lineNumber,
      });
      return;
    }
    const index = parseIndex(fields[0]!);
    if (index === null) {
      problems.push({ message: `GPU index is not a number: ${JSON.stringify(clip(fields[0]!))}`, line: clip(line), lineNumber });
      return;
    }
    const fieldProblems: ParseProblem[] = [];
    gpus.push({
      index,
      uuid: textField(fields[1]!),
      name: textField(fields[2]!),
      memTotalMiB: numberField(fields[3]!, 'memory.total', line, fieldProblems),
      driverVersion: textField(fields[4]!),
      pciBusId: textField(fields[5]!),
    });
    for (const p of fieldProblems) problems.push({ ...p, lineNumber });
  });
  gpus.sort((a, b) => a.index - b.index);
  return { gpus, problems };
}

/**
 * Canonical PCI bus id for comparisons: nvidia-smi's query prints an 8-digit domain (`00000000:3B:00.0`)
 * while its error messages print 4 digits (`0000:3B:00.0`) and sysfs prints lower case.
 */
export function normalizePciBusId(id: string): string {
  const m = /^([0-9a-f]+):([0-9a-f]{2}):([0-9a-f]{2})\.([0-9a-f])$/i.exec(id.trim());
  if (!m) return id.trim().toLowerCase();
  return `${parseInt(m[1]!, 16).toString(16)}:${m[2]!.toLowerCase()}:${m[3]!.toLowerCase()}.${m[4]!.toLowerCase()}`;
}
