// nvidia-smi's long-lived sampling loop (ONE child running `nvidia-smi --query-gpu=... -lms N`, read line by
// line). The one-shot GPU probe is gpu-probe.ts; parsing and tick grouping live in parse-nvidia-smi.ts and
// tick-assembler.ts; this file only moves bytes, timers and processes.
//
// One long-lived loop rather than a spawn per sample: starting nvidia-smi costs tens to hundreds of ms of CPU
// (NVML init, per-GPU handle setup), which at 2 samples/s on a 10-GPU box would itself perturb the benchmark.
import { spawn } from 'node:child_process';
import { nowMs } from '../util/clock.js';
import { createInterface } from 'node:readline';
import { DEFAULT_NVIDIA_SMI_PATH, nvidiaSmiEnv } from './gpu-probe.js';
import { nvidiaSmiSampleArgs, parseNvidiaSmiSampleLine } from './parse-nvidia-smi.js';
import { GpuTickAssembler, type AssembledTick } from './tick-assembler.js';
import type { GpuInfo, GpuTelemetrySample, ParseProblem, TelemetryProblem } from './types.js';
import { signalChild } from '../util/signal-child.js';

/** Default sampling interval: 2 samples/s, as the live view promises. */
export const TELEMETRY_INTERVAL_MS = 500;
/** Below this nvidia-smi's own cost and NVML's averaging window (1/6 s to 1 s) make samples meaningless. */
export const TELEMETRY_MIN_INTERVAL_MS = 50;
/** After SIGTERM, how long stop() waits before SIGKILL. */
export const NVIDIA_SMI_STOP_GRACE_MS = 2_000;
/** Parse problems reported per sampler before the rest are summarised as suppressed (garbage repeats every tick). */
export const MAX_REPORTED_PARSE_PROBLEMS = 20;
/** After the child exits, how long to wait for the rest of its output. */
const OUTPUT_DRAIN_MS = 1_000;
/** stderr lines kept to explain an unexpected exit. */
const STDERR_TAIL_LINES = 5;

/** Quiet gap after the last row before a tick with missing GPUs is closed: well inside one interval. */
export function tickQuietGapMs(intervalMs: number): number {
  return Math.min(250, Math.max(20, Math.round(intervalMs / 4)));
}

