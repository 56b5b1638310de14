// A small local OpenAI-compatible server for tests and benchmarks (127.0.0.1, port 0): it replays recorded SSE
// streams (test/fixtures/openai/streams) with their attached timing, answers /v1/models and /metrics, records what
// it was sent, and injects faults: an HTTP status with an error JSON, a connection reset mid-stream, a malformed
// chunk, an error object mid-stream, a stream cut off, a hang (for the timeout test), a JSON answer instead of a
// stream, and /v1/models answers or failures. A plan is chosen per request, so one server can serve mixed traffic.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { FIXTURES_DIR } from './repo.js';

export const STREAMS_DIR = join(FIXTURES_DIR, 'openai', 'streams');
export const METRICS_DIR = join(FIXTURES_DIR, 'openai', 'metrics');

export interface StreamFixture {
  readonly server: string;
  readonly source: Readonly<Record<string, string>>;
  readonly timing: string;
  /** Raw SSE lines as recorded ("data: {...}"). */
  readonly frames: readonly string[];
  /** ms after the request arrived at which each frame is written. */
  readonly scheduleMs: readonly number[];
  readonly expected: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export function loadStream(name: string): StreamFixture {
  return JSON.parse(readFileSync(join(STREAMS_DIR, name), 'utf8')) as StreamFixture;
}

/** Each frame's data field (the text after "data:"), as the SSE parser yields it. */
export function frameData(frame: string): string {
  return frame.replace(/^data: ?/, '');
}

export type Plan =
  | { readonly kind: 'replay'; readonly fixture: StreamFixture; readonly crlf?: boolean; readonly splitEveryBytes?: number; readonly timeScale?: number }
  | { readonly kind: 'schedule'; readonly firstMs: number; readonly everyMs: number; readonly tokens: number; readonly usage?: boolean; readonly roleChunk?: boolean }
  | { readonly kind: 'status'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'reset-after'; readonly fixture: StreamFixture; readonly frames: number }
  | { readonly kind: 'malformed-after'; readonly fixture: StreamFixture; readonly frames: number; readonly text?: string }
  | { readonly kind: 'error-after'; readonly fixture: StreamFixture; readonly frames: number; readonly error: unknown }
  | { readonly kind: 'cut-after'; readonly fixture: StreamFixture; readonly frames: number }
  | { readonly kind: 'hang' }
  | { readonly kind: 'json'; readonly body: unknown };

export type ModelsPlan = { readonly kind: 'ok'; readonly ids: readonly string[]; readonly extra?: Readonly<Record<string, unknown>> } | { readonly kind: 'status'; readonly status: number; readonly body: unknown } | { readonly kind: 'hang' } | { readonly kind: 'not-json' };

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The parsed JSON body with every data: URL replaced by "<data:MIME;base64 N chars>" (null for GETs). */
  readonly body: Record<string, unknown> | null;
  /** The base64 payload of the first image URL (kept only when keepImages is on). */
  readonly image: string | null;
  /** Raw body length in bytes. */
  readonly bytes: number;
}

export interface ReplayerOptions {
  readonly plan?: (req: ReceivedRequest, index: number) => Plan;
  readonly models?: ModelsPlan;
  /** Text served at /metrics; null answers 404. */
  readonly metrics?: string | (() => string) | null;
  readonly keepImages?: boolean;
  /** Keep only the last N received requests (benchmarks); default all. */
  readonly keepRequests?: number;
}

function stripImages(v: unknown, found: { first: string | null }): unknown {
  if (typeof v === 'string') {
    const m = /^data:([^;,]+);base64,/.exec(v);
    if (m) {
      if (found.first === null) found.first = v.slice(m[0].length);
      return `<data:${m[1]};base64 ${v.length - m[0].length} chars>`;
    }
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => stripImages(x, found));
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = stripImages(x, found);
    return o;
  }
  return v;
}

/** Frames of a synthetic vLLM-shaped stream: role chunk, one token per chunk, usage chunk, [DONE]. */
export function syntheticFrames(tokens: number, usage = true, roleChunk = true): string[] {
  const head = '{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"m","choices":[';
  const frames: string[] = [];
  if (roleChunk) frames.push(`data: ${head}{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`);
  for (let i = 0; i < tokens; i++) {
    const fin = i === tokens - 1 ? '"length"' : 'null';
    frames.push(`data: ${head}{"index":0,"delta":{"content":" t${i}"},"logprobs":null,"finish_reason":${fin}}]}`);
  }
  if (usage) frames.push(`data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1000,"total_tokens":${1000 + tokens},"completion_tokens":${tokens}}}`);
  frames.push('data: [DONE]');
  return frames;
}

export class SseReplayer {
  readonly requests: ReceivedRequest[] = [];
  private count = 0;
  private readonly sockets = new Set<import('node:net').Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private opts: ReplayerOptions;

  private constructor(
    private readonly server: http.Server,
    opts: ReplayerOptions,
  ) {
    this.opts = opts;
  }

