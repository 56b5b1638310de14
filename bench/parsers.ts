// The parsers gemma-bench wrote itself, against the libraries they could have been: the SSE parser against
// eventsource-parser (3.x: 4.x declares Node >= 22.12) and the Prometheus text parser against
// parse-prometheus-text-format. The libraries are not dependencies: point EVENTSOURCE_PARSER_PATH and
// PROM_PARSER_PATH at installed copies (their package entry files) to include them; otherwise only ours run.
//   node dist/bench/parsers.js
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SseParser } from '../src/engine/backends/openai/sse.js';
import { parsePrometheusText } from '../src/telemetry/prometheus.js';
import { syntheticFrames } from '../test/helpers/sse-replayer.js';
import { REPO_ROOT } from '../test/helpers/repo.js';
import { measure } from './timing.js';

const STREAMS = 20_000;
const frames = syntheticFrames(16).map((f) => Buffer.from(`${f}\n\n`));
const stream = Buffer.concat(frames);
const pieces: Buffer[] = [];
for (let i = 0; i < stream.length; i += 7) pieces.push(stream.subarray(i, i + 7));

function ours(chunks: readonly Buffer[]): number {
  let n = 0;
  for (let s = 0; s < STREAMS; s++) {
    const p = new SseParser();
    for (const c of chunks) n += p.feed(c).length;
    n += p.finish().events.length;
  }
  return n;
}

type EsParser = { feed(s: string): void };
async function library(): Promise<((chunks: readonly Buffer[]) => number) | null> {
  const path = process.env.EVENTSOURCE_PARSER_PATH;
  if (!path) return null;
  const mod = (await import(pathToFileURL(path).href)) as { createParser: (cb: { onEvent: (e: { data: string }) => void }) => EsParser };
  return (chunks) => {
    let n = 0;
    for (let s = 0; s < STREAMS; s++) {
      const dec = new TextDecoder();
      const p = mod.createParser({ onEvent: () => n++ });
      for (const c of chunks) p.feed(dec.decode(c, { stream: true }));
    }
    return n;
  };
}

const lib = await library();
for (const [label, chunks] of [['one network chunk per frame', frames], ['7-byte pieces', pieces]] as const) {
  const a = await measure(5, 1, () => ours(chunks));
  console.log(`SSE ${label}: ours ${(STREAMS / (a.medianMs / 1000) / 1000).toFixed(0)}k streams/s (${((a.medianMs * 1000) / STREAMS).toFixed(2)} us per 16-token stream)`);
  if (lib) {
    const b = await measure(5, 1, () => lib(chunks));
    console.log(`SSE ${label}: eventsource-parser ${(STREAMS / (b.medianMs / 1000) / 1000).toFixed(0)}k streams/s (${((b.medianMs * 1000) / STREAMS).toFixed(2)} us per stream)`);
  }
}

const pages = ['sglang-production-metrics.prom', 'dcgm-h100x8-sampled.prom'].map((f) => [f, readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'openai', 'metrics', f), 'utf8')] as const);
const promPath = process.env.PROM_PARSER_PATH;
const promLib = promPath ? ((await import(pathToFileURL(promPath).href)) as { default: (t: string) => unknown[] }).default : null;
for (const [name, text] of pages) {
  const reps = 2000;
  const a = await measure(5, 1, () => {
    for (let i = 0; i < reps; i++) parsePrometheusText(text);
  });
  console.log(`Prometheus ${name}: ours ${((a.medianMs * 1000) / reps).toFixed(1)} us per page`);
  if (promLib) {
    let ok = true;
    try {
      promLib(text);
    } catch (e) {
      ok = false;
      console.log(`Prometheus ${name}: parse-prometheus-text-format throws: ${(e as Error).message}`);
    }
    if (ok) {
      const b = await measure(5, 1, () => {
        for (let i = 0; i < reps; i++) promLib(text);
      });
      console.log(`Prometheus ${name}: parse-prometheus-text-format ${((b.medianMs * 1000) / reps).toFixed(1)} us per page`);
    }
  }
}
