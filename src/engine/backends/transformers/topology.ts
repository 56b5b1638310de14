// GPU topology of the transformers backend (DESIGN.md §4): which GPUs are visible (an injected list, else
// nvidia-smi restricted by this process's CUDA_VISIBLE_DEVICES, else what torch counts), how many replicas
// `replicas: "auto"` means, and which group of GPUs each replica owns: replica r gets visible GPUs
// [r*g .. r*g+g-1]. Every refusal names the numbers, before anything is loaded. Pure except visibleGpus().
import type { NvidiaSmiProbeResult } from '../../../telemetry/gpu-probe.js';
import type { GpuInfo } from '../../../telemetry/types.js';

/** An nvidia-smi index, or a GPU/MIG UUID as CUDA_VISIBLE_DEVICES may name it. */
export type GpuId = number | string;

export class TopologyError extends Error {
  override name = 'TopologyError';
}

export interface VisibleGpus {
  /** What goes into each replica's CUDA_VISIBLE_DEVICES, in assignment order. */
  readonly ids: readonly GpuId[];
  /** nvidia-smi index of each id where known (telemetry grouping); null for an unresolved UUID. */
  readonly indices: readonly (number | null)[];
  /** Where the list came from, for messages: "nvidia-smi lists GPUs 0-7", ... */
  readonly detail: string;
}

const UUID_RE = /^(GPU|MIG)-[0-9A-Za-z-]+$/;

/**
 * CUDA_VISIBLE_DEVICES as CUDA reads it: null when unset; entries up to the first invalid one (CUDA ignores the
 * rest from there, so "0,1,-1,2" means 0 and 1 and "" or "-1" means none).
 */
export function parseCudaVisibleDevices(value: string | undefined): GpuId[] | null {
  if (value === undefined) return null;
  const out: GpuId[] = [];
  for (const raw of value.split(',')) {
    const s = raw.trim();
    if (/^\d+$/.test(s)) out.push(Number(s));
    else if (UUID_RE.test(s)) out.push(s);
    else break;
  }
  return out;
}

