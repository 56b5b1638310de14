// Which GPUs a CUDA process of gemma-bench may use, shared by the backends that run on local GPUs (transformers'
// Python workers, the onnx backend's CUDA execution provider): CUDA_VISIBLE_DEVICES as CUDA reads it, nvidia-smi's
// GPUs restricted and ordered by it, and the environment that makes CUDA ordinals follow nvidia-smi's order
// (CUDA_DEVICE_ORDER=PCI_BUS_ID; CUDA's default orders by speed), so telemetry rows are the GPUs that did the work.
// Pure.
import type { GpuInfo } from '../telemetry/types.js';

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

/**
 * Environment for a child that must see only `gpus` (a replica's GPU group): CUDA_DEVICE_ORDER=PCI_BUS_ID so
 * CUDA ordinals follow nvidia-smi's PCI order (CUDA's default orders by speed), and CUDA_VISIBLE_DEVICES
 * set to the group. Entries are nvidia-smi indices or GPU UUIDs (`GPU-...`); an empty group hides every GPU.
 */
export function cudaChildEnv(gpus: readonly (number | string)[], base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  for (const g of gpus) {
    const ok = typeof g === 'number' ? Number.isInteger(g) && g >= 0 : UUID_RE.test(g);
    if (!ok) throw new RangeError(`not a GPU index or UUID: ${JSON.stringify(g)}`);
  }
  return { ...base, CUDA_DEVICE_ORDER: 'PCI_BUS_ID', CUDA_VISIBLE_DEVICES: gpus.map(String).join(',') };
}

/** The value CUDA_DEVICE_ORDER must have for CUDA ordinals to follow nvidia-smi's indices. */
export const PCI_BUS_ID = 'PCI_BUS_ID';
