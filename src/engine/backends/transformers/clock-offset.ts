// The clock-offset handshake of a replica that just became ready: a few pings, the round trip with the smallest
// RTT taken as the estimate of (worker clock - nowMs()), and the log line that reports it (or its absence).
// Both sides use the wall clock (time.time(), performance.timeOrigin + now()), which agree on one machine up to
// clock slew since Node started; the offset is measured rather than assumed to be zero.
import type { LogFn } from '../../backend.js';
import type { PingSample } from './worker-channel.js';

/** Round trips used to estimate the worker's clock offset; the one with the smallest RTT wins. */
export const CLOCK_PINGS = 5;
/** Offsets below this are noise of the estimate and not worth a log line. */
const CLOCK_OFFSET_REPORT_MS = 5;

export interface ClockEstimate {
  readonly rtt: number;
  /** Worker clock minus nowMs(), in ms. */
  readonly offset: number;
}

/** Up to CLOCK_PINGS round trips, stopping at the first unanswered one; null when none was answered. */
export async function measureClockOffset(ping: () => Promise<PingSample | null>): Promise<ClockEstimate | null> {
  let best: ClockEstimate | null = null;
  for (let i = 0; i < CLOCK_PINGS; i++) {
    const p = await ping();
    if (!p) break;
    const rtt = p.t2 - p.t1;
    if (!best || rtt < best.rtt) best = { rtt, offset: p.time * 1000 - (p.t1 + p.t2) / 2 };
  }
  return best;
}

/** The offset to apply (0 without an estimate), logged when there is none or when it is worth mentioning. */
export function adoptClockOffset(best: ClockEstimate | null, id: number, log: LogFn): number {
  if (!best) log('warn', `replica ${id}: the worker did not answer clock pings; assuming its clock equals gemma-bench's`);
  const clockOffsetMs = best?.offset ?? 0;
  if (Math.abs(clockOffsetMs) >= CLOCK_OFFSET_REPORT_MS) {
    log('info', `replica ${id}: the worker's clock is ${Math.abs(clockOffsetMs).toFixed(1)} ms ${clockOffsetMs > 0 ? 'ahead of' : 'behind'} gemma-bench's (±${(best!.rtt / 2).toFixed(2)} ms); token times are corrected`);
  }
  return clockOffsetMs;
}
