// HTTP I/O for the openai backend, on node:http with one keep-alive agent per endpoint (chosen by measurement:
// bench/http.ts compares node:http, the global fetch and undici.request). It owns sending one streamed POST and
// turning everything that can go wrong with it into a failed result with a reason (HTTP status and the server's
// message, connection refused or reset, a malformed chunk, an error object mid-stream, the per-request timeout);
// it never throws for one request. Each network chunk is stamped with nowMs() (src/util/clock.ts) as it arrives
// and fed through the SSE parser into the stream-timing fold. Also a small GET-JSON helper for /v1/models.
import http from 'node:http';
import https from 'node:https';
import { nowMs } from '../../../util/clock.js';
import { httpGet, networkKind, type Agents } from '../../../util/http-get.js';
import { SseParser } from './sse.js';
import { errorMessage, StreamFold, type FoldOptions, type FoldResult } from './stream-timing.js';

export const DEFAULT_REQUEST_TIMEOUT_S = 600;
/** How much of an error response body is read to find the server's message. */
export const ERROR_BODY_LIMIT_BYTES = 64 * 1024;

export type FailureKind = 'http' | 'refused' | 'reset' | 'timeout' | 'stream' | 'not-streamed' | 'network';

export interface StreamPostRequest {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** Body parts written in order (strings are UTF-8); their byte lengths make the Content-Length. */
  readonly body: readonly (string | Uint8Array)[];
  readonly timeoutMs: number;
  readonly fold: FoldOptions;
  readonly agents: Agents;
  /** Called with each timestamped payload (tests, live views); never required. */
  readonly onPayload?: (atMs: number, data: string) => void;
}

export interface StreamPostSuccess {
  readonly ok: true;
  /** nowMs() just before the request was handed to the socket (vLLM's `st`). */
  readonly startMs: number;
  readonly measurement: Extract<FoldResult, { ok: true }>;
  readonly unterminatedLastEvent: boolean;
}

export interface StreamPostFailure {
  readonly ok: false;
  readonly startMs: number;
  readonly kind: FailureKind;
  readonly status: number | null;
  readonly reason: string;
}

export type StreamPostResult = StreamPostSuccess | StreamPostFailure;

function byteLength(part: string | Uint8Array): number {
  return typeof part === 'string' ? Buffer.byteLength(part) : part.byteLength;
}

/** The server's error message from a JSON error body (OpenAI/vLLM {error:{message}}, FastAPI {detail}, TGI {error}). */
export function serverMessage(body: string): string | null {
  const t = body.trim();
  if (t.length === 0) return null;
  try {
    const o = JSON.parse(t) as Record<string, unknown>;
    if (o && typeof o === 'object') {
      if (o.error !== undefined && o.error !== null) return errorMessage(o.error);
      if (typeof o.message === 'string') return errorMessage(o);
      if (o.detail !== undefined) return typeof o.detail === 'string' ? o.detail : JSON.stringify(o.detail).slice(0, 500);
    }
  } catch {
    // not JSON: fall through to the text
  }
  return t.replace(/\s+/g, ' ').slice(0, 500);
}