function validateInterval(intervalMs: number): void {
  if (!Number.isFinite(intervalMs) || intervalMs < TELEMETRY_MIN_INTERVAL_MS) {
    throw new RangeError(`telemetry interval must be >= ${TELEMETRY_MIN_INTERVAL_MS} ms (got ${intervalMs})`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Sampler

/** nvidia-smi could not be started at all (ENOENT, EACCES, ...): the caller falls back to the CPU sampler. */
export class NvidiaSmiSpawnError extends Error {
  override name = 'NvidiaSmiSpawnError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export interface NvidiaSmiSamplerOptions {
  intervalMs?: number;
  nvidiaSmiPath?: string;
  /** GPUs from the probe: lets the sampler notice a GPU absent from the first tick and map bus ids to indices. */
  gpus?: readonly GpuInfo[];
  onSample: (sample: GpuTelemetrySample) => void;
  onProblem?: (problem: TelemetryProblem) => void;
  /** Extra environment variables for nvidia-smi (tests use this to steer a fake). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Override the quiet gap that closes a tick with missing rows (default tickQuietGapMs(intervalMs)). */
  quietGapMs?: number;
}

export interface NvidiaSmiSampler {
  readonly pid: number | undefined;
  /** Resolves once the child has exited and its output has been consumed, whatever the reason. */
  readonly done: Promise<void>;
  /** Kills the child and resolves when it has exited. No samples are delivered after stop() is called. */
  stop(): Promise<void>;
}

/**
 * Starts the sampling loop. Resolves once the child is running; rejects with NvidiaSmiSpawnError if it cannot
 * be started. Later failures (nvidia-smi exiting, garbage, lost GPUs) are reported through onProblem and
 * never thrown.
 */
export function startNvidiaSmiSampler(opts: NvidiaSmiSamplerOptions): Promise<NvidiaSmiSampler> {
  const intervalMs = opts.intervalMs ?? TELEMETRY_INTERVAL_MS;
  validateInterval(intervalMs);
  const path = opts.nvidiaSmiPath ?? DEFAULT_NVIDIA_SMI_PATH;
  const quietGapMs = opts.quietGapMs ?? tickQuietGapMs(intervalMs);
  const report = (p: TelemetryProblem): void => opts.onProblem?.(p);

  return new Promise((resolveStart, rejectStart) => {
    const child = spawn(path, nvidiaSmiSampleArgs(intervalMs), {
      env: nvidiaSmiEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const assembler = new GpuTickAssembler(opts.gpus ?? []);
    let started = false;
    let stopping = false;
    let exited = false;
    let quietTimer: NodeJS.Timeout | undefined;
    let parseProblems = 0;
    const stderrTail: string[] = [];
    const reportedStderr = new Set<string>();

    const emit = (ticks: Array<AssembledTick | null>): void => {
      for (const t of ticks) {
        if (!t || stopping) continue;
        for (const p of t.problems) report(p);
        opts.onSample(t.sample);
      }
    };
    const parseProblem = (p: ParseProblem, atMs: number): void => {
      parseProblems += 1;
      if (parseProblems <= MAX_REPORTED_PARSE_PROBLEMS) {
        report({ atMs, source: 'nvidia-smi', kind: 'parse', level: 'warn', message: `unreadable nvidia-smi output: ${p.message}`, line: p.line });
      } else if (parseProblems === MAX_REPORTED_PARSE_PROBLEMS + 1) {
        report({ atMs, source: 'nvidia-smi', kind: 'suppressed', level: 'warn', message: 'more unreadable nvidia-smi output: no longer reported' });
      }
    };
    const armQuietTimer = (): void => {
      clearTimeout(quietTimer);
      if (assembler.hasPending) quietTimer = setTimeout(() => emit([assembler.flush()]), quietGapMs);
    };
    const onLine = (raw: string, fromStderr: boolean): void => {
      if (stopping) return;
      const atMs = nowMs();
      const r = parseNvidiaSmiSampleLine(raw);
      if (r.kind === 'device-error') {
        for (const p of assembler.deviceError(r.pciBusId, r.reason, r.lost, atMs)) report(p);
        return;
      }
      if (fromStderr) {
        // Anything else on stderr is a message, not data: keep it to explain an exit, report each once.
        const line = raw.trim();
        if (line === '') return;
        stderrTail.push(line);
        if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
        if (!reportedStderr.has(line) && reportedStderr.size < MAX_REPORTED_PARSE_PROBLEMS) {
          reportedStderr.add(line);
          report({ atMs, source: 'nvidia-smi', kind: 'stderr', level: 'warn', message: `nvidia-smi: ${line}`, line });
        }
        return;
      }
      if (r.kind === 'skip') return;
      if (r.kind === 'problem') {
        parseProblem(r.problem, atMs);
        return;
      }
      for (const p of r.problems) parseProblem(p, atMs);
      emit(assembler.addRow(r.gpu, atMs));
      armQuietTimer();
    };

    const outLines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    const errLines = createInterface({ input: child.stderr!, crlfDelay: Infinity });
    outLines.on('line', (l) => onLine(l, false));
    errLines.on('line', (l) => onLine(l, true));
    const streamsClosed = Promise.all([
      new Promise<void>((r) => outLines.once('close', () => r())),
      new Promise<void>((r) => errLines.once('close', () => r())),
    ]);
    const exitInfo = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => {
      child.once('exit', (code, signal) => {
        exited = true;
        r({ code, signal });
      });
    });

    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));

    // `on`, not `once`: a second 'error' (a failed kill) with no listener would crash the process.
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (!started) {
        clearTimeout(quietTimer);
        outLines.close();
        errLines.close();
        resolveDone();
        const msg =
          e.code === 'ENOENT'
            ? `nvidia-smi not found (${path})`
            : e.code === 'EACCES'
              ? `nvidia-smi is not executable (${path})`
              : `nvidia-smi could not be started (${path}): ${e.message}`;
        rejectStart(new NvidiaSmiSpawnError(msg, e.code));
        return;
      }
      // After spawn, 'error' only comes from kill() failing; exit handling covers the rest.
      report({ atMs: nowMs(), source: 'nvidia-smi', kind: 'spawn', level: 'warn', message: `nvidia-smi: ${e.message}` });
    });

    child.once('spawn', () => {
      started = true;
      // Wait for both the exit and the end of output, so rows printed just before an exit are not lost; but
      // not forever: a grandchild that inherited the pipes could hold them open after nvidia-smi is gone.
      void exitInfo.then(async ({ code, signal }) => {
        let drainTimer: NodeJS.Timeout | undefined;
        await Promise.race([streamsClosed, new Promise<void>((r) => (drainTimer = setTimeout(r, OUTPUT_DRAIN_MS)))]);
        clearTimeout(drainTimer);
        outLines.close();
        errLines.close();
        child.stdout!.destroy();
        child.stderr!.destroy();
        clearTimeout(quietTimer);
        if (!stopping) {
          emit([assembler.flush()]);
          const said = stderrTail.length > 0 ? `: ${stderrTail.join(' | ')}` : '';
          const how = signal ? `signal ${signal}` : `exit ${code}`;
          report({
            atMs: nowMs(),
            source: 'nvidia-smi',
            kind: 'exited',
            level: 'error',
            message: `nvidia-smi stopped unexpectedly (${how})${said}; GPU telemetry has stopped`,
          });
        }
        resolveDone();
      });

      let stopPromise: Promise<void> | undefined;
      resolveStart({
        get pid() {
          return child.pid;
        },
        done,
        stop(): Promise<void> {
          if (stopPromise) return stopPromise;
          stopping = true;
          clearTimeout(quietTimer);
          if (exited) return (stopPromise = done);
          signalChild(child, 'SIGTERM');
          // nvidia-smi honours SIGTERM; SIGKILL is for a child stuck in a driver call. A child in
          // uninterruptible sleep survives even that: after a second grace period it is abandoned (and
          // unref'd) so that shutting down gemma-bench never hangs on telemetry.
          const killTimer = setTimeout(() => signalChild(child, 'SIGKILL'), NVIDIA_SMI_STOP_GRACE_MS);
          let abandonTimer: NodeJS.Timeout | undefined;
          const abandoned = new Promise<void>((r) => {
            abandonTimer = setTimeout(() => {
              report({
                atMs: nowMs(),
                source: 'nvidia-smi',
                kind: 'exited',
                level: 'warn',
                message: `nvidia-smi (pid ${child.pid}) did not exit after SIGKILL; left behind`,
              });
              child.unref();
              r();
            }, 2 * NVIDIA_SMI_STOP_GRACE_MS);
          });
          stopPromise = Promise.race([done, abandoned]).then(() => {
            clearTimeout(killTimer);
            clearTimeout(abandonTimer);
          });
          return stopPromise;
        },
      });
    });
  });
}
