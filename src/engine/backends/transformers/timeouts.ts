// --worker-timeout S: how long a transformers worker may take before gemma-bench gives up on it (issue 11, bug 3).
// Without a limit a hung worker (a wedged CUDA call, a deadlocked NCCL collective, a compile that never ends) hangs
// the whole run. Two limits come from the one number:
//   - loading: S seconds from spawn to `ready` (weights loaded, warm-up and, with a static cache, compilation);
//   - a micro-batch: S seconds per 256 new tokens of the batch (never less than S), counted from when the worker
//     starts on it (it answers batches in order, so from the previous batch's answer or the send, whichever is later).
// When a limit passes, the worker is killed (SIGKILL), the batch fails with the reason, and the run goes on with the
// other replicas. 0 turns both limits off. Pure.

/** The default: generous, so a cold 27B load (tens of GB from disk) or a first compile is not mistaken for a hang. */
export const DEFAULT_WORKER_TIMEOUT_S = 1800;
/** A micro-batch's limit grows by S for every this many new tokens (the longest request's max_new_tokens). */
export const TIMEOUT_TOKENS_UNIT = 256;

/** The loading limit in ms, or null when limits are off. */
export function loadLimitMs(timeoutS: number): number | null {
  return timeoutS > 0 ? timeoutS * 1000 : null;
}

/** A micro-batch's limit in ms for `newTokens` (the most any request of it may generate), or null when off. */
export function batchLimitMs(timeoutS: number, newTokens: number): number | null {
  if (!(timeoutS > 0)) return null;
  return timeoutS * 1000 * Math.max(1, newTokens / TIMEOUT_TOKENS_UNIT);
}

const secs = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;

export function loadTimeoutReason(timeoutS: number): string {
  return `the worker was not ready within ${secs(timeoutS * 1000)} (loading, warm-up and compilation; --worker-timeout ${timeoutS}); it was killed. Raise --worker-timeout if loading is just slow (a first download, a cold disk)`;
}

export function batchTimeoutReason(timeoutS: number, limitMs: number, requests: number, newTokens: number): string {
  return `a micro-batch of ${requests} request${requests === 1 ? '' : 's'} (${newTokens} new tokens) got no result within ${secs(limitMs)} (--worker-timeout ${timeoutS}: ${timeoutS} s per ${TIMEOUT_TOKENS_UNIT} new tokens); the worker was killed as hung`;
}
