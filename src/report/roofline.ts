// The roofline (src/engine/roofline.ts) in words, the same in `runs show`, the Markdown export, the dashboard's final
// screen and `compare`'s notes. Pure.
import type { RunRoofline } from '../engine/roofline.js';
import { fmtMs, sig3 } from './format.js';

const pct = (x: number): string => `${sig3(x, 1)}%`;

/** "H100 SXM x2 (989 TFLOP/s BF16, 3.35 TB/s each)". */
export function rooflineDevice(r: RunRoofline): string {
  if (!r.peak) return r.gpu ?? 'unknown GPU';
  return `${r.peak.entry}${r.gpusPerReplica > 1 ? ` x${r.gpusPerReplica}` : ''} (${r.peak.bf16Tflops} TFLOP/s BF16, ${r.peak.memTBs} TB/s${r.gpusPerReplica > 1 ? ' each' : ''})`;
}

/**
 * One line: `TTFT 12.1% of the floor (39.2 ms of 324 ms), TPOT 11.5% (8.16 ms of 71.0 ms) on H100 SXM x2 (...)`, or
 * `unknown peak: <why>`; for a run saved before rooflines, says so.
 */
export function rooflineLine(r: RunRoofline | undefined): string {
  if (!r) return 'not computed (the run was saved before gemma-bench computed rooflines)';
  if (r.unknown !== null) return `${r.peak ? 'unknown' : 'unknown peak'}: ${r.unknown}`;
  const part = (name: string, p: number | null, floor: number | null, measured: number | null) =>
    p === null ? `${name} floor ${fmtMs(floor)} (no measured median)` : `${name} ${pct(p)} of the floor (${fmtMs(floor)} of ${fmtMs(measured)})`;
  return `${part('TTFT', r.ttftPctOfFloor, r.ttftFloorMs, r.ttftP50Ms)}, ${part('TPOT', r.tpotPctOfFloor, r.tpotFloorMs, r.tpotP50Ms)} on ${rooflineDevice(r)}`;
}

/** The line and what stands behind it: the model's cost, the table entry's source, the caveats. */
export function rooflineDetails(r: RunRoofline | undefined): string[] {
  const out = [rooflineLine(r)];
  if (!r || r.unknown !== null) return out;
  const cost: string[] = [];
  if (r.prefillTflop !== null) cost.push(`median prefill ${sig3(r.prefillTflop, 2)} TFLOP per request`);
  if (r.decodeStepGB !== null) cost.push(`median decode step ${sig3(r.decodeStepGB, 2)} GB read (weights and KV cache of its micro-batch)`);
  out.push(`${r.model ?? 'model'}${r.bytesPerParam !== null ? `, ${r.bytesPerParam} bytes per weight` : ''}: ${cost.join('; ')}`);
  if (r.peak) out.push(`peak table entry ${r.peak.entry}: ${r.peak.source}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  return out;
}

/** The dashboard's line (fits 90 columns): `TTFT 6.4% of floor (39.4 ms of 615 ms) · TPOT 24.9% (…) · H100 SXM x2`. */
export function rooflineShort(r: RunRoofline): string {
  if (r.unknown !== null) return `${r.peak ? 'unknown' : 'unknown peak'}: ${r.unknown}`;
  const part = (p: number | null, floor: number | null, measured: number | null) => (p === null ? `floor ${fmtMs(floor)}` : `${pct(p)} (${fmtMs(floor)} of ${fmtMs(measured)})`);
  return `TTFT ${part(r.ttftPctOfFloor, r.ttftFloorMs, r.ttftP50Ms).replace(/^([\d.]+%)/, '$1 of floor')} · TPOT ${part(r.tpotPctOfFloor, r.tpotFloorMs, r.tpotP50Ms)} · ${r.peak ? `${r.peak.entry}${r.gpusPerReplica > 1 ? ` x${r.gpusPerReplica}` : ''}` : ''}`;
}
