// Helpers for the serve tests: a real server on 127.0.0.1 (port 0) with the real tiny model in a temporary
// GEMMA_BENCH_HOME, images made with sharp, chat request bodies, and an SSE reader that stamps each event's arrival.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { startServer, type RunningServer, type ServeOptions } from '../../src/serve/http-server.js';

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly logs: string[];
  stop(): Promise<void>;
}

/**
 * A server with its own data directory (the tiny model builds there on first use, about a second), or `home`'s,
 * which the caller owns (servers started one after the other share one build).
 */
export async function testServer(o: Omit<ServeOptions, 'log'> & { home?: string } = {}): Promise<TestServer> {
  const ownHome = o.home === undefined;
  const home = o.home ?? mkdtempSync(join(tmpdir(), 'gb-serve-'));
  const logs: string[] = [];
  const { home: _home, ...opts } = o;
  const server = await startServer({ port: 0, threads: 1, ...opts, env: { ...process.env, ...o.env, GEMMA_BENCH_HOME: home }, log: (level, m) => logs.push(`${level}: ${m}`) });
  return {
    server,
    url: server.url,
    logs,
    async stop() {
      await server.close();
      if (ownHome) rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A PNG of noise (so it is not trivially compressible), as a data URL. */
export async function pngDataUrl(width: number, height: number): Promise<string> {
  const px = Buffer.alloc(width * height * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 2654435761) >>> 24;
  const png = await sharp(px, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

export const PROMPT = 'What is the total?';

export type Part = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

/** A chat completion body: one user message with the image and the prompt (text first, as vllm bench serve sends). */
export function chatBody(imageUrl: string, extra: Record<string, unknown> = {}, parts?: Part[]): Record<string, unknown> {
  return {
    model: 'tiny',
    messages: [{ role: 'user', content: parts ?? [{ type: 'text', text: PROMPT }, { type: 'image_url', image_url: { url: imageUrl } }] }],
    max_tokens: 4,
    ...extra,
  };
}

export function postChat(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });
}

export interface SseEvent {
  /** The parsed JSON, or the string "[DONE]". */
  readonly data: any;
  /** performance.now() when the read that completed it returned. */
  readonly at: number;
}

/** The `data:` events of an SSE response as they arrive, each stamped with its arrival time. */
export async function* sseEvents(res: Response): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const at = performance.now();
    buffer += decoder.decode(chunk, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data: ')) continue;
        const payload = line.slice(6);
        yield { data: payload === '[DONE]' ? '[DONE]' : JSON.parse(payload), at };
      }
    }
  }
}

/** Reads a whole SSE response. */
export async function readSse(res: Response): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const e of sseEvents(res)) events.push(e);
  return events;
}

/** Prometheus text -> "name{labels}" -> value (samples only); labels sorted by name, so their order does not matter. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    out.set(series(m[1], labels, false), Number(m[3]));
  }
  return out;
}

export async function metrics(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  return parseMetrics(await res.text());
}

/** The key of a sample in parseMetrics' map: model_name="tiny" and engine="0" unless `serverLabels` is false. */
export function series(name: string, labels: Record<string, string> = {}, serverLabels = true): string {
  const all = serverLabels ? { model_name: 'tiny', engine: '0', ...labels } : labels;
  const keys = Object.keys(all).sort();
  return keys.length === 0 ? name : `${name}{${keys.map((k) => `${k}="${all[k]}"`).join(',')}}`;
}
