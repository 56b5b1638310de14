// The few phrases every presenter shows about a run, written once: its pan-and-scan settings, its load mode, local
// date-times, and peak GPU memory. Used by the CLI's tables, the exports and the screens so they say the same thing. Pure.
import type { GpuPeakMemory, ReplicaSummary } from '../engine/types.js';
import type { PanScanOptions } from '../panscan/types.js';

type PanScanLike = ({ readonly enabled?: boolean } & PanScanOptions) | null | undefined;

const on = (ps: PanScanLike): ps is PanScanOptions => ps !== null && ps !== undefined && ps.enabled !== false;

/**
 * Pan-and-scan settings in words. `short` for a status line ("p&s ratio≥2 ≤6 crops ≥448px"), `long` for reports
 * ("on: min ratio 2, max crops 6, min crop size 448 px"). A preset's block (with `enabled`) or resolved options.
 */
export function panScanText(ps: PanScanLike, style: 'short' | 'long'): string {
  if (style === 'short') return on(ps) ? `p&s ratio≥${ps.minRatioToActivate} ≤${ps.maxNumCrops} crops ≥${ps.minCropSize}px` : 'p&s off';
  return on(ps) ? `on: min ratio ${ps.minRatioToActivate}, max crops ${ps.maxNumCrops}, min crop size ${ps.minCropSize} px` : 'off';
}

export interface LoadLike {
  readonly concurrency: number | null;
  readonly rateRps: number | null;
}

/** The load mode in words: `short` "conc 2" / "2 req/s", `long` "closed loop, concurrency 2" / "open loop, 2 req/s (Poisson)". */
export function loadText(l: LoadLike, style: 'short' | 'long'): string {
  if (l.rateRps !== null) return style === 'short' ? `${l.rateRps} req/s` : `open loop, ${l.rateRps} req/s (Poisson)`;
  return style === 'short' ? `conc ${l.concurrency ?? '-'}` : `closed loop, concurrency ${l.concurrency ?? '-'}`;
}

const p2 = (n: number) => String(n).padStart(2, '0');

/** A local date-time from an ISO string: `full` "2026-11-25 14:28", `short` "11-25 14:28" (the string itself if unparseable). */
export function localTime(iso: string, style: 'full' | 'short' = 'full'): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const day = `${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}`;
  return style === 'short' ? day : `${d.getFullYear()}-${day}`;
}

/** What the peak memory figures are, said once wherever they are shown. */
export const PEAK_MEMORY_EXPLAINED = 'torch max_memory_allocated (reserved), reset before each micro-batch; the highest batch of the run';

const gib = (mib: number): string => (mib / 1024).toFixed(1);

/** One GPU's peak: `GPU 2 27.2 GiB (reserved 28.8)`. */
export function peakMemoryText(p: GpuPeakMemory): string {
  const name = /^\d+$/.test(p.gpu) ? `GPU ${p.gpu}` : p.gpu;
  return `${name} ${gib(p.allocatedMiB)} GiB${p.reservedMiB !== null ? ` (reserved ${gib(p.reservedMiB)})` : ''}`;
}

/** `replica 0: GPU 0 27.2 GiB (reserved 28.8), GPU 1 ...` per replica that reported peaks; none when none did. */
export function peakMemoryLines(perReplica: readonly ReplicaSummary[]): string[] {
  return perReplica.filter((r) => r.peakMemory && r.peakMemory.length > 0).map((r) => `replica ${r.replica}: ${r.peakMemory!.map(peakMemoryText).join(', ')}`);
}