/** [0,1,2,5] -> "0-2, 5". */
export function formatGpuList(ids: readonly GpuId[]): string {
  if (ids.length === 0) return 'none';
  if (!ids.every((x): x is number => typeof x === 'number')) return ids.join(', ');
  const s = [...ids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    parts.push(i === j ? String(s[i]) : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** nvidia-smi's GPUs, restricted (and ordered) by CUDA_VISIBLE_DEVICES when this process has it set. */
export function visibleFromNvidiaSmi(gpus: readonly GpuInfo[], cudaVisible: readonly GpuId[] | null): VisibleGpus {
  const all = gpus.map((g) => g.index);
  if (cudaVisible === null) return { ids: all, indices: all, detail: `nvidia-smi lists GPU${all.length === 1 ? '' : 's'} ${formatGpuList(all)}` };
  const indices: number[] = [];
  for (const id of cudaVisible) {
    const g = typeof id === 'number' ? gpus.find((x) => x.index === id) : gpus.find((x) => x.uuid === id || (x.uuid !== null && id.startsWith('GPU-') && x.uuid.startsWith(id)));
    if (!g) {
      throw new TopologyError(
        `CUDA_VISIBLE_DEVICES names GPU ${id}, which nvidia-smi does not list (it lists ${formatGpuList(all)}): fix or unset CUDA_VISIBLE_DEVICES`,
      );
    }
    indices.push(g.index);
  }
  return { ids: indices, indices, detail: `CUDA_VISIBLE_DEVICES=${cudaVisible.join(',')} leaves GPU${indices.length === 1 ? '' : 's'} ${formatGpuList(indices)} of the ${all.length} nvidia-smi lists` };
}

/** When nvidia-smi cannot answer: torch's device count (under CUDA_VISIBLE_DEVICES when set). */
export function visibleFromTorch(deviceCount: number, cudaVisible: readonly GpuId[] | null, smiProblem: string): VisibleGpus {
  const ids: GpuId[] = cudaVisible === null ? Array.from({ length: deviceCount }, (_, i) => i) : cudaVisible.slice(0, deviceCount);
  return {
    ids,
    indices: ids.map((x) => (typeof x === 'number' ? x : null)),
    detail: `torch sees ${deviceCount} CUDA device${deviceCount === 1 ? '' : 's'}${cudaVisible === null ? '' : ` under CUDA_VISIBLE_DEVICES=${cudaVisible.join(',')}`}; ${smiProblem}`,
  };
}

/** Combines the two probes: nvidia-smi gives real indices; torch is the fallback and a cross-check. */
export function resolveVisibleGpus(smi: NvidiaSmiProbeResult, torchDeviceCount: number | null, cudaVisible: readonly GpuId[] | null): VisibleGpus {
  if (smi.ok) return visibleFromNvidiaSmi(smi.gpus, cudaVisible);
  if (torchDeviceCount !== null) return visibleFromTorch(torchDeviceCount, cudaVisible, smi.message);
  return { ids: [], indices: [], detail: smi.message };
}

/** "auto" = visible GPUs / gpusPerReplica (whole replicas only). */
export function resolveReplicaCount(visible: VisibleGpus, gpusPerReplica: number, replicas: number | 'auto'): number {
  if (replicas !== 'auto') return replicas;
  const n = Math.floor(visible.ids.length / gpusPerReplica);
  if (visible.ids.length === 0) throw noGpuError(visible);
  if (n < 1) {
    throw new TopologyError(
      `replicas auto needs at least ${gpusPerReplica} GPUs (one replica of ${gpusPerReplica}), but only ${visible.ids.length} ${visible.ids.length === 1 ? 'is' : 'are'} visible (${visible.detail}). Lower --gpus-per-replica.`,
    );
  }
  return n;
}

function noGpuError(visible: VisibleGpus): TopologyError {
  return new TopologyError(`no GPU is visible (${visible.detail}): the transformers backend runs on CUDA GPUs. Use --backend onnx to run on the CPU.`);
}

export interface GpuGroup {
  readonly ids: readonly GpuId[];
  readonly indices: readonly number[];
}

/** Replica r gets visible GPUs [r*g .. r*g+g-1]; refuses, naming the numbers, when there are too few. */
export function assignGpuGroups(visible: VisibleGpus, gpusPerReplica: number, replicas: number): GpuGroup[] {
  if (!Number.isInteger(gpusPerReplica) || gpusPerReplica < 1) throw new TopologyError(`gpus per replica must be a whole number >= 1 (got ${gpusPerReplica})`);
  if (!Number.isInteger(replicas) || replicas < 1) throw new TopologyError(`replicas must be a whole number >= 1 (got ${replicas})`);
  const have = visible.ids.length;
  if (have === 0) throw noGpuError(visible);
  const need = gpusPerReplica * replicas;
  if (need > have) {
    const fit = Math.floor(have / gpusPerReplica);
    const auto = fit >= 1 ? `, or use --replicas auto (${fit} replica${fit === 1 ? '' : 's'} of ${gpusPerReplica} GPU${gpusPerReplica === 1 ? '' : 's'} here)` : '';
    throw new TopologyError(
      `the topology needs ${gpusPerReplica} GPU${gpusPerReplica === 1 ? '' : 's'} per replica x ${replicas} replica${replicas === 1 ? '' : 's'} = ${need} GPUs, but only ${have} ${have === 1 ? 'is' : 'are'} visible (${visible.detail}). Lower --replicas or --gpus-per-replica${auto}.`,
    );
  }
  return Array.from({ length: replicas }, (_, r) => {
    const ids = visible.ids.slice(r * gpusPerReplica, (r + 1) * gpusPerReplica);
    const indices = visible.indices.slice(r * gpusPerReplica, (r + 1) * gpusPerReplica).filter((x): x is number => x !== null);
    return { ids, indices };
  });
}

/**
 * Environment for a child that must see only `gpus` (a replica's GPU group): CUDA_DEVICE_ORDER=PCI_BUS_ID so
 * CUDA ordinals follow nvidia-smi's PCI order (CUDA's default orders by speed), and CUDA_VISIBLE_DEVICES
 * set to the group. Entries are nvidia-smi indices or GPU UUIDs (`GPU-...`); an empty group hides every GPU.
 */
export function cudaChildEnv(gpus: readonly (number | string)[], base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  for (const g of gpus) {
    const ok = typeof g === 'number' ? Number.isInteger(g) && g >= 0 : /^(GPU|MIG)-[0-9A-Za-z-]+$/.test(g);
    if (!ok) throw new RangeError(`not a GPU index or UUID: ${JSON.stringify(g)}`);
  }
  return { ...base, CUDA_DEVICE_ORDER: 'PCI_BUS_ID', CUDA_VISIBLE_DEVICES: gpus.map(String).join(',') };
}
