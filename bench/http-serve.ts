// What gemma-bench serve costs on top of the onnx replica it wraps, on the built-in tiny model (CPU):
// (1) the streaming hook: one replica, 64 new tokens, infer() without hooks vs with an onToken hook (one
//     message per decode step from the worker);
// (2) the HTTP path: time to the first token and end to end, the replica called directly (first onToken) vs a
//     streamed POST /v1/chat/completions on 127.0.0.1 (first content chunk), same image, prompt and tokens.
// Medians of a few repetitions after a warmup; random weights: speed only. Prints JSON.
// Run: npx tsc -p . && node dist/bench/http-serve.js
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import type { InferRequest } from '../src/engine/backend.js';
import { OnnxBackend } from '../src/engine/backends/onnx/index.js';
import { DEFAULT_PREPROCESS } from '../src/panscan/preprocess.js';
import { startServer } from '../src/serve/http-server.js';
import { measure } from './timing.js';

const REPS = 7;
const WARMUP = 1;
const NEW_TOKENS = 64;
const PROMPT = 'What is the total?';
const home = mkdtempSync(join(tmpdir(), 'gb-bench-serve-'));
const env = { ...process.env, GEMMA_BENCH_HOME: home };
const threads = availableParallelism();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const r2 = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const px = Buffer.alloc(256 * 256 * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 2654435761) >>> 24;
  const png = await sharp(px, { raw: { width: 256, height: 256, channels: 3 } }).png().toBuffer();
  const file = join(home, 'image.png');
  await sharp(png).toFile(file);

  // (1) and the direct half of (2): one replica, all cores.
  const backend = await OnnxBackend.create({ model: 'tiny', threads, log: () => {}, env });
  const [replica] = await backend.start({ replicas: 1, gpusPerReplica: 1, log: () => {} });
  let id = 0;
  const request = (): InferRequest => ({ id: ++id, imagePath: file, prompt: PROMPT, maxNewTokens: NEW_TOKENS, preprocess: DEFAULT_PREPROCESS });
  const plain = await measure(REPS, WARMUP, () => replica.infer([request()]));
  const hooked = await measure(REPS, WARMUP, () => replica.infer([request()], { onToken: () => {} }));
  const directTtft: number[] = [];
  const directE2e: number[] = [];
  for (let i = 0; i < REPS + WARMUP; i++) {
    const t0 = performance.now();
    let first = 0;
    await replica.infer([request()], { onToken: (_r, index) => void (index === 0 && (first = performance.now())) });
    if (i >= WARMUP) {
      directTtft.push(first - t0);
      directE2e.push(performance.now() - t0);
    }
  }
  await replica.close();

  // The HTTP half of (2).
  const server = await startServer({ port: 0, threads, env });
  const body = JSON.stringify({
    model: 'tiny',
    messages: [{ role: 'user', content: [{ type: 'text', text: PROMPT }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } }] }],
    max_tokens: NEW_TOKENS,
    ignore_eos: true,
    stream: true,
  });
  const httpTtft: number[] = [];
  const httpE2e: number[] = [];
  for (let i = 0; i < REPS + WARMUP; i++) {
    const t0 = performance.now();
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    let first = 0;
    let seen = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      seen += Buffer.from(chunk).toString('utf8');
      // The role chunk arrives with the first token; vLLM-style TTFT counts it.
      if (first === 0 && seen.includes('"choices":[{')) first = performance.now();
    }
    if (i >= WARMUP) {
      httpTtft.push(first - t0);
      httpE2e.push(performance.now() - t0);
    }
  }
  await server.close();

  process.stdout.write(
    `${JSON.stringify(
      {
        threads,
        newTokens: NEW_TOKENS,
        streamingHook: { withoutHooksMs: plain.medianMs, withOnTokenMs: hooked.medianMs, ratio: r2(hooked.medianMs / plain.medianMs) },
        httpPath: {
          direct: { ttftMs: r2(median(directTtft)), e2eMs: r2(median(directE2e)) },
          http: { ttftMs: r2(median(httpTtft)), e2eMs: r2(median(httpE2e)) },
          overheadMs: { ttft: r2(median(httpTtft) - median(directTtft)), e2e: r2(median(httpE2e) - median(directE2e)) },
        },
      },
      null,
      2,
    )}\n`,
  );
}

try {
  await main();
} finally {
  rmSync(home, { recursive: true, force: true });
}
