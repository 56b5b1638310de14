// The telemetry panel: one row per GPU (utilisation, memory used/total, power, temperature, with bars), grouped
// under the replica that owns it; GPUs no replica owns come last. Without GPUs the same panel shows per-core CPU
// utilisation and the process's memory, labelled as CPU. Pure view over DashboardState.
import { Box, Text } from 'ink';
import { groupGpusByReplica } from '../../telemetry/summary.js';
import type { GpuSample } from '../../telemetry/types.js';
import { bar, fit, fitRight, gibCell, pctCell } from '../cells.js';
import { replicaOfGpu, type ReplicaView, type TelemetryView } from '../state.js';

/** Cores drawn before the rest are summarised as "… N more". */
export const CPU_CORES_SHOWN_MAX = 48;
const CPU_CELL_BAR_CHARS = 6;
const CPU_CELLS_PER_LINE = 5;
const GPU_BAR_CHARS = 10;

type Props = {
  readonly telemetry: TelemetryView | null;
  readonly replicas: readonly ReplicaView[];
  /** Why the panel shows CPUs (the engine's telemetry-started fallbackReason). */
  readonly note: string | null;
  /** False when the run was started with telemetry off. */
  readonly waiting?: boolean;
};

export function TelemetryPanel({ telemetry, replicas, note, waiting = true }: Props) {
  if (!telemetry) {
    return (
      <Box flexDirection="column">
        <Text bold>Telemetry</Text>
        <Text dimColor>  {waiting ? 'waiting for the first sample…' : 'off'}</Text>
      </Box>
    );
  }
  return telemetry.kind === 'gpu' ? <GpuTable gpus={telemetry.gpus} replicas={replicas} /> : <CpuGrid view={telemetry} note={note} />;
}

export const GPU_HEADER = `  ${fit('GPU', 4)}${fit('name', 18)}${fit('util (%)', 16)}${fit('memory used/total (GiB)', 27)}${fitRight('power (W)', 10)}${fitRight('temp (°C)', 11)}`;

export function gpuLine(g: GpuSample): string {
  const name = fit(g.name ?? '-', 17) + ' ';
  if (g.state !== 'ok') return `  ${fit(String(g.index), 4)}${name}${g.state === 'lost' ? 'LOST (nvidia-smi says the GPU is lost)' : 'missing (no reading this tick)'}`;
  const util = `${bar(g.utilPct === null ? null : g.utilPct / 100, GPU_BAR_CHARS)} ${fitRight(g.utilPct === null ? '-' : String(Math.round(g.utilPct)), 4)} `;
  const memFrac = g.memUsedMiB !== null && g.memTotalMiB ? g.memUsedMiB / g.memTotalMiB : null;
  const mem = `${bar(memFrac, GPU_BAR_CHARS)} ${fit(`${gibCell(g.memUsedMiB)}/${gibCell(g.memTotalMiB)}`, 15)} `;
  return `  ${fit(String(g.index), 4)}${name}${util}${mem}${fitRight(g.powerW === null ? '-' : String(Math.round(g.powerW)), 10)}${fitRight(g.tempC === null ? '-' : String(Math.round(g.tempC)), 11)}`;
}

function GpuTable({ gpus, replicas }: { readonly gpus: readonly GpuSample[]; readonly replicas: readonly ReplicaView[] }) {
  const groups = groupGpusByReplica(gpus, replicaOfGpu(replicas));
  return (
    <Box flexDirection="column">
      <Text bold>Telemetry: GPUs (nvidia-smi), grouped by replica</Text>
      <Text dimColor>{GPU_HEADER}</Text>
      {groups.map((g) => {
        const r = g.replica === null ? null : replicas.find((x) => x.replica === g.replica);
        const title =
          g.replica === null
            ? 'not in any replica of this run'
            : `replica ${g.replica}${r ? ` · ${r.devices.join(', ')}` : ''}${r?.died ? ` · DIED: ${r.died}` : ''}`;
        return (
          <Box key={g.replica ?? 'none'} flexDirection="column">
            <Text color={r?.died ? 'red' : 'cyan'}>{` ${title}`}</Text>
            {g.gpus.map((gpu) => (
              <Text key={gpu.index} color={gpu.state === 'ok' ? undefined : 'red'}>
                {gpuLine(gpu)}
              </Text>
            ))}
          </Box>
        );
      })}
    </Box>
  );
}

function CpuGrid({ view, note }: { readonly view: Extract<TelemetryView, { kind: 'cpu' }>; readonly note: string | null }) {
  const s = view.sample;
  const shown = s.cpus.slice(0, CPU_CORES_SHOWN_MAX);
  const cells = shown.map((c) => `cpu${fit(String(c.core), 3)}${bar(c.utilPct === null ? null : c.utilPct / 100, CPU_CELL_BAR_CHARS)} ${fitRight(c.utilPct === null ? '-' : String(Math.round(c.utilPct)), 3)}`);
  const lines: string[] = [];
  for (let i = 0; i < cells.length; i += CPU_CELLS_PER_LINE) lines.push(`  ${cells.slice(i, i + CPU_CELLS_PER_LINE).join('   ')}`);
  const more = s.cpus.length - shown.length;
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>Telemetry: CPU</Text>
        <Text dimColor> (no GPU telemetry{note ? `: ${note}` : ''})</Text>
      </Text>
      <Text>
        {'  '}all cores {pctCell(s.utilPct)} % · process memory (RSS) {gibCell(s.processRssMiB)} GiB · system memory {gibCell(s.memUsedMiB)}/
        {gibCell(s.memTotalMiB)} GiB
      </Text>
      <Text dimColor>  per-core utilisation (%)</Text>
      {lines.map((l, i) => (
        <Text key={i}>{l}</Text>
      ))}
      {more > 0 ? <Text dimColor>  … {more} more cores</Text> : null}
    </Box>
  );
}
