// Small HTTP GETs with a timeout that never reject (a server's /v1/models, a Prometheus /metrics page), and the
// keep-alive agents gemma-bench's HTTP clients share per endpoint. Failures come back as a kind and a message.
import http from 'node:http';
import https from 'node:https';

export type NetworkFailure = 'http' | 'refused' | 'reset' | 'timeout' | 'network';

export interface Agents {
  readonly http: http.Agent;
  readonly https: https.Agent;
}

/** Keep-alive agents with no socket cap: the load generator, not the client, decides concurrency. */
export function createAgents(): Agents {
  const opts = { keepAlive: true, keepAliveMsecs: 30_000, maxSockets: Infinity, maxFreeSockets: 1024, scheduling: 'lifo' as const };
  return { http: new http.Agent(opts), https: new https.Agent(opts) };
}

export function destroyAgents(a: Agents): void {
  a.http.destroy();
  a.https.destroy();
}

/** What a socket error means for a request: refused, reset, or another network failure. */
export function networkKind(err: NodeJS.ErrnoException): 'refused' | 'reset' | 'network' {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 'reset';
    default:
      return 'network';
  }
}

export interface GetResult {
  /** HTTP 200 and the whole body read. */
  readonly ok: boolean;
  readonly status: number | null;
  readonly statusMessage: string | null;
  /** The body (also for non-200 answers, to read the server's message), cut at the limit. */
  readonly text: string;
  readonly error: string | null;
  readonly kind: NetworkFailure | null;
}

export interface GetOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly agents?: Agents;
  /** Bodies longer than this are cut off (the request is aborted). */
  readonly limitBytes?: number;
  readonly accept?: string;
}

const DEFAULT_LIMIT_BYTES = 32 * 1024 * 1024;

export function httpGet(url: URL, o: GetOptions): Promise<GetResult> {
  const limit = o.limitBytes ?? DEFAULT_LIMIT_BYTES;
  return new Promise((resolve) => {
    const isHttps = url.protocol === 'https:';
    let settled = false;
    const done = (r: GetResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const fail = (kind: NetworkFailure, error: string, status: number | null = null) => done({ ok: false, status, statusMessage: null, text: '', error, kind });
    const headers = { ...o.headers, Accept: o.accept ?? '*/*' };
    const agent = o.agents ? { agent: isHttps ? o.agents.https : o.agents.http } : {};
    const r = (isHttps ? https : http).request(url, { method: 'GET', headers, ...agent }, (res) => {
      const parts: Buffer[] = [];
      let got = 0;
      res.on('data', (c: Buffer) => {
        got += c.length;
        if (got <= limit) parts.push(c);
        else res.destroy();
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const text = Buffer.concat(parts).toString('utf8');
        const statusMessage = res.statusMessage ?? null;
        if (status === 200) done({ ok: true, status, statusMessage, text, error: null, kind: null });
        else done({ ok: false, status, statusMessage, text, error: `HTTP ${status}${statusMessage ? ` ${statusMessage}` : ''}`, kind: 'http' });
      });
      res.on('error', (err: NodeJS.ErrnoException) => fail(networkKind(err), `connection failed while reading: ${err.code ?? err.message}`, res.statusCode ?? null));
    });
    r.on('error', (err: NodeJS.ErrnoException) => {
      const kind = networkKind(err);
      fail(kind, kind === 'refused' ? `connection refused (${err.code})` : `${err.code ?? err.message}`);
    });
    const timer = setTimeout(() => {
      fail('timeout', `no answer within ${Math.round(o.timeoutMs / 1000)} s`);
      r.destroy();
    }, o.timeoutMs);
    r.end();
  });
}
