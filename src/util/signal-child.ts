// Signalling a child process without ever signalling our own process group.
//
// Node 20's ChildProcess.kill() on a child whose spawn failed at run time (ENOENT, EACCES: a missing interpreter,
// nvidia-smi not installed) still holds a process handle whose pid is 0, and libuv then calls kill(0, signal): the
// signal goes to the caller's whole process group. A SIGKILL meant for a Python worker that never started killed
// gemma-bench, the shell that ran it and the CI job around them. Only a child with a real pid that has not ended
// yet is signalled.
import type { ChildProcess } from 'node:child_process';

/** Sends `signal` to the child if it started and has not ended; true when a signal was sent. */
export function signalChild(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (typeof child.pid !== 'number' || child.pid <= 0) return false;
  if (child.exitCode !== null || child.signalCode !== null) return false;
  return child.kill(signal);
}
