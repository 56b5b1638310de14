// The two ways a completion reaches its client over HTTP: server-sent events written token by token
// (stream: true), or one JSON body at the end. A stream answers 200 at once, as vLLM's StreamingResponse does once
// a request has passed validation (so a client waiting in the queue sees its headers, and no header timeout
// fires); the role chunk follows with the first token. Anything that fails after that point, in the queue or the
// replica, is one `data: {"error": ...}` event and [DONE], vLLM's way for errors after streaming began. A whole
// (non-streamed) answer fails as a plain JSON error with its status. Writes to a client that has gone are dropped.
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
  ) {
    if (res.destroyed) return;
    res.writeHead(200, { 'content-type': SSE_CONTENT_TYPE, 'cache-control': 'no-cache' });
    res.flushHeaders();
  }

  start(promptTokens: number): void {
    this.promptTokens = promptTokens;
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
