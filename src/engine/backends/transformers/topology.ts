// GPU topology of the transformers backend (DESIGN.md §4): which GPUs are visible (an injected list, else
// nvidia-smi restricted by this process's CUDA_VISIBLE_DEVICES, else what torch counts), how many replicas
// `replicas: "auto"` means, and which group of GPUs each replica owns: replica r gets visible GPUs
// [r*g .. r*g+g-1]. Every refusal names the numbers, before anything is loaded. Pure except visibleGpus().
import type { NvidiaSmiProbeResult } from '../../../telemetry/gpu-probe.js';
import { TopologyError, visibleFromNvidiaSmi, type GpuId, type VisibleGpus } from '../../gpu-env.js';

// Moved to src/engine/gpu-env.ts (the onnx backend's CUDA execution provider needs them too); re-exported here.
export { cudaChildEnv, formatGpuList, parseCudaVisibleDevices, TopologyError, visibleFromNvidiaSmi, type GpuId, type VisibleGpus } from '../../gpu-env.js';

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

