// Groups nvidia-smi rows into ticks (one GpuTelemetrySample per loop iteration) and tracks GPUs that go
// missing, get lost or come back. Pure: no timers and no clock; the sampler feeds it rows with their receipt
// time and calls flush() after a quiet gap. Kept apart from process I/O so the grouping rules are tested
// on recorded output without spawning anything.
//
// Tick boundaries, in order of preference:
// 1. every GPU known to the run has a row in the pending tick -> it is complete (the normal case, no delay);
// 2. a row whose index is not above the last row's index starts a new tick (nvidia-smi prints rows in index
//    order once per loop, so a repeat or a step back can only be the next loop);
// 3. the caller's quiet-gap timer calls flush() (needed when a GPU has stopped printing rows, since rule 1
//    then never fires and rule 2 only fires one interval late).
import { normalizePciBusId } from './parse-nvidia-smi.js';
import type { GpuInfo, GpuSample, GpuTelemetrySample, TelemetryProblem } from './types.js';

export type KnownGpu = Pick<GpuInfo, 'index' | 'uuid' | 'name'> & { pciBusId?: string | null };

export interface AssembledTick {
  sample: GpuTelemetrySample;
  /** State changes noticed in this tick (GPU went missing, was lost, came back). */
  problems: TelemetryProblem[];
}

function gpuLabel(g: { index: number; name: string | null }): string {
  return g.name ? `GPU ${g.index} (${g.name})` : `GPU ${g.index}`;
}

export class GpuTickAssembler {
  private readonly known = new Map<number, KnownGpu>();
  private readonly byBusId = new Map<string, number>();
  private pendingRows = new Map<number, GpuSample>();
  private pendingAtMs = 0;
  private lastIndex = -1;
  /** Known GPUs that printed no row in the last tick. */
  private readonly absent = new Set<number>();
  /** GPUs nvidia-smi has called lost (until they report normally again). */
  private readonly lost = new Set<number>();
  private readonly reportedDeviceErrors = new Set<string>();

  /** `known`: the GPUs from the environment probe, so a GPU absent from the very first tick is still noticed. */
  constructor(known: readonly KnownGpu[] = []) {
    for (const g of known) this.remember(g);
  }

  /** True while rows of an unfinished tick are held (the caller then arms its quiet-gap timer). */
  get hasPending(): boolean {
    return this.pendingRows.size > 0;
  }

  /** Indices of every GPU seen so far or named by the probe, ascending. */
  knownIndices(): number[] {
    return [...this.known.keys()].sort((a, b) => a - b);
  }

  /** Adds one row received at `atMs`; returns the ticks it closed (0, 1, or 2 when it both ends one and completes another). */
  addRow(gpu: GpuSample, atMs: number): AssembledTick[] {
    const out: AssembledTick[] = [];
    if (this.pendingRows.size > 0 && gpu.index <= this.lastIndex) {
      const prev = this.flush();
      if (prev) out.push(prev);
    }
    if (this.pendingRows.size === 0) this.pendingAtMs = atMs;
    this.pendingRows.set(gpu.index, gpu);
    this.lastIndex = gpu.index;
    // A GPU first seen now joins `known` when its tick closes: joining earlier would make the first tick
    // "complete" after its first row.
    if (this.known.has(gpu.index) && gpu.state === 'ok') this.refresh(gpu);
    if (this.isComplete()) {
      const done = this.flush();
      if (done) out.push(done);
    }
    return out;
  }

  /**
   * Handles "Unable to determine the device handle for GPU <bus id>: <reason>". Maps the bus id to a known
   * GPU where it can (the probe records bus ids) so later ticks show that GPU as lost rather than missing.
   * Each distinct message is reported once: nvidia-smi repeats it every tick.
   */
  deviceError(pciBusId: string, reason: string, lost: boolean, atMs: number): TelemetryProblem[] {
    const index = this.byBusId.get(normalizePciBusId(pciBusId));
    const key = `${normalizePciBusId(pciBusId)}|${reason}`;
    if (index !== undefined && lost) return this.markLost(index, atMs, `nvidia-smi: ${reason || 'GPU is lost'}`);
    if (this.reportedDeviceErrors.has(key)) return [];
    this.reportedDeviceErrors.add(key);
    const who = index !== undefined ? gpuLabel(this.known.get(index)!) : `GPU at PCI ${pciBusId}`;
    return [
      {
        atMs,
        source: 'nvidia-smi',
        kind: lost ? 'gpu-lost' : 'parse',
        level: lost ? 'error' : 'warn',
        message: `${who} cannot be read: ${reason || 'unknown error'}`,
        ...(index !== undefined ? { gpuIndex: index } : {}),
      },
    ];
  }

