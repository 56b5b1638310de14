// Pure: a DCGM exporter page (NVIDIA/dcgm-exporter, port 9400 by default) into per-GPU samples shaped like the
// local telemetry's GpuSample (src/telemetry/types.ts), plus the endpoint and host each GPU belongs to, so
// GPUs behind remote servers sit beside local ones. Fields: DCGM_FI_DEV_GPU_UTIL (%), DCGM_FI_DEV_FB_USED and
// DCGM_FI_DEV_FB_FREE (MiB; total = FB_TOTAL when exported, else used + free + FB_RESERVED when exported),
// DCGM_FI_DEV_POWER_USAGE (W), DCGM_FI_DEV_GPU_TEMP (C), DCGM_FI_DEV_SM_CLOCK (MHz). Labels: gpu (index), UUID
// (the label name is configurable in the exporter; `uuid` is accepted too), modelName, and the host as `Hostname`
// (older exporters) or `hostname` (internal/pkg/rendermetrics/render_metrics.go in current ones).
// MIG: rows carrying GPU_I_ID describe one GPU instance; a GPU's framebuffer is the sum over its instances when no
// whole-GPU row exists, the other fields come from a whole-GPU row when there is one, else the first instance row.
import type { GpuSample } from './types.js';
import type { PromPage, PromSample } from './prometheus.js';

export interface RemoteGpuSample extends GpuSample {
  /** The exporter URL the GPU was read from (display form). */
  readonly endpoint: string;
  /** The exporter's Hostname label; null when it does not send one. */
  readonly host: string | null;
  /** The GPU instances (MIG) seen for this GPU; 0 without MIG. */
  readonly migInstances: number;
}

export const DCGM_FIELDS = {
  util: 'DCGM_FI_DEV_GPU_UTIL',
  fbUsed: 'DCGM_FI_DEV_FB_USED',
  fbFree: 'DCGM_FI_DEV_FB_FREE',
  fbTotal: 'DCGM_FI_DEV_FB_TOTAL',
  fbReserved: 'DCGM_FI_DEV_FB_RESERVED',
  power: 'DCGM_FI_DEV_POWER_USAGE',
  temp: 'DCGM_FI_DEV_GPU_TEMP',
  smClock: 'DCGM_FI_DEV_SM_CLOCK',
} as const;

type Field = keyof typeof DCGM_FIELDS;
const FIELD_OF_NAME = new Map<string, Field>(Object.entries(DCGM_FIELDS).map(([k, v]) => [v, k as Field]));

interface GpuRows {
  index: number;
  uuid: string | null;
  name: string | null;
  host: string | null;
  instances: Set<string>;
  whole: Partial<Record<Field, number>>;
  perInstance: Partial<Record<Field, number[]>>;
}

const hostOf = (s: PromSample) => s.labels.Hostname ?? s.labels.hostname ?? null;
const finite = (v: number | undefined): number | null => (v === undefined || !Number.isFinite(v) ? null : v);

/** Every GPU on the page, ordered by host then index. GPUs without a `gpu` label are skipped. */
export function dcgmGpuSamples(page: PromPage, endpoint: string): RemoteGpuSample[] {
  const gpus = new Map<string, GpuRows>();
  for (const s of page.samples) {
    const field = FIELD_OF_NAME.get(s.name);
    if (!field) continue;
    const index = Number(s.labels.gpu);
    if (s.labels.gpu === undefined || !Number.isInteger(index)) continue;
    const host = hostOf(s);
    const key = `${host ?? ''}#${index}`;
    let g = gpus.get(key);
    if (!g) {
      g = { index, uuid: null, name: null, host, instances: new Set(), whole: {}, perInstance: {} };
      gpus.set(key, g);
    }
    g.uuid ??= s.labels.UUID ?? s.labels.uuid ?? null;
    g.name ??= s.labels.modelName ?? null;
    const inst = s.labels.GPU_I_ID;
    if (inst !== undefined && inst !== '') {
      g.instances.add(inst);
      (g.perInstance[field] ??= []).push(s.value);
    } else if (g.whole[field] === undefined) {
      g.whole[field] = s.value;
    }
  }
  const out: RemoteGpuSample[] = [];
  for (const g of gpus.values()) {
    const pick = (f: Field, combine: 'sum' | 'first'): number | null => {
      if (g.whole[f] !== undefined) return finite(g.whole[f]);
      const xs = g.perInstance[f];
      if (!xs || xs.length === 0) return null;
      return finite(combine === 'sum' ? xs.reduce((a, b) => a + b, 0) : xs[0]);
    };
    const used = pick('fbUsed', 'sum');
    const free = pick('fbFree', 'sum');
    const reserved = pick('fbReserved', 'sum');
    const total = pick('fbTotal', 'sum') ?? (used !== null && free !== null ? used + free + (reserved ?? 0) : null);
    out.push({
      index: g.index,
      uuid: g.uuid,
      name: g.name,
      utilPct: pick('util', 'first'),
      memUsedMiB: used,
      memTotalMiB: total,
      powerW: pick('power', 'first'),
      tempC: pick('temp', 'first'),
      smClockMHz: pick('smClock', 'first'),
      state: 'ok',
      endpoint,
      host: g.host,
      migInstances: g.instances.size,
    });
  }
  return out.sort((a, b) => (a.host ?? '').localeCompare(b.host ?? '') || a.index - b.index);
}
