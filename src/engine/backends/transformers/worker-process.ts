// One replica's worker process, as plumbing: spawn with the group's environment, JSON lines written to stdin,
// stdout framed into lines for the protocol reader, stderr framed, logged (up to a cap) and its last lines kept;
// the exit observed once the output has drained, the graceful stop (stdin closed, then SIGTERM, then SIGKILL), and
// the sentence that explains a death. It knows nothing of the protocol's messages or of the replica's state.
import { spawn, type ChildProcess } from 'node:child_process';
import type { LogFn } from '../../backend.js';
import { LineSplitter, TailBuffer } from './jsonl.js';
import { STDERR_TAIL_LINES, tailText } from './python.js';
import { signalChild } from '../../../util/signal-child.js';

/** After SIGTERM, how long the worker may take to exit before SIGKILL. */
export const KILL_GRACE_MS = 5_000;
/** After the process exits, how long to wait for the rest of its output (a fatal line written just before). */
const OUTPUT_DRAIN_MS = 1_000;
/** stderr lines forwarded to the log per replica before the rest are only kept for the death message. */
const STDERR_LOG_LINES_MAX = 200;

export interface WorkerProcessHandlers {
  /** One line of stdout (the protocol's), in order. */
  onLine(line: string): void;
  /** The process could not be started or signalled (ENOENT, EACCES, ...). */
  onError(e: NodeJS.ErrnoException): void;
  /** The process exited and its output was read (or the drain timed out): `how` it ended, the stderr tail. */
  onExit(how: string, tail: TailBuffer): void;
}

export class WorkerProcess {
  private readonly tail = new TailBuffer(STDERR_TAIL_LINES);
  private stderrLogged = 0;
  private resolveExited!: () => void;
  /** Resolves once the process has exited and onExit has run. */
  readonly exited = new Promise<void>((r) => (this.resolveExited = r));

  private constructor(
    private readonly child: ChildProcess,
    private readonly id: number,
    private readonly log: LogFn,
  ) {}

  /** Throws where spawn itself throws; a missing interpreter is reported later, through onError. */
  static spawn(python: string, argv: readonly string[], env: NodeJS.ProcessEnv, id: number, log: LogFn): WorkerProcess {
    const child = spawn(python, [...argv], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    return new WorkerProcess(child, id, log);
  }

  /** Starts listening: output, errors, exit. Until then nothing is read and nothing is handled. */
  attach(h: WorkerProcessHandlers): void {
    const child = this.child;
    const out = new LineSplitter((line) => h.onLine(line));
    const err = new LineSplitter((line) => this.onStderrLine(line));
    const streamsClosed = Promise.all([new Promise<void>((r) => child.stdout!.once('close', () => r())), new Promise<void>((r) => child.stderr!.once('close', () => r()))]);
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    // A worker that died leaves a closed pipe: writing to it must not crash gemma-bench (EPIPE).
    child.stdin!.on('error', () => undefined);
    child.on('error', (e: NodeJS.ErrnoException) => h.onError(e));
    child.once('exit', (code, signal) => {
      void (async () => {
        // Read what the worker said last (its fatal line, its traceback) before explaining its death.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([streamsClosed, new Promise<void>((r) => (timer = setTimeout(r, OUTPUT_DRAIN_MS)))]);
        clearTimeout(timer);
        out.end();
        err.end();
        h.onExit(signal ? `was killed by ${signal}` : `exited with status ${code}`, this.tail);
        this.resolveExited();
      })();
    });
  }

  /** Writes one JSON line; false when stdin no longer takes input. */
  write(m: unknown): boolean {
    const stdin = this.child.stdin;
    if (!stdin || stdin.destroyed || !stdin.writable) return false;
    stdin.write(JSON.stringify(m) + '\n');
    return true;
  }

  kill(signal: NodeJS.Signals): void {
    signalChild(this.child, signal);
  }

  /** Neither exited nor killed by a signal yet. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Closes stdin and waits for the exit: `graceMs`, then SIGTERM and KILL_GRACE_MS, then SIGKILL. */
  async stop(graceMs: number): Promise<void> {
    this.child.stdin?.end();
    const within = (ms: number) => Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    if (!(await within(graceMs))) {
      signalChild(this.child, 'SIGTERM');
      if (!(await within(KILL_GRACE_MS))) signalChild(this.child, 'SIGKILL');
    }
    await this.exited;
  }

  private onStderrLine(line: string): void {
    const kept = this.tail.add(line);
    if (kept === null) return;
    if (this.stderrLogged < STDERR_LOG_LINES_MAX) this.log('info', `replica ${this.id}: ${kept}`);
    else if (this.stderrLogged === STDERR_LOG_LINES_MAX) this.log('info', `replica ${this.id}: further worker stderr is not shown (the last ${STDERR_TAIL_LINES} lines are kept)`);
    this.stderrLogged++;
  }
}

/** Why a worker died: its fatal message if it sent one, else how the process ended; then the last stderr lines. */
export function describeDeath(fatal: string | null, how: string, tail: TailBuffer): string {
  // The worker prints its fatal message on stderr too: do not repeat it in the tail.
  const lines = fatal === null ? tail : tail.without((l) => l.includes(fatal));
  return fatal !== null ? `${fatal} (worker ${how})${tailText(lines)}` : `the worker process ${how}${tailText(lines)}`;
}