/** Sends one streamed POST and folds its SSE response. Resolves always; never rejects. */
export function streamPost(req: StreamPostRequest): Promise<StreamPostResult> {
  return new Promise<StreamPostResult>((resolve) => {
    const isHttps = req.url.protocol === 'https:';
    const mod = isHttps ? https : http;
    let contentLength = 0;
    for (const p of req.body) contentLength += byteLength(p);
    let settled = false;
    let chunksSeen = 0;
    let timer: NodeJS.Timeout | undefined;
    let startMs = 0;
    let responded = false;
    const finish = (r: StreamPostResult) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve(r);
    };
    const fail = (kind: FailureKind, reason: string, status: number | null = null) => finish({ ok: false, startMs, kind, status, reason });

    startMs = nowMs();
    const r = mod.request(
      req.url,
      {
        method: 'POST',
        agent: isHttps ? req.agents.https : req.agents.http,
        headers: { ...req.headers, 'Content-Type': 'application/json', Accept: 'text/event-stream', 'Content-Length': String(contentLength) },
      },
      (res) => {
        responded = true;
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          const parts: Buffer[] = [];
          let got = 0;
          res.on('data', (c: Buffer) => {
            if (got < ERROR_BODY_LIMIT_BYTES) parts.push(c);
            got += c.length;
          });
          res.on('end', () => {
            const msg = serverMessage(Buffer.concat(parts).toString('utf8'));
            fail('http', `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${msg ? `: ${msg}` : ''}`, status);
          });
          res.on('error', () => fail('http', `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''} (error body unreadable)`, status));
          return;
        }
        const ctype = String(res.headers['content-type'] ?? '');
        if (ctype.includes('application/json')) {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => {
            const body = Buffer.concat(parts).toString('utf8');
            const msg = serverMessage(body);
            fail('not-streamed', `the server answered with JSON instead of an event stream (does it support "stream": true?)${msg ? `: ${msg}` : ''}`, status);
          });
          return;
        }
        const parser = new SseParser();
        const fold = new StreamFold(startMs, req.fold);
        const onEvents = (atMs: number, events: readonly { data: string }[]) => {
          for (const e of events) {
            req.onPayload?.(atMs, e.data);
            const f = fold.push({ atMs, data: e.data });
            if (f !== null) {
              fail('stream', f, status);
              res.destroy();
              return false;
            }
          }
          return true;
        };
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          const at = nowMs();
          chunksSeen++;
          onEvents(at, parser.feed(chunk));
        });
        res.on('end', () => {
          if (settled) return;
          const tail = parser.finish();
          if (!onEvents(nowMs(), tail.events)) return;
          const m = fold.finish();
          if (!m.ok) fail('stream', m.reason, status);
          else finish({ ok: true, startMs, measurement: m, unterminatedLastEvent: tail.unterminated });
        });
        res.on('aborted', () => fail('reset', `connection closed mid-stream after ${chunksSeen} network chunk(s)`, status));
        res.on('close', () => {
          if (!res.complete) fail('reset', `connection closed mid-stream after ${chunksSeen} network chunk(s)`, status);
        });
        res.on('error', (err: NodeJS.ErrnoException) => {
          const kind = networkKind(err);
          fail(kind === 'refused' ? 'reset' : kind, `connection ${kind === 'reset' || kind === 'refused' ? 'reset' : 'failed'} mid-stream after ${chunksSeen} network chunk(s): ${err.code ?? err.message}`, status);
        });
      },
    );
    r.on('error', (err: NodeJS.ErrnoException) => {
      const kind = networkKind(err);
      if (responded) {
        fail(kind === 'refused' ? 'reset' : kind, `connection ${kind === 'network' ? 'failed' : 'reset'} mid-stream after ${chunksSeen} network chunk(s): ${err.code ?? err.message}`);
        return;
      }
      const what = kind === 'refused' ? 'connection refused' : kind === 'reset' ? 'connection reset' : 'request failed';
      fail(kind, `${what} (${err.code ?? err.message}) for POST ${req.url.origin}${req.url.pathname}`);
    });
    timer = setTimeout(() => {
      fail('timeout', `timed out after ${Math.round(req.timeoutMs / 1000)} s (${chunksSeen} network chunk(s) received)`);
      r.destroy();
    }, req.timeoutMs);
    timer.unref?.();
    for (const p of req.body) r.write(p);
    r.end();
  });
}

export interface GetJsonResult {
  readonly ok: boolean;
  readonly status: number | null;
  readonly json: unknown;
  readonly error: string | null;
  readonly kind: FailureKind | null;
}

/** GET a JSON document with a timeout; never rejects. A non-200 answer carries the server's own message. */
export async function getJson(url: URL, headers: Readonly<Record<string, string>>, timeoutMs: number, agents?: Agents): Promise<GetJsonResult> {
  const r = await httpGet(url, { headers, timeoutMs, accept: 'application/json', limitBytes: 16 * 1024 * 1024, ...(agents ? { agents } : {}) });
  if (!r.ok) {
    const msg = r.kind === 'http' ? serverMessage(r.text) : null;
    return { ok: false, status: r.status, json: null, error: `${r.error}${msg ? `: ${msg}` : ''}`, kind: r.kind };
  }
  try {
    return { ok: true, status: r.status, json: JSON.parse(r.text), error: null, kind: null };
  } catch {
    return { ok: false, status: r.status, json: null, error: `the answer is not JSON: ${r.text.replace(/\s+/g, ' ').slice(0, 200)}`, kind: 'stream' };
  }
}
