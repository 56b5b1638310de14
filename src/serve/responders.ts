// The two ways a completion reaches its client over HTTP: server-sent events written token by token
// (stream: true), or one JSON body at the end. Both defer the status line until there is something to say, so a
// request that fails before its first token still gets a proper 400/500/503 JSON error, not a 200 stream; once
// streaming, an error becomes one `data: {"error": ...}` event and [DONE], as in vLLM. Writes to a client that
// has gone are dropped quietly.
import type { ServerResponse } from 'node:http';
import type { CompletionSink, Finish } from './completion.js';
import type { ApiError } from './errors.js';
import { chatCompletion, contentChunk, roleChunk, SSE_DONE, sseData, usage, usageChunk, type CompletionHead, type Usage } from './protocol.js';

export const JSON_CONTENT_TYPE = 'application/json';
export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) {
    if (!res.writableEnded) res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  sendJson(res, err.status, err.body());
}

export interface StreamOptions {
  readonly includeUsage: boolean;
  readonly continuousUsage: boolean;
}

/** stream: true. */
export class SseResponder implements CompletionSink {
  private promptTokens = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly head: CompletionHead,
    private readonly opts: StreamOptions,
  ) {}

  start(promptTokens: number): void {
    this.promptTokens = promptTokens;
    if (this.res.destroyed) return;
    this.res.writeHead(200, { 'content-type': SSE_CONTENT_TYPE, 'cache-control': 'no-cache' });
    this.res.flushHeaders();
    this.write(sseData(roleChunk(this.head, this.opts.continuousUsage ? usage(promptTokens, 0) : undefined)));
  }

  token(delta: string, completionTokens: number, finish: Finish | null): void {
    this.write(sseData(contentChunk(this.head, delta, finish, this.opts.continuousUsage ? usage(this.promptTokens, completionTokens) : undefined)));
  }

  end(u: Usage): void {
    if (this.opts.includeUsage) this.write(sseData(usageChunk(this.head, u)));
    this.write(SSE_DONE);
    if (!this.res.writableEnded) this.res.end();
  }

  fail(err: ApiError): void {
    if (!this.res.headersSent) return sendError(this.res, err);
    this.write(sseData(err.body()));
    this.write(SSE_DONE);
    if (!this.res.writableEnded) this.res.end();
  }

  private write(s: string): void {
    if (!this.res.destroyed && !this.res.writableEnded) this.res.write(s);
  }
}

/** stream: false: the text is gathered and sent whole. */
export class JsonResponder implements CompletionSink {
  private text = '';

  constructor(
    private readonly res: ServerResponse,
    private readonly head: CompletionHead,
  ) {}

  start(): void {}

  token(delta: string): void {
    this.text += delta;
  }

  end(u: Usage, finish: Finish): void {
    sendJson(this.res, 200, chatCompletion(this.head, this.text, finish, u));
  }

  fail(err: ApiError): void {
    sendError(this.res, err);
  }
}