  static async start(opts: ReplayerOptions = {}): Promise<SseReplayer> {
    let self: SseReplayer | null = null;
    const server = http.createServer((req, res) => self!.handle(req, res));
    server.keepAliveTimeout = 60_000;
    self = new SseReplayer(server, opts);
    server.on('connection', (s) => {
      self!.sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => self!.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests the server has taken so far (all of them, not only the kept ones). */
  get received(): number {
    return this.count;
  }

  setOptions(patch: Partial<ReplayerOptions>): void {
    this.opts = { ...this.opts, ...patch };
  }

  /** Stops listening and drops every open connection (new connections are then refused). */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, Math.max(0, ms));
    this.timers.add(t);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const arrived = performance.now();
      const raw = Buffer.concat(parts);
      let body: Record<string, unknown> | null = null;
      const found = { first: null as string | null };
      if (raw.length > 0) {
        try {
          body = stripImages(JSON.parse(raw.toString('utf8')), found) as Record<string, unknown>;
        } catch {
          body = { unparsable: raw.toString('utf8').slice(0, 200) };
        }
      }
      const rec: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, image: this.opts.keepImages ? found.first : null, bytes: raw.length };
      const index = this.count++;
      this.requests.push(rec);
      if (this.opts.keepRequests !== undefined && this.requests.length > this.opts.keepRequests) this.requests.shift();
      this.route(rec, index, res, arrived);
    });
  }

  private route(rec: ReceivedRequest, index: number, res: http.ServerResponse, arrived: number): void {
    const path = rec.path.split('?')[0];
    if (rec.method === 'GET' && path === '/v1/models') return this.models(res);
    if (rec.method === 'GET' && path === '/metrics') {
      const m = typeof this.opts.metrics === 'function' ? this.opts.metrics() : this.opts.metrics;
      if (m === null || m === undefined) {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(m);
      return;
    }
    if (rec.method === 'POST' && path === '/v1/chat/completions') {
      const plan = this.opts.plan ? this.opts.plan(rec, index) : ({ kind: 'schedule', firstMs: 20, everyMs: 5, tokens: 16 } as Plan);
      return this.stream(plan, res, arrived);
    }
    res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ detail: 'Not Found' }));
  }

  private models(res: http.ServerResponse): void {
    const m = this.opts.models ?? { kind: 'ok', ids: ['google/gemma-3-27b-it'] };
    switch (m.kind) {
      case 'ok':
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(
          JSON.stringify({ object: 'list', data: m.ids.map((id) => ({ id, object: 'model', created: 1, owned_by: 'vllm', root: id, max_model_len: 131072, ...(m.extra ?? {}) })) }),
        );
        return;
      case 'status':
        res.writeHead(m.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(m.body));
        return;
      case 'not-json':
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>hello</html>');
        return;
      case 'hang':
        return;
    }
  }

  private writeFrames(res: http.ServerResponse, frames: readonly string[], schedule: readonly number[], arrived: number, opts: { crlf?: boolean; split?: number; scale?: number; stopAfter?: number; then?: () => void }): void {
    const nl = opts.crlf ? '\r\n' : '\n';
    const n = opts.stopAfter === undefined ? frames.length : Math.min(frames.length, opts.stopAfter);
    for (let i = 0; i < n; i++) {
      const at = arrived + schedule[i] * (opts.scale ?? 1);
      this.later(at - performance.now(), () => {
        if (res.destroyed) return;
        const text = `${frames[i]}${nl}${nl}`;
        if (opts.split && opts.split > 0) {
          const buf = Buffer.from(text);
          for (let o = 0; o < buf.length; o += opts.split) res.write(buf.subarray(o, o + opts.split));
        } else {
          res.write(text);
        }
        if (i === n - 1) {
          if (opts.then) opts.then();
          else res.end();
        }
      });
    }
    if (n === 0) opts.then ? opts.then() : res.end();
  }

  private stream(plan: Plan, res: http.ServerResponse, arrived: number): void {
    const sseHead = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' };
    switch (plan.kind) {
      case 'status':
        res.writeHead(plan.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(plan.body));
        return;
      case 'json':
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(plan.body));
        return;
      case 'hang':
        res.writeHead(200, sseHead);
        res.flushHeaders();
        return;
      case 'replay':
        res.writeHead(200, sseHead);
        this.writeFrames(res, plan.fixture.frames, plan.fixture.scheduleMs, arrived, { crlf: plan.crlf, split: plan.splitEveryBytes, scale: plan.timeScale });
        return;
      case 'schedule': {
        res.writeHead(200, sseHead);
        const frames = syntheticFrames(plan.tokens, plan.usage ?? true, plan.roleChunk ?? true);
        const schedule: number[] = [];
        let k = 0;
        if (plan.roleChunk ?? true) schedule.push(plan.firstMs);
        for (let i = 0; i < plan.tokens; i++) schedule.push(plan.firstMs + i * plan.everyMs);
        k = schedule[schedule.length - 1];
        if (plan.usage ?? true) schedule.push(k);
        schedule.push(k);
        this.writeFrames(res, frames, schedule, arrived, {});
        return;
      }
      case 'reset-after':
        res.writeHead(200, sseHead);
        this.writeFrames(res, plan.fixture.frames, plan.fixture.scheduleMs, arrived, { stopAfter: plan.frames, then: () => res.socket?.resetAndDestroy() });
        return;
      case 'cut-after':
        res.writeHead(200, sseHead);
        this.writeFrames(res, plan.fixture.frames, plan.fixture.scheduleMs, arrived, { stopAfter: plan.frames });
        return;
      case 'malformed-after':
        res.writeHead(200, sseHead);
        this.writeFrames(res, plan.fixture.frames, plan.fixture.scheduleMs, arrived, {
          stopAfter: plan.frames,
          then: () => res.end(`data: ${plan.text ?? '{"id":"chatcmpl-x","choices":[{"delta":{"content":"oops"'}\n\n`),
        });
        return;
      case 'error-after':
        res.writeHead(200, sseHead);
        this.writeFrames(res, plan.fixture.frames, plan.fixture.scheduleMs, arrived, {
          stopAfter: plan.frames,
          then: () => res.end(`data: ${JSON.stringify({ error: plan.error })}\n\ndata: [DONE]\n\n`),
        });
        return;
    }
  }
}
