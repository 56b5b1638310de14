// HTTP client choice for the openai backend, measured: node:http (client.ts streamPost, keep-alive agent), the
// global fetch (undici inside Node 20), and undici.request (when UNDICI_PATH points at an installed undici, e.g.
// /tmp/x/node_modules/undici/index.js: it is not a dependency). Against a child-process SSE server with a fixed
// schedule (bench/http-sse-server.ts: first token 20 ms after the request, then one every 5 ms, 16 tokens), each
// client runs a closed loop of C concurrent streams for D seconds and reports:
//   - requests/s completed (every stream parsed by the real SSE parser and stream-timing fold);
//   - TTFT error: client-measured TTFT minus the server's own (its first write after the body arrived), p50/p99/max;
//   - client CPU: process.cpuUsage over the run, as a share of one core and of the machine's cores;
//   - the server child's CPU, since both share the machine.
// Only 127.0.0.1. Bounded: fixed duration, fixed concurrency.
//   node dist/bench/http.js [concurrency=64] [seconds=5] [clients=node-http,fetch,undici]
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { streamPost } from '../src/engine/backends/openai/client.js';
import { createAgents, destroyAgents } from '../src/util/http-get.js';
import { SseParser } from '../src/engine/backends/openai/sse.js';
import { StreamFold } from '../src/engine/backends/openai/stream-timing.js';
import { nowMs } from '../src/util/clock.js';

const concurrency = Number(process.argv[2] ?? 64);
const seconds = Number(process.argv[3] ?? 5);
const wanted = (process.argv[4] ?? 'node-http,fetch,undici').split(',');
const FIRST_MS = 20;
const EVERY_MS = 5;
const TOKENS = 16;
const WARMUP_S = 1;

const here = dirname(fileURLToPath(import.meta.url));
const body = JSON.stringify({ model: 'm', stream: true, stream_options: { include_usage: true }, max_completion_tokens: TOKENS, ignore_eos: true, temperature: 0, messages: [{ role: 'user', content: [{ type: 'text', text: 'x'.repeat(900) }] }] });

interface One {
  ok: boolean;
  clientTtftMs: number;
  serverTtftMs: number | null;
  error?: string;
}
type Client = { name: string; one: (url: URL) => Promise<One>; close: () => Promise<void> };

function serverTtft(data: string): number | null {
  const m = /"server_ttft_ms":([\d.]+)/.exec(data);
  return m ? Number(m[1]) : null;
}

function nodeHttpClient(): Client {
  const agents = createAgents();
  return {
    name: 'node:http',
    async one(url) {
      let srv: number | null = null;
      const r = await streamPost({ url, headers: {}, body: [body], timeoutMs: 30_000, fold: { mode: 'choices' }, agents, onPayload: (_t, d) => (srv ??= serverTtft(d)) });
      return r.ok ? { ok: true, clientTtftMs: r.measurement.ttftMs, serverTtftMs: srv } : { ok: false, clientTtftMs: 0, serverTtftMs: null, error: r.reason };
    },
    async close() {
      destroyAgents(agents);
    },
  };
}

async function foldChunks(start: number, chunks: AsyncIterable<Uint8Array>): Promise<One> {
  const parser = new SseParser();
  const fold = new StreamFold(start, { mode: 'choices' });
  let srv: number | null = null;
  for await (const c of chunks) {
    const t = nowMs();
    for (const e of parser.feed(c)) {
      srv ??= serverTtft(e.data);
      fold.push({ atMs: t, data: e.data });
    }
  }
  const r = fold.finish();
  return r.ok ? { ok: true, clientTtftMs: r.ttftMs, serverTtftMs: srv } : { ok: false, clientTtftMs: 0, serverTtftMs: null, error: r.reason };
}

function fetchClient(): Client {
  return {
    name: 'fetch',
    async one(url) {
      const start = nowMs();
      const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' }, body });
      if (!res.ok || !res.body) return { ok: false, clientTtftMs: 0, serverTtftMs: null, error: `HTTP ${res.status}` };
      return foldChunks(start, res.body as unknown as AsyncIterable<Uint8Array>);
    },
    async close() {},
  };
}

