// The one-shot GPU probe: which GPUs this machine has (nvidia-smi's index, UUID, name, memory, driver), or why
// none can be seen (not installed, no driver, no devices, hung). The telemetry layer picks its sampler with it and
// backends check a topology against it before anything loads. Never rejects: a failure is a reason and a message.
import { spawn, type ChildProcess } from 'node:child_process';
import { nvidiaSmiInfoArgs, nvidiaSmiMigArgs, parseNvidiaSmiCudaVersion, parseNvidiaSmiInfo, parseNvidiaSmiMig } from './parse-nvidia-smi.js';
import type { GpuInfo, ParseProblem } from './types.js';
import { signalChild } from '../util/signal-child.js';

/** A cold nvidia-smi on a many-GPU box without persistence mode can take seconds to initialise every GPU. */
export const NVIDIA_SMI_PROBE_TIMEOUT_MS = 10_000;
export const DEFAULT_NVIDIA_SMI_PATH = 'nvidia-smi';

/** The environment nvidia-smi itself runs with (PCI order is its only order; set for symmetry with replicas). */
export function nvidiaSmiEnv(extra: Readonly<Record<string, string | undefined>> | undefined): NodeJS.ProcessEnv {
  return { ...process.env, ...extra, CUDA_DEVICE_ORDER: 'PCI_BUS_ID' };
}

export type NvidiaSmiProbeFailure = 'not-found' | 'not-executable' | 'timeout' | 'failed' | 'no-gpus';

export type NvidiaSmiProbeResult =
  | { ok: true; gpus: GpuInfo[]; problems: ParseProblem[] }
  | { ok: false; reason: NvidiaSmiProbeFailure; message: string };

export interface NvidiaSmiProbeOptions {
  nvidiaSmiPath?: string;
  timeoutMs?: number;
  /** Extra environment variables for nvidia-smi (tests use this to steer a fake). */
  env?: Readonly<Record<string, string | undefined>>;
}

function firstMeaningfulLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}

/** Runs the one-shot environment query. Never rejects: every failure is a reason plus a message for the user. */
export function probeNvidiaSmi(opts: NvidiaSmiProbeOptions = {}): Promise<NvidiaSmiProbeResult> {
  const path = opts.nvidiaSmiPath ?? DEFAULT_NVIDIA_SMI_PATH;
  const timeoutMs = opts.timeoutMs ?? NVIDIA_SMI_PROBE_TIMEOUT_MS;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: NvidiaSmiProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    let child: ChildProcess;
    try {
      child = spawn(path, nvidiaSmiInfoArgs(), { env: nvidiaSmiEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      finish({ ok: false, reason: 'failed', message: `nvidia-smi could not be started (${path}): ${(e as Error).message}` });
      return;
    }
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // A wedged driver can leave nvidia-smi in uninterruptible sleep: give up on it without waiting for its exit.
    const timer = setTimeout(() => {
      signalChild(child, 'SIGKILL');
      child.unref();
      finish({ ok: false, reason: 'timeout', message: `nvidia-smi did not answer within ${timeoutMs} ms (${path})` });
    }, timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') finish({ ok: false, reason: 'not-found', message: `nvidia-smi not found (${path})` });
      else if (e.code === 'EACCES') finish({ ok: false, reason: 'not-executable', message: `nvidia-smi is not executable (${path})` });
      else finish({ ok: false, reason: 'failed', message: `nvidia-smi could not be started (${path}): ${e.message}` });
    });
    child.on('close', (code, signal) => {
      if (code !== 0) {
        // The driver's own explanation ("NVIDIA-SMI has failed because it couldn't communicate with the
        // NVIDIA driver", "No devices were found") goes to stdout, not stderr.
        const said = firstMeaningfulLine(stderr) || firstMeaningfulLine(stdout);
        const how = signal ? `signal ${signal}` : `exit ${code}`;
        const reason: NvidiaSmiProbeFailure = /no devices were found/i.test(said) ? 'no-gpus' : 'failed';
        finish({ ok: false, reason, message: `nvidia-smi failed (${how})${said ? `: ${said}` : ''}` });
        return;
      }
      const { gpus, problems } = parseNvidiaSmiInfo(stdout);
      if (gpus.length === 0) {
        const said = problems[0]?.line ?? firstMeaningfulLine(stdout);
        finish({ ok: false, reason: 'no-gpus', message: `nvidia-smi listed no GPUs${said ? `: ${said}` : ''}` });
        return;
      }
      finish({ ok: true, gpus, problems });
    });
  });
}


/** What `gemma-bench doctor` adds to the probe: each GPU's MIG mode and the driver's CUDA version. */
export interface NvidiaSmiDetails {
  /** nvidia-smi index -> "Enabled" | "Disabled" | null (no MIG on this GPU, or the query failed). */
  readonly mig: ReadonlyMap<number, string | null>;
  /** The highest CUDA version the driver supports (nvidia-smi's banner), or null. */
  readonly cudaVersion: string | null;
}

/** Runs nvidia-smi once with `args`; its stdout, or null if it could not run, failed or hung. Never rejects. */
function runNvidiaSmiOnce(args: readonly string[], opts: NvidiaSmiProbeOptions): Promise<string | null> {
  const path = opts.nvidiaSmiPath ?? DEFAULT_NVIDIA_SMI_PATH;
  const timeoutMs = opts.timeoutMs ?? NVIDIA_SMI_PROBE_TIMEOUT_MS;
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(path, [...args], { env: nvidiaSmiEnv(opts.env), stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      resolve(null);
      return;
    }
    let out = '';
    const timer = setTimeout(() => {
      signalChild(child, 'SIGKILL');
      child.unref();
      resolve(null);
    }, timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? out : null);
    });
  });
}

/** MIG modes and the CUDA version (two more nvidia-smi calls); call after a successful probeNvidiaSmi. */
export async function probeNvidiaSmiDetails(opts: NvidiaSmiProbeOptions = {}): Promise<NvidiaSmiDetails> {
  const [mig, banner] = await Promise.all([runNvidiaSmiOnce(nvidiaSmiMigArgs(), opts), runNvidiaSmiOnce([], opts)]);
  return { mig: mig === null ? new Map() : parseNvidiaSmiMig(mig), cudaVersion: banner === null ? null : parseNvidiaSmiCudaVersion(banner) };
}
