// Telemetry entry point for the engine: probe nvidia-smi once, then run the GPU sampler, or the CPU sampler
// when there is no usable nvidia-smi (not installed, no driver, no GPUs, hung, or the user asked for CPU).
// The reason for a fallback is always reported through onProblem, so the UI can say why it shows CPUs.
import { nowMs } from '../util/clock.js';
import { startCpuSampler } from './cpu-sampler.js';
import { DEFAULT_NVIDIA_SMI_PATH, NVIDIA_SMI_PROBE_TIMEOUT_MS, probeNvidiaSmi } from './gpu-probe.js';
import {
  NvidiaSmiSpawnError,
  startNvidiaSmiSampler,
  TELEMETRY_INTERVAL_MS,
  TELEMETRY_MIN_INTERVAL_MS,
} from './nvidia-smi-sampler.js';
import { dcgmGpuSamples } from './dcgm.js';
import { PageSampler, type ScrapeProblem, type ScrapeTarget } from './remote-sampler.js';
import { ratesBetween, serverSample, type ServerMetricsSample } from './server-metrics.js';
import type { DcgmTelemetrySample, GpuInfo, ServerTelemetrySample, TelemetryProblem, TelemetrySample, TelemetrySource } from './types.js';

/** Pages to scrape beside the local sampler: serving endpoints' /metrics, and DCGM exporters of remote GPUs. */
export interface RemoteTargets {
  /** One per serving endpoint; `display` is the endpoint as the run names it. */
  readonly servers: readonly ScrapeTarget[];
  /** DCGM exporters, each with the endpoint (display form) whose GPUs it reports. */
  readonly dcgm: readonly { readonly target: ScrapeTarget; readonly endpoint: string }[];
  /** Scrape interval (default once a second). */
  readonly intervalMs?: number;
}

export interface TelemetryOptions {
  /** Sampling interval in ms (default TELEMETRY_INTERVAL_MS = 500, i.e. 2 samples/s). */
  intervalMs?: number;
  /** nvidia-smi binary (default `nvidia-smi` on PATH); tests point this at a fake. */
  nvidiaSmiPath?: string;
  onSample: (sample: TelemetrySample) => void;
  onProblem: (problem: TelemetryProblem) => void;
  /** Skip nvidia-smi and sample CPUs (e.g. the onnx backend on CPU, or a user flag). */
  preferCpu?: boolean;
  /** How long the one-shot probe may take (default NVIDIA_SMI_PROBE_TIMEOUT_MS). */
  probeTimeoutMs?: number;
  /** Extra environment variables for nvidia-smi (tests use this to steer a fake). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Remote pages to scrape too (the openai backend's endpoints). */
  remote?: RemoteTargets;
}

export interface Telemetry {
  source: TelemetrySource;
  /** The GPUs the probe found (record them in the run's environment); absent on the CPU path. */
  gpus?: GpuInfo[];
  /** Why the CPU sampler was chosen, e.g. "nvidia-smi not found (nvidia-smi)"; absent on the GPU path. */
  fallbackReason?: string;
  stop(): Promise<void>;
}

/** Starts sampling; never rejects for a missing or broken nvidia-smi (that selects the CPU sampler instead). */
export async function startTelemetry(opts: TelemetryOptions): Promise<Telemetry> {
  const remote = opts.remote ? startRemote(opts.remote, opts) : null;
  const local = await startLocal(opts);
  if (!remote) return local;
  return { ...local, stop: async () => (remote.forEach((r) => r.stop()), local.stop()) };
}

/** Scrapes the remote pages; each scrape becomes a sample (server scrapes with their rates since the last one). */
function startRemote(r: RemoteTargets, opts: TelemetryOptions): PageSampler<unknown>[] {
  const problem = (source: 'server' | 'dcgm') => (p: ScrapeProblem) => opts.onProblem({ atMs: p.atMs, source, kind: 'scrape', level: p.level, message: p.message });
  const last = new Map<string, ServerMetricsSample>();
  const servers = new PageSampler<ServerTelemetrySample>({
    targets: r.servers,
    ...(r.intervalMs ? { intervalMs: r.intervalMs } : {}),
    map: (page, t, atMs) => {
      const server = serverSample(page, t.display, atMs);
      const before = last.get(t.display);
      last.set(t.display, server);
      return { atMs, source: 'server', server, rates: before ? ratesBetween(before, server) : null };
    },
    onSample: (s) => opts.onSample(s),
    onProblem: problem('server'),
  });
  const dcgm = r.dcgm.map(
    (d) =>
      new PageSampler<DcgmTelemetrySample>({
        targets: [d.target],
        ...(r.intervalMs ? { intervalMs: r.intervalMs } : {}),
        map: (page, _t, atMs) => ({ atMs, source: 'dcgm', endpoint: d.endpoint, gpus: dcgmGpuSamples(page, d.endpoint) }),
        onSample: (s) => opts.onSample(s),
        onProblem: problem('dcgm'),
      }),
  );
  const all = [servers, ...dcgm] as PageSampler<unknown>[];
  for (const s of all) s.start();
  return all;
}

async function startLocal(opts: TelemetryOptions): Promise<Telemetry> {
  const intervalMs = opts.intervalMs ?? TELEMETRY_INTERVAL_MS;
  const path = opts.nvidiaSmiPath ?? DEFAULT_NVIDIA_SMI_PATH;
  // A bad interval is a caller bug: refuse it before probing rather than after a multi-second probe.
  if (!Number.isFinite(intervalMs) || intervalMs < TELEMETRY_MIN_INTERVAL_MS) {
    throw new RangeError(`telemetry interval must be >= ${TELEMETRY_MIN_INTERVAL_MS} ms (got ${intervalMs})`);
  }

  const cpu = (fallbackReason: string, level: TelemetryProblem['level']): Telemetry => {
    opts.onProblem({ atMs: nowMs(), source: 'cpu', kind: 'fallback', level, message: `${fallbackReason}: showing CPU utilisation` });
    const sampler = startCpuSampler({ intervalMs, onSample: opts.onSample, onProblem: opts.onProblem });
    return { source: 'cpu', fallbackReason, stop: () => sampler.stop() };
  };

  if (opts.preferCpu) return cpu('CPU telemetry requested', 'info');

  const probe = await probeNvidiaSmi({ nvidiaSmiPath: path, timeoutMs: opts.probeTimeoutMs ?? NVIDIA_SMI_PROBE_TIMEOUT_MS, env: opts.env });
  if (!probe.ok) {
    // No nvidia-smi is the normal case on a laptop; anything else means a GPU box that is not working.
    return cpu(probe.message, probe.reason === 'not-found' ? 'info' : 'warn');
  }
  for (const p of probe.problems) {
    opts.onProblem({ atMs: nowMs(), source: 'nvidia-smi', kind: 'parse', level: 'warn', message: `nvidia-smi: ${p.message}`, line: p.line });
  }
  try {
    const sampler = await startNvidiaSmiSampler({
      intervalMs,
      nvidiaSmiPath: path,
      gpus: probe.gpus,
      onSample: opts.onSample,
      onProblem: opts.onProblem,
      env: opts.env,
    });
    return { source: 'nvidia-smi', gpus: probe.gpus, stop: () => sampler.stop() };
  } catch (e) {
    // The probe worked a moment ago, so this is rare (binary removed, fd exhaustion); still never fatal.
    if (e instanceof NvidiaSmiSpawnError) return cpu(e.message, 'warn');
    throw e;
  }
}
