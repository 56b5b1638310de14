// Micro-benchmark (not a test): what the statistics cost the harness per finished request. The target is
// < 0.2 ms per request at 1000+ requests/s with 256 output tokens (255 ITL samples + 6 per-request metrics +
// 2 per-replica ones), so the measurement itself never becomes the bottleneck. Prints one JSON object.
//   npm run build && node dist/bench/harness-stats.js [--requests N] [--tokens N] [--replicas N]
import { parseArgs } from 'node:util';
import { RunAccumulator } from '../src/engine/accumulator.js';
import { LatencyStats } from '../src/engine/stats.js';
import type { RequestRecord } from '../src/engine/types.js';
import { median } from './timing.js';

const TARGET_US_PER_REQUEST = 200;
const TRIALS = 7;

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '20000' }, tokens: { type: 'string', default: '256' }, replicas: { type: 'string', default: '5' } },
});
const requests = Number(values.requests);
const tokens = Number(values.tokens);
const replicas = Number(values.replicas);

/** Deterministic pseudo-random numbers so runs are comparable. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function makeRecords(n: number): RequestRecord[] {
  const rnd = lcg(7);
  const out: RequestRecord[] = [];
  for (let i = 0; i < n; i++) {
    const ttft = 40 + 200 * rnd();
    const times = new Array<number>(tokens);
    let t = ttft;
    for (let k = 0; k < tokens; k++) {
      if (k) t += 8 + 10 * rnd();
      times[k] = t;
    }
    const queue = 5 * rnd();
    out.push({
      id: i,
      imageIndex: i % 16,
      promptIndex: 0,
      warmup: false,
      status: 'ok',
      error: null,
      replica: i % replicas,
      batchSize: 4,
      crops: i % 5,
      imageTokens: 256 * (1 + (i % 5)),
      promptTokens: 300 + 256 * (i % 5),
      outputTokens: tokens,
      enqueuedAtMs: i,
      dispatchedAtMs: i + queue,
      finishedAtMs: i + queue + t,
      queueMs: queue,
      preprocessMs: 5 + 20 * rnd(),
      visionMs: 20 + 100 * rnd(),
      ttftMs: ttft,
      e2eMs: queue + t,
      tpotMs: (t - ttft) / (tokens - 1),
      tokenTimesMs: times,
      tokenIds: [],
    });
  }
  return out;
}

const records = makeRecords(requests);

// Warm the JIT on a throwaway accumulator first.
{
  const warm = new RunAccumulator();
  for (const r of records.slice(0, 2000)) warm.add(r);
  warm.snapshot();
}

const addUs: number[] = [];
let last: RunAccumulator | null = null;
for (let trial = 0; trial < TRIALS; trial++) {
  const acc = new RunAccumulator();
  for (let r = 0; r < replicas; r++) acc.addReplica(r, [`cuda:${r}`]);
  const t0 = performance.now();
  for (const r of records) acc.add(r);
  addUs.push(((performance.now() - t0) * 1000) / records.length);
  last = acc;
}

// A live view asks ~4 times a second, each time after new records arrived (so the cache does not help).
const snapshotMs: number[] = [];
for (let i = 0; i < 50; i++) {
  last!.add(records[i]);
  const t0 = performance.now();
  last!.snapshot({ inFlight: 8, nowMs: 1000 });
  snapshotMs.push(performance.now() - t0);
}

const raw = new LatencyStats();
const samples = records.flatMap((r) => r.tokenTimesMs.slice(0, 64));
const t0 = performance.now();
for (const v of samples) raw.record(v);
const recordNs = ((performance.now() - t0) * 1e6) / samples.length;

const perRequestUs = median(addUs);
process.stdout.write(
  JSON.stringify(
    {
      bench: 'harness-stats',
      node: process.version,
      requests,
      outputTokensPerRequest: tokens,
      replicas,
      trials: TRIALS,
      addUsPerRequest: { median: round(perRequestUs), min: round(Math.min(...addUs)), max: round(Math.max(...addUs)) },
      recordNsPerSample: round(recordNs),
      snapshotMs: { median: round(median(snapshotMs)), max: round(Math.max(...snapshotMs)) },
      maxRequestsPerSecondOnStatsAlone: Math.round(1e6 / perRequestUs),
      targetUsPerRequest: TARGET_US_PER_REQUEST,
      withinTarget: perRequestUs < TARGET_US_PER_REQUEST,
    },
    null,
    2,
  ) + '\n',
);

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
