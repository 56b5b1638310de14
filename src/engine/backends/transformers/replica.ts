// One transformers replica: a Python worker process (python/gemma_bench_worker.py) owning a group of GPUs, plus,
// with --preprocess ts, a preprocessing thread. This file owns the process's life: spawn with the group's
// CUDA_VISIBLE_DEVICES, wait for `ready`, estimate the clock offset, forward micro-batches, map the worker's
// times onto nowMs(), turn a batch error (CUDA OOM) into failed results while the replica carries on, and turn an
// exit into a dead replica whose in-flight batches fail with the reason and the last stderr lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { failedResult, type InferRequest, type InferResult, type LogFn, type Replica } from '../../backend.js';
import { nowMs } from '../../../util/clock.js';
import { cudaChildEnv } from './topology.js';
import { TransformersBackendError } from './errors.js';
import { LineSplitter, TailBuffer } from './jsonl.js';
import { PreprocessClient } from './preprocess-client.js';
import type { PreparedItem } from './preprocess-protocol.js';
import {
  parseWorkerLine,
  PROTOCOL_VERSION,
  type DeviceMapEntry,
  type FromWorker,
  type ReadyMessage,
  type RequestMessage,
  type ResultMessage,
  type WorkerRequestResult,
} from './protocol.js';
import { pythonNotFoundMessage, STDERR_TAIL_LINES, tailText } from './python.js';
import type { GpuGroup } from './topology.js';

/** Round trips used to estimate the worker's clock offset; the one with the smallest RTT wins. */
export const CLOCK_PINGS = 5;
export const PONG_TIMEOUT_MS = 10_000;
/** After `shutdown`, how long the worker may take to exit before SIGTERM (it finishes the batch it is on). */
export const DEFAULT_CLOSE_GRACE_MS = 10_000;
export const KILL_GRACE_MS = 5_000;
/** After the process exits, how long to wait for the rest of its output (a fatal line written just before). */
const OUTPUT_DRAIN_MS = 1_000;
/** stderr lines forwarded to the log per replica before the rest are only kept for the death message. */
const STDERR_LOG_LINES_MAX = 200;
/** Offsets below this are noise of the estimate and not worth a log line. */
const CLOCK_OFFSET_REPORT_MS = 5;

export interface ReplicaSpawnSpec {
  readonly id: number;
  readonly python: string;
  readonly argv: readonly string[];
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly group: GpuGroup;
  readonly preprocess: 'hf' | 'ts';
  /** ts only: accept a second micro-batch and prepare it while the GPU runs the first. */
  readonly pipeline: boolean;
  readonly pixelDir: string;
  readonly log: LogFn;
  readonly signal?: AbortSignal;
  readonly closeGraceMs?: number;
}

export interface StartedReplica {
  readonly replica: Replica;
  readonly ready: ReadyMessage;
  /** Worker clock minus nowMs(), in ms, as estimated from the pings. */
  readonly clockOffsetMs: number;
}

interface PendingBatch {
  resolve: (m: ResultMessage) => void;
  reject: (e: Error) => void;
}

/** "cuda:0 (GPU 2): vision tower, projector, layers 0-30; cuda:1 (GPU 3): layers 31-61, norm, lm_head". */
export function formatDeviceMap(entries: readonly DeviceMapEntry[]): string {
  return entries.map((e) => `${e.device}${e.gpu !== null ? ` (GPU ${e.gpu})` : ''}: ${e.modules.join(', ')}`).join('; ');
}

/** Maps one worker result onto the engine's InferResult, on the engine's clock. */
export function toInferResult(req: InferRequest, r: WorkerRequestResult | undefined, msg: ResultMessage, clockOffsetMs: number, prep: PreparedItem | undefined): InferResult {
  if (!r) return failedResult(req.id, msg.batchError ?? 'the worker returned no result for this request');
  if (!r.ok) return failedResult(req.id, r.error ?? msg.batchError ?? 'failed');
  const base = msg.recvTime * 1000 - clockOffsetMs;
  const ts = prep !== undefined && prep.ok ? prep : null;
  return {
    id: req.id,
    ok: true,
    error: null,
    crops: r.crops,
    imageTokens: r.imageTokens,
    promptTokens: r.promptTokens,
    outputTokens: r.outputTokens,
    preprocessMs: ts ? ts.preprocessMs : r.preprocessMs,
    visionMs: r.visionMs,
    startedAt: ts ? ts.startedAt : base,
    tokenTimes: r.tokenMs.map((ms) => base + ms),
    tokenIds: r.tokenIds,
  };
}

