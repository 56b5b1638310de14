// The Python side as seen from Node before any replica exists: which interpreter (--python, GEMMA_BENCH_PYTHON,
// python3), where the worker script is, the command line a worker gets, and the probe that runs once before any
// model loads (missing packages, flash-attn, Pillow, torch's CUDA view), turned into one clear message.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../../config/paths.js';
import { TransformersBackendError } from './errors.js';
import { LineSplitter, TailBuffer } from './jsonl.js';
import { parseWorkerLine, PROTOCOL_VERSION, type ProbeMessage } from './protocol.js';
import { signalChild } from '../../../util/signal-child.js';

export const PYTHON_ENV = 'GEMMA_BENCH_PYTHON';
export const DEFAULT_PYTHON = 'python3';
export const WORKER_SCRIPT = join(PACKAGE_ROOT, 'python', 'gemma_bench_worker.py');
export const PIP_INSTALL = 'pip install torch transformers accelerate';
/** Importing torch on a cold disk (first run, network file systems) can take tens of seconds. */
export const PROBE_TIMEOUT_MS = 180_000;
/** stderr lines kept to explain a failure. */
export const STDERR_TAIL_LINES = 20;

export type Dtype = 'bf16' | 'fp16' | 'fp32';
export type Attention = 'sdpa' | 'flash_attention_2' | 'eager';
export type KvCache = 'dynamic' | 'static';
export type PreprocessMode = 'hf' | 'ts';
export type ModelSize = '4b' | '12b' | '27b';

/** The worker's configuration, as the flags of python/gemma_bench_worker.py take it. */
export interface WorkerConfig {
  readonly weights: 'pretrained' | 'random';
  readonly model: string | null;
  readonly modelSize: ModelSize | null;
  readonly dtype: Dtype;
  readonly attention: Attention;
  readonly kvCache: KvCache;
  readonly maxCacheLen: number | null;
  readonly preprocess: PreprocessMode;
  readonly processor: string | null;
  readonly seed: number;
  readonly warmBatchSizes: readonly number[];
  /** Appended verbatim (tests: the fake engine). */
  readonly extraArgs: readonly string[];
}

export function resolvePython(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return given ?? (env[PYTHON_ENV] || DEFAULT_PYTHON);
}

function commonArgs(c: WorkerConfig): string[] {
  const a = ['--weights', c.weights, '--dtype', c.dtype, '--attention', c.attention, '--kv-cache', c.kvCache, '--preprocess', c.preprocess];
  if (c.model !== null && c.weights === 'pretrained') a.push('--model', c.model);
  if (c.modelSize !== null) a.push('--model-size', c.modelSize);
  if (c.processor !== null) a.push('--processor', c.processor);
  return a;
}

/** argv (after the interpreter) of replica `replica`'s worker. */
export function workerArgs(script: string, c: WorkerConfig, replica: number): string[] {
  const a = [script, '--replica', String(replica), ...commonArgs(c), '--seed', String(c.seed)];
  if (c.maxCacheLen !== null) a.push('--max-cache-len', String(c.maxCacheLen));
  if (c.warmBatchSizes.length > 0) a.push('--warm-batch-sizes', c.warmBatchSizes.join(','));
  return [...a, ...c.extraArgs];
}

export function probeArgs(script: string, c: WorkerConfig): string[] {
  return [script, '--probe', ...commonArgs(c), ...c.extraArgs];
}

/** The message for an interpreter that cannot be started at all. */
export function pythonNotFoundMessage(python: string, code: string | undefined): string {
  const what = code === 'EACCES' ? 'is not executable' : 'was not found';
  return `the Python interpreter "${python}" ${what}. The transformers backend runs Python workers: install Python 3.9+ with ${PIP_INSTALL}, and point --python or ${PYTHON_ENV} at that interpreter if it is not "${DEFAULT_PYTHON}" on PATH.`;
}

export interface ProbeOptions {
  readonly python: string;
  readonly script: string;
  readonly config: WorkerConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Runs `python gemma_bench_worker.py --probe ...` once. Resolves with the environment; rejects with a
 * TransformersBackendError whose message is the whole story (missing packages with the pip command, no
 * interpreter, a crash with its last stderr lines).
 */
export function probePython(o: ProbeOptions): Promise<ProbeMessage> {
  const timeoutMs = o.timeoutMs ?? PROBE_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err: Error | null, value?: ProbeMessage) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(value!);
    };
    const child = spawn(o.python, probeArgs(o.script, o.config), { env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = new TailBuffer(STDERR_TAIL_LINES);
    let probe: ProbeMessage | null = null;
    let fatal: string | null = null;
    const junk: string[] = [];
    const out = new LineSplitter((line) => {
      if (line.trim() === '') return;
      const r = parseWorkerLine(line);
      if (!r.ok) junk.push(r.error);
      else if (r.message.type === 'probe') probe = r.message;
      else if (r.message.type === 'fatal') fatal = r.message.message;
    });
    const err = new LineSplitter((line) => void tail.add(line));
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      signalChild(child, 'SIGKILL');
      done(new TransformersBackendError(`${o.python} ${o.script} --probe did not answer within ${Math.round(timeoutMs / 1000)} s${tailText(tail)}`));
    }, timeoutMs);
    const onAbort = () => {
      signalChild(child, 'SIGKILL');
      done(new TransformersBackendError('cancelled while checking the Python environment'));
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e: NodeJS.ErrnoException) => {
      done(new TransformersBackendError(e.code === 'ENOENT' || e.code === 'EACCES' ? pythonNotFoundMessage(o.python, e.code) : `could not start ${o.python}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      out.end();
      err.end();
      if (fatal !== null) return done(new TransformersBackendError(fatal));
      if (code === 0 && probe !== null) {
        const p = probe as ProbeMessage;
        if (p.protocol !== PROTOCOL_VERSION) {
          return done(new TransformersBackendError(`${o.script} speaks protocol ${p.protocol}, this gemma-bench speaks ${PROTOCOL_VERSION}: the worker script and gemma-bench come from different versions`));
        }
        return done(null, p);
      }
      const how = signal ? `signal ${signal}` : `exit ${code}`;
      const extra = junk.length > 0 ? `; stdout: ${junk[0]}` : '';
      done(new TransformersBackendError(`${o.python} ${o.script} --probe failed (${how})${extra}${tailText(tail)}. Is ${o.python} Python 3.9 or newer?`));
    });
  });
}

export function tailText(tail: TailBuffer): string {
  const lines = tail.get();
  return lines.length > 0 ? `; last stderr lines:\n  ${lines.join('\n  ')}` : '';
}
