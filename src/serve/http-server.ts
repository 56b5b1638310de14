// `startServer`: the embedded onnx backend behind vLLM's OpenAI-compatible HTTP API on node:http, so a machine
// with no GPU can run gemma-bench's whole HTTP path end to end. A test and demo server, not a production one.
// Owns the routes, request bodies, the server's lifetime and clean shutdown; each route's logic lives in its
// own module (chat-request, prompt-plan, completion, responders, metrics).
//
// Routes: GET /health, GET /v1/models, GET /metrics, POST /v1/chat/completions; anything else is FastAPI's
// {"detail": "Not Found"} (404) or {"detail": "Method Not Allowed"} (405), as vLLM answers them.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { LogFn } from '../engine/backend.js';
import { OnnxBackend } from '../engine/backends/onnx/index.js';
import { gemmaTokenizer } from '../panscan/tokenizer.js';
import { parseChatRequest } from './chat-request.js';
import { runCompletion, type CompletionDeps, type StopCause } from './completion.js';
import { ApiError, internalError, METHOD_NOT_ALLOWED, ROUTE_NOT_FOUND, schemaError, ServeConfigError, tooLarge, unavailable } from './errors.js';
import { ImageSpool } from './image-spool.js';
import { ServeMetrics } from './metrics.js';
import { imageSize, planPrompt, resolveMaxTokens } from './prompt-plan.js';
import { modelList, newCompletionId, unixSeconds } from './protocol.js';
import { ReplicaPool } from './replica-pool.js';
import { JsonResponder, sendError, sendJson, SseResponder } from './responders.js';
import { describeServedModel, type ServedModel } from './served-model.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8000;
/** Request bodies larger than this are refused (a base64 image is 4/3 of the file). */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024 * 1024;