export function startWorkerReplica(spec: ReplicaSpawnSpec): Promise<StartedReplica> {
  return new Promise((resolveStart, rejectStart) => {
    const { id, log } = spec;
    const gpuText = spec.group.ids.join(',');
    const t0 = nowMs();
    let child: ChildProcess;
    try {
      child = spawn(spec.python, [...spec.argv], { env: cudaChildEnv(spec.group.ids, spec.baseEnv), stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (err) {
      rejectStart(new TransformersBackendError(`replica ${id} could not be started: ${(err as Error).message}`, 'loading'));
      return;
    }
    const tail = new TailBuffer(STDERR_TAIL_LINES);
    const pending = new Map<number, PendingBatch>();
    const pongs: ((m: { t: number; time: number } | null) => void)[] = [];
    /** A worker that is gone answers no pings: release the waiters now rather than at their timeouts. */
    const dropPongs = () => {
      for (const p of pongs.splice(0)) p(null);
    };
    let state: 'starting' | 'ready' | 'dead' | 'closed' = 'starting';
    let closing = false;
    let fatal: string | null = null;
    let deathReason: string | null = null;
    let stderrLogged = 0;
    let batchSeq = 0;
    let clockOffsetMs = 0;
    let prep: PreprocessClient | null = null;
    // The preprocessing thread (tokenizer load: seconds) starts alongside the worker's model load, not after it.
    const prepStarting = spec.preprocess === 'ts' ? PreprocessClient.start(id, spec.pixelDir, log) : null;
    prepStarting?.catch(() => undefined); // reported by onReady; a start that fails earlier must not go unhandled
    let resolveDied!: (reason: string) => void;
    const died = new Promise<string>((r) => (resolveDied = r));
    let resolveExited!: () => void;
    const exited = new Promise<void>((r) => (resolveExited = r));

    const write = (m: unknown): boolean => {
      if (!child.stdin || child.stdin.destroyed || !child.stdin.writable) return false;
      child.stdin.write(JSON.stringify(m) + '\n');
      return true;
    };

    const failStart = (reason: string) => {
      if (state !== 'starting') return;
      state = 'dead';
      dropPongs();
      spec.signal?.removeEventListener('abort', onAbort);
      rejectStart(new TransformersBackendError(`replica ${id} (GPU ${gpuText || 'none'}) failed to start: ${reason}`, 'loading'));
      child.kill('SIGKILL');
      void prepStarting?.then((p) => p.close(), () => undefined);
    };

    /** The replica stops for good: in-flight work fails with the reason, the scheduler hears it through `died`. */
    const die = (reason: string) => {
      if (state === 'starting') return failStart(reason);
      if (state !== 'ready') return;
      state = 'dead';
      deathReason = reason;
      for (const p of pending.values()) p.reject(new Error(reason));
      pending.clear();
      if (!closing) {
        log('error', `replica ${id} died: ${reason}`);
        resolveDied(reason);
      }
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      void prep?.close();
    };

    const onMessage = (m: FromWorker) => {
      switch (m.type) {
        case 'log':
          log(m.level, `replica ${id}: ${m.message}`);
          return;
        case 'fatal':
          fatal = m.message;
          return;
        case 'pong':
          pongs.shift()?.(m);
          return;
        case 'probe':
          return;
        case 'ready':
          void onReady(m);
          return;
        case 'result': {
          const p = pending.get(m.batchId);
          pending.delete(m.batchId);
          if (!p) {
            log('warn', `replica ${id}: result for unknown batch ${m.batchId} ignored`);
            return;
          }
          if (m.oom) log('warn', `replica ${id}: a micro-batch of ${m.results.length} request${m.results.length === 1 ? '' : 's'} failed: ${m.batchError}; the replica carries on`);
          else if (m.batchError) log('warn', `replica ${id}: a micro-batch failed: ${m.batchError}`);
          for (const n of m.notes) log('warn', `replica ${id}: ${n}`);
          p.resolve(m);
          return;
        }
      }
    };

    const ping = (): Promise<{ t1: number; t2: number; time: number } | null> =>
      new Promise((resolve) => {
        const t1 = nowMs();
        const timer = setTimeout(() => {
          pongs.splice(pongs.indexOf(waiter), 1);
          resolve(null);
        }, PONG_TIMEOUT_MS);
        const waiter = (m: { t: number; time: number } | null) => {
          clearTimeout(timer);
          resolve(m === null ? null : { t1, t2: nowMs(), time: m.time });
        };
        pongs.push(waiter);
        if (!write({ type: 'ping', t: t1 })) {
          pongs.splice(pongs.indexOf(waiter), 1);
          clearTimeout(timer);
          resolve(null);
        }
      });

    const onReady = async (ready: ReadyMessage) => {
      if (state !== 'starting') return;
      if (ready.protocol !== PROTOCOL_VERSION) {
        return failStart(`the worker speaks protocol ${ready.protocol}, gemma-bench speaks ${PROTOCOL_VERSION} (the worker script comes from another version)`);
      }
      // Both sides use the wall clock (time.time(), performance.timeOrigin + now()), which agree on one machine up
      // to clock slew since Node started; measure the offset rather than assume it is zero.
      let best: { rtt: number; offset: number } | null = null;
      for (let i = 0; i < CLOCK_PINGS; i++) {
        const p = await ping();
        if (!p) break;
        const rtt = p.t2 - p.t1;
        if (!best || rtt < best.rtt) best = { rtt, offset: p.time * 1000 - (p.t1 + p.t2) / 2 };
      }
      if (state !== 'starting') return;
      if (!best) log('warn', `replica ${id}: the worker did not answer clock pings; assuming its clock equals gemma-bench's`);
      clockOffsetMs = best?.offset ?? 0;
      if (Math.abs(clockOffsetMs) >= CLOCK_OFFSET_REPORT_MS) {
        log('info', `replica ${id}: the worker's clock is ${Math.abs(clockOffsetMs).toFixed(1)} ms ${clockOffsetMs > 0 ? 'ahead of' : 'behind'} gemma-bench's (±${(best!.rtt / 2).toFixed(2)} ms); token times are corrected`);
      }
      if (prepStarting) {
        try {
          prep = await prepStarting;
          prep.whenDead = (reason) => die(reason);
        } catch (err) {
          return failStart((err as Error).message);
        }
      }
      if (state !== 'starting') {
        void prep?.close();
        return;
      }
      state = 'ready';
      (replica as { loadMs: number }).loadMs = nowMs() - t0;
      spec.signal?.removeEventListener('abort', onAbort);
      resolveStart({ replica, ready, clockOffsetMs });
    };

    const sendBatch = (batchId: number, requests: readonly RequestMessage[]): Promise<ResultMessage> =>
      new Promise((resolve, reject) => {
        if (state !== 'ready') return reject(new Error(deathReason ?? 'the replica is closed'));
        pending.set(batchId, { resolve, reject });
        if (!write({ type: 'batch', batchId, requests })) {
          pending.delete(batchId);
          reject(new Error(deathReason ?? 'the worker no longer accepts input'));
        }
      });

    const inferHf = async (batchId: number, batch: readonly InferRequest[]): Promise<InferResult[]> => {
      const msg = await sendBatch(
        batchId,
        batch.map((r) => ({
          id: r.id,
          maxNewTokens: r.maxNewTokens,
          imagePath: r.imagePath,
          prompt: r.prompt,
          panScan: r.preprocess.panScan,
          exifOrientation: r.preprocess.exifOrientation,
          pixelLimit: r.preprocess.pixelLimit,
        })),
      );
      const byId = new Map(msg.results.map((x) => [x.id, x]));
      return batch.map((r) => toInferResult(r, byId.get(r.id), msg, clockOffsetMs, undefined));
    };

    const inferTs = async (batchId: number, batch: readonly InferRequest[]): Promise<InferResult[]> => {
      const items = await prep!.prepare(batchId, batch).catch((e: Error) => {
        throw new Error(deathReason ?? e.message);
      });
      const byId = new Map(items.map((x) => [x.id, x]));
      const ready = items.filter((x): x is Extract<PreparedItem, { ok: true }> => x.ok);
      try {
        if (state !== 'ready') throw new Error(deathReason ?? 'the replica is closed');
        let msg: ResultMessage | null = null;
        if (ready.length > 0) {
          const reqOf = new Map(batch.map((r) => [r.id, r]));
          msg = await sendBatch(
            batchId,
            ready.map((x) => ({ id: x.id, maxNewTokens: reqOf.get(x.id)!.maxNewTokens, inputIds: x.inputIds, pixels: { path: x.path, shape: x.shape, dtype: 'float32' as const } })),
          );
        }
        const results = new Map(msg?.results.map((x) => [x.id, x]) ?? []);
        return batch.map((r) => {
          const item = byId.get(r.id);
          if (!item) return failedResult(r.id, 'preprocessing returned nothing for this request');
          if (!item.ok) return failedResult(r.id, item.error);
          return toInferResult(r, results.get(r.id), msg!, clockOffsetMs, item);
        });
      } finally {
        // The worker deletes each file once read; these are the ones it never got to (failure, death).
        await Promise.all(ready.map((x) => rm(x.path, { force: true }).catch(() => undefined)));
      }
    };

    const replica: Replica = {
      id,
      devices: spec.group.ids.map((g) => `gpu:${g}`),
      gpuIndices: [...spec.group.indices],
      loadMs: 0,
      capacity: spec.preprocess === 'ts' && spec.pipeline ? 2 : 1,
      died,
      infer(batch: readonly InferRequest[]): Promise<InferResult[]> {
        if (state !== 'ready') return Promise.reject(new Error(deathReason ?? 'the replica is closed'));
        const batchId = batchSeq++;
        return spec.preprocess === 'ts' ? inferTs(batchId, batch) : inferHf(batchId, batch);
      },
      async close(): Promise<void> {
        if (closing) return exited;
        closing = true;
        if (state === 'ready') state = 'closed';
        for (const p of pending.values()) p.reject(new Error('the replica was closed'));
        pending.clear();
        write({ type: 'shutdown' });
        child.stdin?.end();
        const grace = spec.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS;
        const within = (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
        if (!(await within(grace))) {
          child.kill('SIGTERM');
          if (!(await within(KILL_GRACE_MS))) child.kill('SIGKILL');
        }
        await exited;
        await prep?.close();
      },
    };

    const onAbort = () => failStart('cancelled while loading');
    if (spec.signal?.aborted) {
      onAbort();
      return;
    }
    spec.signal?.addEventListener('abort', onAbort, { once: true });

    const out = new LineSplitter((line) => {
      if (line.trim() === '') return;
      const r = parseWorkerLine(line);
      if (r.ok) onMessage(r.message);
      else log('warn', `replica ${id}: ${r.error}`);
    });
    const err = new LineSplitter((line) => {
      const kept = tail.add(line);
      if (kept === null) return;
      if (stderrLogged < STDERR_LOG_LINES_MAX) log('info', `replica ${id}: ${kept}`);
      else if (stderrLogged === STDERR_LOG_LINES_MAX) log('info', `replica ${id}: further worker stderr is not shown (the last ${STDERR_TAIL_LINES} lines are kept)`);
      stderrLogged++;
    });
    const streamsClosed = Promise.all([new Promise<void>((r) => child.stdout!.once('close', () => r())), new Promise<void>((r) => child.stderr!.once('close', () => r()))]);
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    // A worker that died leaves a closed pipe: writing to it must not crash gemma-bench (EPIPE).
    child.stdin!.on('error', () => undefined);
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'EACCES') failStart(pythonNotFoundMessage(spec.python, e.code));
      else if (state === 'starting') failStart(`could not start ${spec.python}: ${e.message}`);
    });
    child.once('exit', (code, signal) => {
      void (async () => {
        // Read what the worker said last (its fatal line, its traceback) before explaining its death.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([streamsClosed, new Promise<void>((r) => (timer = setTimeout(r, OUTPUT_DRAIN_MS)))]);
        clearTimeout(timer);
        out.end();
        err.end();
        const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        // The worker prints its fatal message on stderr too: do not repeat it in the tail.
        const said = fatal;
        const lines = said === null ? tail : tail.without((l) => l.includes(said));
        const reason = said !== null ? `${said} (worker ${how})${tailText(lines)}` : `the worker process ${how}${tailText(lines)}`;
        dropPongs();
        if (closing && state !== 'starting') state = 'closed';
        else die(reason);
        for (const p of pending.values()) p.reject(new Error(reason));
        pending.clear();
        resolveExited();
      })();
    });
  });
}