  /** Closes the pending tick, if any (quiet gap, or the stream ended). */
  flush(): AssembledTick | null {
    if (this.pendingRows.size === 0) return null;
    const rows = this.pendingRows;
    const atMs = this.pendingAtMs;
    this.pendingRows = new Map();
    this.lastIndex = -1;
    for (const row of rows.values()) if (!this.known.has(row.index)) this.remember(row);
    const problems: TelemetryProblem[] = [];
    const gpus: GpuSample[] = [];
    for (const index of this.knownIndices()) {
      const row = rows.get(index);
      const k = this.known.get(index)!;
      if (row === undefined) {
        if (!this.absent.has(index) && !this.lost.has(index)) {
          problems.push({
            atMs,
            source: 'nvidia-smi',
            kind: 'gpu-missing',
            level: 'warn',
            message: `${gpuLabel(k)} stopped reporting; its telemetry is marked missing`,
            gpuIndex: index,
          });
        }
        this.absent.add(index);
        gpus.push(this.placeholder(k, this.lost.has(index) ? 'lost' : 'missing'));
        continue;
      }
      if (row.state === 'lost') {
        problems.push(...this.markLost(index, atMs, 'nvidia-smi reports [GPU is lost]'));
        this.absent.delete(index);
        // A lost row carries no identity of its own; keep the one we knew.
        gpus.push({ ...row, uuid: row.uuid ?? k.uuid, name: row.name ?? k.name });
        continue;
      }
      if (this.absent.has(index) || this.lost.has(index)) {
        problems.push({
          atMs,
          source: 'nvidia-smi',
          kind: 'gpu-back',
          level: 'info',
          message: `${gpuLabel(k)} is reporting again`,
          gpuIndex: index,
        });
      }
      this.absent.delete(index);
      this.lost.delete(index);
      gpus.push(row);
    }
    return { sample: { atMs, source: 'nvidia-smi', gpus }, problems };
  }

  private isComplete(): boolean {
    if (this.known.size === 0) return false;
    for (const index of this.known.keys()) if (!this.pendingRows.has(index)) return false;
    return true;
  }

  private markLost(index: number, atMs: number, why: string): TelemetryProblem[] {
    if (this.lost.has(index)) return [];
    this.lost.add(index);
    const k = this.known.get(index) ?? { index, name: null };
    return [
      {
        atMs,
        source: 'nvidia-smi',
        kind: 'gpu-lost',
        level: 'error',
        message: `${gpuLabel(k)} is lost (${why}); the run goes on without its telemetry`,
        gpuIndex: index,
      },
    ];
  }

  private placeholder(k: KnownGpu, state: 'lost' | 'missing'): GpuSample {
    return {
      index: k.index,
      uuid: k.uuid,
      name: k.name,
      utilPct: null,
      memUsedMiB: null,
      memTotalMiB: null,
      powerW: null,
      tempC: null,
      smClockMHz: null,
      state,
    };
  }

  private remember(g: KnownGpu): void {
    this.known.set(g.index, { index: g.index, uuid: g.uuid, name: g.name, pciBusId: g.pciBusId ?? null });
    if (g.pciBusId) this.byBusId.set(normalizePciBusId(g.pciBusId), g.index);
  }

  /** Fills in identity the probe lacked (null uuid or name) from a healthy row. */
  private refresh(gpu: GpuSample): void {
    const k = this.known.get(gpu.index)!;
    if ((k.uuid === null && gpu.uuid !== null) || (k.name === null && gpu.name !== null)) {
      this.known.set(gpu.index, { ...k, uuid: k.uuid ?? gpu.uuid, name: k.name ?? gpu.name });
    }
  }
}
