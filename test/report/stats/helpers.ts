// Test helpers for the bootstrap: seeded samples from known distributions and minimal request records.
import type { RequestRecord } from '../../../src/engine/types.js';
import { normalSampler } from '../../../src/report/stats/random.js';
import { prng } from '../../../src/util/prng.js';

/** Log-normal(mu, sigma) variates: exp(mu + sigma Z). Its median is exp(mu). */
export function logNormal(seed: number, mu: number, sigma: number): () => number {
  const z = normalSampler(prng(seed));
  return () => Math.exp(mu + sigma * z());
}

/** A measured, completed request with the given timings; the rest plausible. */
export function okRecord(id: number, over: Partial<RequestRecord> = {}): RequestRecord {
  const e2e = over.e2eMs ?? 100;
  const enq = over.enqueuedAtMs ?? id * 10;
  const times = over.tokenTimesMs ?? [20, 30, 40];
  return {
    id,
    imageIndex: 0,
    promptIndex: 0,
    warmup: false,
    status: 'ok',
    error: null,
    replica: 0,
    batchSize: 1,
    crops: 0,
    imageTokens: 256,
    promptTokens: 300,
    outputTokens: times.length,
    enqueuedAtMs: enq,
    dispatchedAtMs: enq + 1,
    finishedAtMs: enq + e2e,
    queueMs: 1,
    preprocessMs: 5,
    visionMs: 10,
    ttftMs: times[0] ?? null,
    e2eMs: e2e,
    tpotMs: times.length > 1 ? (times[times.length - 1] - times[0]) / (times.length - 1) : null,
    tokenTimesMs: times,
    tokenIds: [],
    ...over,
  };
}

/** Token times from a first-token time and the gaps after it. */
export function tokenTimes(first: number, gaps: readonly number[]): number[] {
  const t = [first];
  for (const g of gaps) t.push(t[t.length - 1] + g);
  return t;
}
