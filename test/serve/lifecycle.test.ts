// gemma-bench serve's lifetime over real HTTP: a client that goes away frees its replica, a replica that dies
// turns into vLLM's 500 (and /health 503), and SIGTERM stops the server cleanly with streams in flight: the
// running stream ends with finish_reason "abort", usage and [DONE], queued requests get a 503 error, the port closes,
// the temporary image files go.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FAULT_ENV } from '../../src/engine/backends/onnx/index.js';
import { serveUntilSignal } from '../../src/serve/signals.js';
import { chatBody, metrics, pngDataUrl, postChat, readSse, series, sseEvents, testServer, type SseEvent, type TestServer } from './helpers.js';

const home = mkdtempSync(join(tmpdir(), 'gb-serve-life-'));
let healthy: TestServer;
/** The onnx backend's own test-only fault injection: replica 0's thread exits when its second batch starts. */
let faulty: TestServer;
let image: string;

before(async () => {
  // One after the other, so the second shares the first's build of the tiny model.
  healthy = await testServer({ replicas: 1, home });
  faulty = await testServer({ replicas: 1, home, env: { [FAULT_ENV]: '0:1' } });
  image = await pngDataUrl(128, 128);
});

after(async () => {
  await Promise.all([healthy?.stop(), faulty?.stop()]);
  rmSync(home, { recursive: true, force: true });
});

/** Polls /metrics until `ok` holds (bounded: fails after `limitMs`). */
async function until(url: string, ok: (m: Map<string, number>) => boolean, what: string, limitMs = 30_000): Promise<Map<string, number>> {
  const end = Date.now() + limitMs;
  for (;;) {
    const m = await metrics(url);
    if (ok(m)) return m;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

test('a client that disconnects mid-stream frees its replica at once (finish_reason abort in /metrics)', async () => {
  const t = healthy;
  {
    const ac = new AbortController();
    const res = await postChat(t.url, chatBody(image, { max_tokens: 100_000, stream: true }), ac.signal);
    assert.equal(res.status, 200, 'the stream started: its first token is out');
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    await reader.cancel().catch(() => undefined);
    const m = await until(t.url, (x) => x.get(series('vllm:request_success_total', { finished_reason: 'abort' })) === 1 && x.get(series('vllm:num_requests_running')) === 0, 'the aborted request to end');
    assert.ok(m.get(series('vllm:generation_tokens_total'))! < 100_000);
    // The replica serves the next request.
    const next = (await (await postChat(t.url, chatBody(image, { max_tokens: 2 }))).json()) as any;
    assert.equal(next.usage.completion_tokens, 2);
  }
});

test('a replica that dies gives vLLM\'s 500 InternalServerError; with none left /health is 503 and requests fail fast', async () => {
  const t = faulty;
  {
    const ok = await postChat(t.url, chatBody(image, { max_tokens: 2 }));
    assert.equal(ok.status, 200);
    await ok.json();
    for (const stream of [false, true]) {
      const res = await postChat(t.url, chatBody(image, { max_tokens: 2, stream }));
      // Whole: a 500 JSON error. Streamed: the 200 went out first, so the error is an event, then [DONE].
      assert.equal(res.status, stream ? 200 : 500);
      const events = stream ? await readSse(res) : [{ data: await res.json() }];
      if (stream) assert.equal(events.at(-1)!.data, '[DONE]');
      const body = events[0].data;
      assert.deepEqual(Object.keys(body), ['error']);
      assert.equal(body.error.type, 'InternalServerError');
      assert.equal(body.error.code, 500);
      assert.equal(body.error.param, null);
      assert.match(body.error.message, stream ? /no replica is left/ : /replica 0 stopped/);
    }
    assert.equal((await fetch(`${t.url}/health`)).status, 503);
    assert.ok(t.logs.some((l) => /replica 0 stopped/.test(l)));
  }
});

test('SIGTERM with streams in flight: the running stream ends with "abort", usage and [DONE]; queued requests get vLLM-shaped 503s; exit code 143', async () => {
  const t = healthy;
  const running = await postChat(t.url, chatBody(image, { max_tokens: 100_000, stream: true, stream_options: { include_usage: true } }));
  assert.equal(running.status, 200);
  // Read up to its first token (the role chunk comes with it), then keep reading in the background.
  // (next(), not a for-await with break: leaving such a loop cancels the body, which is a client disconnect.)
  const iterator = sseEvents(running);
  const events: SseEvent[] = [];
  while (events.length < 2) events.push((await iterator.next()).value as SseEvent);
  const rest = (async () => {
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) events.push(r.value);
  })();
  const queuedStream = postChat(t.url, chatBody(image, { max_tokens: 4, stream: true }));
  const queuedWhole = postChat(t.url, chatBody(image, { max_tokens: 4 }));
  await until(t.url, (m) => m.get(series('vllm:num_requests_waiting')) === 2, 'two queued requests behind a streaming one');

  const signals = new EventEmitter();
  const exited = serveUntilSignal(t.server, { log: () => {}, signals });
  signals.emit('SIGTERM', 'SIGTERM');
  assert.equal(await exited, 143);

  await rest;
  assert.equal(events.at(-1)!.data, '[DONE]');
  const usage = events.at(-2)!.data;
  assert.deepEqual(usage.choices, []);
  const finishing = events.at(-3)!.data.choices[0];
  assert.equal(finishing.finish_reason, 'abort');
  // Chunks with choices: the role chunk, one per token, and the abort chunk (no token, empty content).
  const tokens = events.filter((e) => e.data !== "[DONE]" && e.data.choices.length > 0).length - 2;
  assert.equal(usage.usage.completion_tokens, tokens, 'usage counts the tokens that were streamed');
  assert.ok(tokens < 100_000);
  const whole = await queuedWhole;
  assert.equal(whole.status, 503);
  const wholeBody = (await whole.json()) as any;
  assert.equal(wholeBody.error.code, 503);
  assert.match(wholeBody.error.message, /shutting down/);
  const streamed = await readSse(await queuedStream);
  assert.equal(streamed.length, 2, 'a queued stream got no token: one error event and [DONE]');
  assert.equal(streamed[0].data.error.code, 503);
  assert.match(streamed[0].data.error.message, /shutting down/);
  assert.equal(streamed[1].data, '[DONE]');
  await assert.rejects(fetch(`${t.url}/health`), 'the port is closed');
  await t.stop(); // idempotent
});

test('no temporary image directory is left behind', async () => {
  await faulty.stop();
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  assert.deepEqual(
    readdirSync(base).filter((n) => n.startsWith(`gemma-bench-serve-${process.pid}-`)),
    [],
  );
});