async function undiciClient(): Promise<Client | null> {
  const path = process.env.UNDICI_PATH;
  if (!path) return null;
  const undici = (await import(pathToFileURL(path).href)) as { Agent: new (o: object) => { close(): Promise<void> }; request: (url: URL, o: object) => Promise<{ statusCode: number; body: AsyncIterable<Uint8Array> & { dump(): Promise<void> } }> };
  const dispatcher = new undici.Agent({ connections: null, pipelining: 1, keepAliveTimeout: 30_000 });
  return {
    name: 'undici.request',
    async one(url) {
      const start = nowMs();
      const res = await undici.request(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body, dispatcher });
      if (res.statusCode !== 200) {
        await res.body.dump();
        return { ok: false, clientTtftMs: 0, serverTtftMs: null, error: `HTTP ${res.statusCode}` };
      }
      return foldChunks(start, res.body);
    },
    async close() {
      await dispatcher.close();
    },
  };
}

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

async function startServer(): Promise<{ port: number; stop: () => Promise<number> }> {
  const child = spawn(process.execPath, [join(here, 'http-sse-server.js'), String(FIRST_MS), String(EVERY_MS), String(TOKENS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = '';
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  const next = () => new Promise<string>((resolve) => (lines.length > 0 ? resolve(lines.shift()!) : waiters.push(resolve)));
  const port = Number((await next()).split(' ')[1]);
  return {
    port,
    async stop() {
      child.stdin.write('stop\n');
      const cpu = Number((await next()).split(' ')[1]);
      return cpu;
    },
  };
}

async function run(client: Client, url: URL, forS: number): Promise<{ done: One[]; wallMs: number; cpuMs: number }> {
  const done: One[] = [];
  const t0 = nowMs();
  const cpu0 = process.cpuUsage();
  const end = t0 + forS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (nowMs() < end) done.push(await client.one(url));
    }),
  );
  const wallMs = nowMs() - t0;
  const c = process.cpuUsage(cpu0);
  return { done, wallMs, cpuMs: (c.user + c.system) / 1000 };
}

const cores = cpus().length;
console.log(`${concurrency} concurrent streams of ${TOKENS} tokens (first after ${FIRST_MS} ms, then every ${EVERY_MS} ms: ideal ${(concurrency / ((FIRST_MS + (TOKENS - 1) * EVERY_MS) / 1000)).toFixed(0)} req/s), ${seconds} s per client, ${cores} core(s), Node ${process.version}`);
const clients: Client[] = [];
if (wanted.includes('node-http')) clients.push(nodeHttpClient());
if (wanted.includes('fetch')) clients.push(fetchClient());
if (wanted.includes('undici')) {
  const u = await undiciClient();
  if (u) clients.push(u);
  else console.log('undici.request: skipped (set UNDICI_PATH to an installed undici/index.js to include it)');
}
for (const client of clients) {
  const server = await startServer();
  const url = new URL(`http://127.0.0.1:${server.port}/v1/chat/completions`);
  await run(client, url, WARMUP_S);
  const r = await run(client, url, seconds);
  const serverCpuMs = await server.stop();
  await client.close();
  const ok = r.done.filter((d) => d.ok);
  const errs = ok.filter((d) => d.serverTtftMs !== null).map((d) => d.clientTtftMs - d.serverTtftMs!).sort((a, b) => a - b);
  const failed = r.done.length - ok.length;
  console.log(
    `${client.name.padEnd(15)} ${(ok.length / (r.wallMs / 1000)).toFixed(0).padStart(5)} req/s` +
      `  TTFT error (client - server) mean ${(errs.reduce((a, b) => a + b, 0) / errs.length).toFixed(2)} ms, p50 ${pct(errs, 50).toFixed(2)} ms, p90 ${pct(errs, 90).toFixed(2)} ms, p99 ${pct(errs, 99).toFixed(2)} ms, max ${errs[errs.length - 1].toFixed(2)} ms` +
      `  client CPU ${((r.cpuMs / r.wallMs) * 100).toFixed(0)}% of a core (${((r.cpuMs / r.wallMs / cores) * 100).toFixed(0)}% of ${cores})` +
      `  server child CPU ${(serverCpuMs / 1000).toFixed(1)} s total${failed ? `  FAILED ${failed}: ${r.done.find((d) => !d.ok)?.error}` : ''}`,
  );
}
