// Micro-benchmark (not a test): what the bootstrap of a run's intervals costs (src/report/stats/bootstrap.ts). The
// target is at most 200 ms for 10,000 completed requests of 256 output tokens each (2.55 million ITL gaps), with
// the default 1000 resamples. Prints one JSON object: wall and CPU time of the first call (a fresh process, the
// JIT cold, as a worker computing one run's intervals sees it) and of the following calls. CPU time is given too
// because wall time on a shared machine also counts other processes' turns; the load average says how busy it was.
//   npm run build && node dist/bench/bootstrap.js [--requests N] [--tokens N] [--trials N]
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { bootstrapRun, REQUEST_BLOCKS_MAX } from '../src/report/stats/bootstrap.js';
import { BOOTSTRAP_RESAMPLES } from '../src/report/stats/types.js';
import type { RequestRecord } from '../src/engine/types.js';
import { prng } from '../src/util/prng.js';
import { median } from './timing.js';

const TARGET_MS = 200;

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '10000' }, tokens: { type: 'string', default: '256' }, trials: { type: 'string', default: '7' } },
});
const requests = Number(values.requests);
const tokens = Number(values.tokens);
const trials = Number(values.trials);

/** A closed-loop run at concurrency 32 whose requests differ (crops, batch) and whose decode speed drifts. */
function makeRecords(n: number): RequestRecord[] {
  const rnd = prng(7);
  const out: RequestRecord[] = [];
  const concurrency = 32;
  const slotFree = new Float64Array(concurrency);
  for (let i = 0; i < n; i++) {
    const slot = i % concurrency;
    const enq = slotFree[slot];
    const crops = i % 5;
    const queue = 5 * rnd();
    const pre = 5 + 20 * rnd();
    const vision = (20 + 30 * rnd()) * (1 + crops);
    const ttft = pre + vision + 20 * rnd();
    const perToken = 8 + 10 * rnd();
    // As the scheduler records them: rounded to microseconds.
    const times: number[] = [];
    let t = ttft;
    for (let k = 0; k < tokens; k++) {
      if (k) t += perToken * (0.8 + 0.4 * rnd()) + (rnd() < 0.01 ? 40 * rnd() : 0);
      times.push(Math.round(t * 1000) / 1000);
    }
    const e2e = queue + t;
    slotFree[slot] = enq + e2e;
    out.push({
      id: i,
      imageIndex: i % 16,
      promptIndex: 0,
      warmup: false,
      status: 'ok',
      error: null,
      replica: i % 4,
      batchSize: 4,
      crops,
      imageTokens: 256 * (1 + crops),
      promptTokens: 300 + 256 * crops,
      outputTokens: tokens,
      enqueuedAtMs: enq,
      dispatchedAtMs: enq + queue,
      finishedAtMs: enq + e2e,
      queueMs: queue,
      preprocessMs: pre,
      visionMs: vision,
      ttftMs: ttft,
      e2eMs: e2e,
      tpotMs: (t - ttft) / (tokens - 1),
      tokenTimesMs: times,
      tokenIds: [],
    });
  }
  return out;
}

const round = (v: number): number => Math.round(v * 10) / 10;

const records = makeRecords(requests);
const wallMs: number[] = [];
const cpuMs: number[] = [];
let last: ReturnType<typeof bootstrapRun> | null = null;
for (let trial = 0; trial < trials; trial++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  last = bootstrapRun(records, { seed: trial + 1 });
  wallMs.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpuMs.push((c.user + c.system) / 1000);
}
const warmWall = wallMs.slice(1);
const warmCpu = cpuMs.slice(1);
const e2e = last!.latency.e2eMs!.p50;
const itl = last!.latency.itlMs!.p50;
process.stdout.write(
  JSON.stringify(
    {
      bench: 'bootstrap',
      node: process.version,
      requests,
      outputTokensPerRequest: tokens,
      itlGaps: requests * (tokens - 1),
      resamples: BOOTSTRAP_RESAMPLES,
      requestBlocks: Math.min(requests, REQUEST_BLOCKS_MAX),
      trials,
      firstCallMs: { wall: round(wallMs[0]), cpu: round(cpuMs[0]) },
      laterCallsMs: warmWall.length ? { wallMedian: round(median(warmWall)), wallMin: round(Math.min(...warmWall)), cpuMedian: round(median(warmCpu)) } : null,
      loadAverage1m: round(loadavg()[0]),
      example: { e2eP50Ms: round(e2e.value), e2eP50Ci95: e2e.ci95.map(round), itlP50Ms: round(itl.value), itlP50Ci95: itl.ci95.map(round), itlWindowMisses: last!.method.itlWindowMisses },
      targetMs: TARGET_MS,
      withinTarget: wallMs[0] <= TARGET_MS,
    },
    null,
    2,
  ) + '\n',
);