export interface ServeOptions {
  /**
   * Default 127.0.0.1 (vLLM's default is every interface; this server never listens beyond loopback unless told
   * to). Another address is used only when given here explicitly, with a warning in the log.
   */
  readonly host?: string;
  /** Default 8000; 0 picks a free port. */
  readonly port?: number;
  /** "tiny" (default, the built-in random-weight model) or an ONNX export directory. */
  readonly model?: string;
  /** Default 1. */
  readonly replicas?: number;
  /** CPU threads shared by all replicas (default: all cores). */
  readonly threads?: number;
  /** Context length (vLLM's --max-model-len); default the model's max_position_embeddings. */
  readonly maxModelLen?: number;
  /** Images with more pixels are refused with 400 (default Pillow's 89,478,485). */
  readonly pixelLimit?: number;
  readonly log?: LogFn;
  /** For GEMMA_BENCH_HOME (where the tiny model is built) and the backend's test-only fault injection. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8000 */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly model: ServedModel;
  readonly replicas: number;
  /** Stops accepting, ends in-flight streams (finish_reason "abort"), closes the replicas. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost|::ffff:127(\.\d{1,3}){3})$/i;
export const isLoopbackHost = (host: string): boolean => LOOPBACK.test(host);

export async function startServer(o: ServeOptions = {}): Promise<RunningServer> {
  const log: LogFn = o.log ?? (() => {});
  const host = o.host ?? DEFAULT_HOST;
  if (host.trim() === '') throw new ServeConfigError('the host is empty; give an address such as 127.0.0.1 (an empty host would listen on every interface)');
  const port = o.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ServeConfigError(`the port must be an integer from 0 to 65535 (got ${port})`);
  const replicaCount = o.replicas ?? 1;
  if (!Number.isInteger(replicaCount) || replicaCount < 1) throw new ServeConfigError(`replicas must be an integer >= 1 (got ${replicaCount})`);
  if (!isLoopbackHost(host)) log('warn', `listening on ${host}: reachable from other machines. This is a test and demo server with no authentication, not a production one.`);

  const modelSpec = o.model ?? 'tiny';
  const backend = await OnnxBackend.create({ model: modelSpec, ...(o.threads !== undefined ? { threads: o.threads } : {}), log, ...(o.env ? { env: o.env } : {}) });
  const description = backend.model();
  const model = describeServedModel({ id: modelSpec, dir: description.path ?? modelSpec, label: description.label, ...(o.maxModelLen !== undefined ? { maxModelLen: o.maxModelLen } : {}), created: unixSeconds() });
  const starting = backend.start({ replicas: replicaCount, gpusPerReplica: 1, log });
  // About a second, once, while the replicas load in their threads: the first request should not pay it.
  const tokenizer = gemmaTokenizer();
  const replicas = await starting;
  const pool = new ReplicaPool(replicas, log);
  const metrics = new ServeMetrics(model.id, () => ({ running: pool.running, waiting: pool.waiting }));
  let spool: ImageSpool;
  try {
    spool = await ImageSpool.create();
  } catch (err) {
    await pool.close();
    throw err;
  }
  let requestSeq = 0;
  const deps: CompletionDeps = { pool, spool, tokenizer, metrics, stopTokenIds: model.stopTokenIds, log, nextRequestId: () => ++requestSeq, ...(o.pixelLimit !== undefined ? { pixelLimit: o.pixelLimit } : {}) };

  const inFlight = new Map<AbortController, Promise<void>>();
  let closing = false;
  let warnedTemperature = false;

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAtMs = performance.now();
    const created = unixSeconds();
    const body = await readJsonBody(req);
    const request = parseChatRequest(body, model.id);
    const { width, height } = await imageSize(request.image.bytes, o.pixelLimit);
    const plan = planPrompt(request.text, width, height, request.panScan);
    const maxTokens = resolveMaxTokens(request.maxTokens, plan.promptTokens, model.maxModelLen);
    if (request.temperature !== null && request.temperature > 0 && !warnedTemperature) {
      warnedTemperature = true;
      log('warn', `a request asked for temperature ${request.temperature}: this server always decodes greedily (argmax), whatever the temperature (logged once)`);
    }
    if (closing) throw unavailable('the server is shutting down');
    const stop = new AbortController();
    res.on('close', () => {
      if (!res.writableEnded) stop.abort('client-gone' satisfies StopCause);
    });
    const head = { id: newCompletionId(), created, model: request.model };
    const sink = request.stream ? new SseResponder(res, head, request) : new JsonResponder(res, head);
    const done = runCompletion(deps, { request, plan, maxTokens, arrivedAtMs, signal: stop.signal }, sink);
    inFlight.set(stop, done);
    try {
      await done;
    } finally {
      inFlight.delete(stop);
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://server').pathname;
    const method = req.method ?? 'GET';
    const allow = ROUTES[path];
    if (!allow) return sendJson(res, ROUTE_NOT_FOUND.status, ROUTE_NOT_FOUND.body);
    if (method !== allow) {
      res.setHeader('allow', allow);
      return sendJson(res, METHOD_NOT_ALLOWED.status, METHOD_NOT_ALLOWED.body);
    }
    switch (path) {
      case '/health': {
        // vLLM: 200 with an empty body while the engine lives, 503 once it is dead.
        res.writeHead(pool.replicasAlive > 0 && !closing ? 200 : 503, { 'content-length': 0 });
        res.end();
        return;
      }
      case '/v1/models':
        return sendJson(res, 200, modelList({ id: model.id, created: model.created, root: model.root, maxModelLen: model.maxModelLen }));
      case '/metrics': {
        const text = await metrics.text();
        res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      case '/v1/chat/completions':
        return chat(req, res);
    }
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof ApiError) return sendError(res, err);
      log('error', `${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
      sendError(res, internalError((err as Error).message ?? String(err)));
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await pool.close();
    await spool.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new ServeConfigError(`${host}:${port} is already in use; pick another --port (0 picks a free one)`);
    if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') throw new ServeConfigError(`cannot listen on ${host}: not an address of this machine`);
    throw err;
  }
  const bound = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;

  let closed: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      closing = true;
      const serverClosed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      for (const stop of inFlight.keys()) stop.abort('shutdown' satisfies StopCause);
      await Promise.allSettled([...inFlight.values()]);
      await pool.close();
      await spool.close();
      server.closeAllConnections();
      await serverClosed;
    })());

  return { url, host, port: bound, model, replicas: replicas.length, close };
}

const ROUTES: Readonly<Record<string, string>> = {
  '/health': 'GET',
  '/v1/models': 'GET',
  '/metrics': 'GET',
  '/v1/chat/completions': 'POST',
};

/** The request body as JSON; 413 past MAX_REQUEST_BODY_BYTES, and pydantic's json_invalid 400 for bad JSON. */
async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Read to the end even when too large (dropping the excess), so the answer reaches the client.
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_REQUEST_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_REQUEST_BODY_BYTES) throw tooLarge(`the request body is over ${MAX_REQUEST_BODY_BYTES / (1024 * 1024)} MiB`);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw schemaError(['body'], 'json_invalid', `JSON decode error: ${(err as Error).message}`, undefined);
  }
}
