// gemma-bench serve end to end over real HTTP on 127.0.0.1: the real tiny model in worker threads behind vLLM's
// OpenAI-compatible shapes. Models, health, streamed and whole completions with usage, tokens arriving while they
// are generated, prompt tokens equal to gemma-bench's own accounting with pan-and-scan on and off, vLLM's error
// bodies, /metrics, and a queue in front of a single replica.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { planCrops } from '../../src/panscan/plan.js';
import { promptInputIds } from '../../src/panscan/tokenizer.js';
import { HF_PANSCAN_DEFAULTS } from '../../src/panscan/types.js';
import { REQUEST_LATENCY_BUCKETS_S, TTFT_BUCKETS_S } from '../../src/serve/metrics.js';
import { chatBody, metrics, pngDataUrl, postChat, PROMPT, readSse, series, testServer, type TestServer } from './helpers.js';

let t: TestServer;
let square: string;
/** Tall: pan-and-scan cuts it into crops with HF's defaults. */
let tall: string;
const TALL = { width: 600, height: 2000 };

before(async () => {
  [t, square, tall] = await Promise.all([testServer({ replicas: 1 }), pngDataUrl(256, 256), pngDataUrl(TALL.width, TALL.height)]);
});

after(async () => {
  await t?.stop();
});

test('GET /v1/models lists the served model in vLLM\'s shape', async () => {
  const res = await fetch(`${t.url}/v1/models`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const body = (await res.json()) as any;
  assert.equal(body.object, 'list');
  assert.equal(body.data.length, 1);
  const card = body.data[0];
  assert.equal(card.id, 'tiny');
  assert.equal(card.object, 'model');
  assert.equal(card.owned_by, 'gemma-bench');
  assert.ok(Number.isInteger(card.created) && card.created > 1_600_000_000);
  assert.match(card.root, /gemma3-tiny/);
  assert.equal(card.max_model_len, 131072);
  assert.equal(card.permission[0].object, 'model_permission');
});

test('GET /health answers 200 with an empty body', async () => {
  const res = await fetch(`${t.url}/health`);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '');
});

test('a whole (non-streamed) completion: chat.completion with the requested number of tokens and usage', async () => {
  const res = await postChat(t.url, chatBody(square, { max_tokens: 5, temperature: 0 }));
  assert.equal(res.status, 200);
  const body = (await res.json()) as any;
  assert.match(body.id, /^chatcmpl-[0-9a-f]{32}$/);
  assert.equal(body.object, 'chat.completion');
  assert.equal(body.model, 'tiny');
  assert.equal(body.choices.length, 1);
  const choice = body.choices[0];
  assert.equal(choice.index, 0);
  assert.equal(choice.message.role, 'assistant');
  assert.equal(typeof choice.message.content, 'string');
  assert.equal(choice.finish_reason, 'length');
  assert.equal(choice.logprobs, null);
  assert.deepEqual(
    { prompt_tokens: body.usage.prompt_tokens, completion_tokens: body.usage.completion_tokens, total_tokens: body.usage.total_tokens },
    { prompt_tokens: promptInputIds(PROMPT, 0).length, completion_tokens: 5, total_tokens: promptInputIds(PROMPT, 0).length + 5 },
  );
});

test('a streamed completion: the role chunk, one chunk per token, the finish, the usage chunk and [DONE], in vLLM\'s shapes', async () => {
  const res = await postChat(t.url, chatBody(square, { max_completion_tokens: 6, stream: true, stream_options: { include_usage: true }, ignore_eos: true }));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const events = await readSse(res);
  assert.equal(events.at(-1)!.data, '[DONE]');
  const chunks = events.slice(0, -1).map((e) => e.data);
  const id = chunks[0].id;
  for (const c of chunks) {
    assert.equal(c.id, id);
    assert.match(id, /^chatcmpl-/);
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.model, 'tiny');
    assert.ok(Number.isInteger(c.created));
  }
  assert.deepEqual(chunks[0].choices, [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
  assert.equal(chunks[0].usage, undefined, 'no usage on chunks without continuous_usage_stats');
  const tokens = chunks.slice(1, -1);
  assert.equal(tokens.length, 6, 'one chunk per generated token');
  for (const c of tokens.slice(0, -1)) {
    assert.deepEqual(Object.keys(c.choices[0]), ['index', 'delta', 'logprobs', 'finish_reason']);
    assert.deepEqual(Object.keys(c.choices[0].delta), ['content']);
    assert.equal(c.choices[0].finish_reason, null);
  }
  const last = tokens.at(-1).choices[0];
  assert.equal(last.finish_reason, 'length');
  assert.equal(last.stop_reason, null);
  const usage = chunks.at(-1);
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(usage.usage, { prompt_tokens: promptInputIds(PROMPT, 0).length, total_tokens: promptInputIds(PROMPT, 0).length + 6, completion_tokens: 6 });
});

test('streamed text equals the whole response\'s text (greedy), and continuous_usage_stats counts up per chunk', async () => {
  const whole = (await (await postChat(t.url, chatBody(square, { max_tokens: 8 }))).json()) as any;
  const events = await readSse(await postChat(t.url, chatBody(square, { max_tokens: 8, stream: true, stream_options: { include_usage: true, continuous_usage_stats: true } })));
  const chunks = events.filter((e) => e.data !== '[DONE]').map((e) => e.data);
  const text = chunks.flatMap((c) => c.choices.map((ch: any) => ch.delta.content)).join('');
  assert.equal(text, whole.choices[0].message.content);
  const withChoices = chunks.filter((c) => c.choices.length > 0);
  assert.deepEqual(
    withChoices.map((c) => c.usage.completion_tokens),
    [0, 1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.ok(withChoices.every((c) => c.usage.prompt_tokens === whole.usage.prompt_tokens));
});

test('tokens stream while they are generated: the first content chunk arrives well before the last', async () => {
  const sent = performance.now();
  const events = await readSse(await postChat(t.url, chatBody(square, { max_tokens: 64, stream: true })));
  const content = events.filter((e) => e.data !== '[DONE]' && e.data.choices[0]?.delta.role === undefined);
  assert.equal(content.length, 64);
  const first = content[0].at;
  const last = content.at(-1)!.at;
  // Sent all at the end, the 64 chunks would arrive together (span ~0). Streamed, 63 decode steps separate the
  // first from the last; each step costs a good part of what the whole prefill (vision + prompt) costs here, so
  // a quarter of the time to the first token is a wide margin, and it scales with the machine's speed.
  assert.ok(last - first > (first - sent) / 4, `first content chunk at ${(first - sent).toFixed(0)} ms, last at ${(last - sent).toFixed(0)} ms`);
  // And the chunks came in many separate reads, not one burst.
  assert.ok(new Set(content.map((e) => e.at)).size > 8, `${new Set(content.map((e) => e.at)).size} distinct arrival times`);
});

test('usage.prompt_tokens equals gemma-bench\'s own count for the image, prompt and pan-and-scan knobs', async () => {
  const expectFor = (crops: number) => promptInputIds(PROMPT, crops).length;
  const ask = async (kw: Record<string, unknown> | undefined) => {
    const body = (await (await postChat(t.url, chatBody(tall, { max_tokens: 1, ...(kw ? { mm_processor_kwargs: kw } : {}) }))).json()) as any;
    return body.usage.prompt_tokens as number;
  };
  const hfCrops = planCrops(TALL.width, TALL.height, HF_PANSCAN_DEFAULTS).length;
  const twoCrops = planCrops(TALL.width, TALL.height, { ...HF_PANSCAN_DEFAULTS, maxNumCrops: 2 }).length;
  assert.ok(hfCrops > twoCrops && twoCrops > 0, 'the tall image is cut differently by the two settings');
  assert.equal(await ask(undefined), expectFor(0), 'no mm_processor_kwargs: pan-and-scan off (vLLM\'s and HF\'s default)');
  assert.equal(await ask({ do_pan_and_scan: false, pan_and_scan_max_num_crops: 2 }), expectFor(0), 'do_pan_and_scan false: knobs do nothing');
  assert.equal(await ask({ do_pan_and_scan: true }), expectFor(hfCrops), 'do_pan_and_scan alone: HF\'s defaults 1.2 / 4 / 256');
  assert.equal(await ask({ do_pan_and_scan: true, pan_and_scan_max_num_crops: 2 }), expectFor(twoCrops));
  assert.equal(await ask({ do_pan_and_scan: true, pan_and_scan_min_ratio_to_activate: 5 }), expectFor(0), 'below the activation ratio: no crops');
});

test('the image may come before or after the text: the prompt is the same', async () => {
  const parts = (first: 'text' | 'image') => {
    const text = { type: 'text' as const, text: PROMPT };
    const image = { type: 'image_url' as const, image_url: { url: square } };
    return first === 'text' ? [text, image] : [image, text];
  };
  const a = (await (await postChat(t.url, chatBody(square, {}, parts('text')))).json()) as any;
  const b = (await (await postChat(t.url, chatBody(square, {}, parts('image')))).json()) as any;
  assert.equal(a.usage.prompt_tokens, b.usage.prompt_tokens);
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
});

/** Posts and returns status and JSON body. */
async function post(body: unknown): Promise<{ status: number; body: any }> {
  const res = await postChat(t.url, body);
  return { status: res.status, body: await res.json() };
}

function assertVllmError(r: { status: number; body: any }, status: number, type: string, message: RegExp, param?: string | null): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.deepEqual(Object.keys(r.body), ['error']);
  assert.deepEqual(Object.keys(r.body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(r.body.error.code, status);
  assert.equal(r.body.error.type, type);
  assert.match(r.body.error.message, message);
  if (param !== undefined) assert.equal(r.body.error.param, param);
}

test('400s in vLLM\'s error shape: http image URL, bad base64, not an image, bad mm_processor_kwargs, two images, no messages', async () => {
  assertVllmError(await post(chatBody('https://example.com/receipt.png')), 400, 'BadRequestError', /no network access/);
  assertVllmError(await post(chatBody('data:image/png;base64,@@@not-base64')), 400, 'BadRequestError', /not valid base64/);
  assertVllmError(await post(chatBody('data:image/gif;base64,R0lGODlh')), 400, 'BadRequestError', /image\/png, image\/jpeg, image\/webp/);
  assertVllmError(await post(chatBody(`data:image/png;base64,${Buffer.from('hello, not an image').toString('base64')}`)), 400, 'BadRequestError', /could not be read/);
  assertVllmError(await post(chatBody(square, { mm_processor_kwargs: { do_pan_and_scan: true, pan_and_scan_max_num_crops: 0 } })), 400, 'BadRequestError', /pan_and_scan_max_num_crops must be an integer >= 1/, 'mm_processor_kwargs');
  assertVllmError(await post(chatBody(square, { mm_processor_kwargs: { do_pan_and_scan: true, pan_and_scan_min_ratio_to_activate: -1 } })), 400, 'BadRequestError', /pan_and_scan_min_ratio_to_activate/);
  assertVllmError(await post(chatBody(square, { mm_processor_kwargs: { do_pan_and_scan: 'yes' } })), 400, 'BadRequestError', /do_pan_and_scan must be true or false/);
  assertVllmError(await post(chatBody(square, { mm_processor_kwargs: { pan_and_scan_max_crops: 2 } })), 400, 'BadRequestError', /unknown key/);
  const two = chatBody(square, {}, [
    { type: 'image_url', image_url: { url: square } },
    { type: 'image_url', image_url: { url: square } },
    { type: 'text', text: PROMPT },
  ]);
  assertVllmError(await post(two), 400, 'BadRequestError', /At most 1 image\(s\)/);
  assertVllmError(await post(chatBody(square, {}, [{ type: 'text', text: PROMPT }])), 400, 'BadRequestError', /exactly one image/);
  assertVllmError(await post({ model: 'tiny', max_tokens: 4 }), 400, 'Bad Request', /Field required/, 'body.messages');
  assertVllmError(await post(chatBody(square, { max_tokens: 0 })), 400, 'BadRequestError', /max_tokens must be at least 1/);
  assertVllmError(await post(chatBody(square, { max_tokens: 200_000 })), 400, 'BadRequestError', /maximum context length is 131072 tokens/, 'max_tokens');
  assertVllmError(await post(chatBody(square, { stream_options: { include_usage: true } })), 400, 'BadRequestError', /only be defined when `stream=True`/);
  // Bad JSON, as FastAPI/pydantic reject it.
  const res = await fetch(`${t.url}/v1/chat/completions`, { method: 'POST', body: '{"messages": [' });
  assertVllmError({ status: res.status, body: await res.json() }, 400, 'Bad Request', /JSON decode error/, 'body');
});

test('an image whose header reads but whose pixels do not decode fails in the replica: 400 whole, an error event streamed', async () => {
  const png = Buffer.from(square.slice('data:image/png;base64,'.length), 'base64');
  const truncated = `data:image/png;base64,${png.subarray(0, Math.floor(png.length / 2)).toString('base64')}`;
  const r = await post(chatBody(truncated));
  assertVllmError(r, 400, 'BadRequestError', /could not be decoded/);
  assert.doesNotMatch(r.body.error.message, /gemma-bench-serve/, 'the temporary file\'s path stays private');
  // Streamed, the 200 went out before the replica met the image: the error comes as vLLM sends late errors.
  const res = await postChat(t.url, chatBody(truncated, { stream: true }));
  assert.equal(res.status, 200);
  const events = await readSse(res);
  assert.equal(events.length, 2);
  assertVllmError({ status: 400, body: events[0].data }, 400, 'BadRequestError', /could not be decoded/);
  assert.equal(events[1].data, '[DONE]');
});

test('404s: an unknown model in vLLM\'s error shape; an unknown route as FastAPI answers it', async () => {
  assertVllmError(await post(chatBody(square, { model: 'gpt-4o' })), 404, 'NotFoundError', /The model `gpt-4o` does not exist\./, 'model');
  const route = await fetch(`${t.url}/v1/completions/nope`);
  assert.equal(route.status, 404);
  assert.deepEqual(await route.json(), { detail: 'Not Found' });
  const method = await fetch(`${t.url}/v1/chat/completions`);
  assert.equal(method.status, 405);
  assert.deepEqual(await method.json(), { detail: 'Method Not Allowed' });
});

test('/metrics: vLLM\'s names and labels in Prometheus text; counters and histograms go up after a request', async () => {
  const res = await fetch(`${t.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  for (const [name, type] of [
    ['vllm:num_requests_running', 'gauge'],
    ['vllm:num_requests_waiting', 'gauge'],
    ['vllm:kv_cache_usage_perc', 'gauge'],
    ['vllm:prompt_tokens_total', 'counter'],
    ['vllm:generation_tokens_total', 'counter'],
    ['vllm:num_preemptions_total', 'counter'],
    ['vllm:time_to_first_token_seconds', 'histogram'],
    ['vllm:e2e_request_latency_seconds', 'histogram'],
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), name);
  }
  assert.match(text, /# HELP vllm:kv_cache_usage_perc .*Always 0 here/);
  const before = await metrics(t.url);
  assert.equal(before.get(series('vllm:kv_cache_usage_perc')), 0);
  assert.equal(before.get(series('vllm:num_preemptions_total')), 0);
  for (const le of [...TTFT_BUCKETS_S.map(String), '+Inf']) assert.ok(before.has(series('vllm:time_to_first_token_seconds_bucket', { le })), `TTFT bucket ${le}`);
  for (const le of [...REQUEST_LATENCY_BUCKETS_S.map(String), '+Inf']) assert.ok(before.has(series('vllm:e2e_request_latency_seconds_bucket', { le })), `e2e bucket ${le}`);

  const body = (await (await postChat(t.url, chatBody(square, { max_tokens: 3 }))).json()) as any;
  const afterOne = await metrics(t.url);
  const delta = (name: string) => afterOne.get(name)! - before.get(name)!;
  assert.equal(delta(series('vllm:prompt_tokens_total')), body.usage.prompt_tokens);
  assert.equal(delta(series('vllm:generation_tokens_total')), 3);
  assert.equal(delta(series('vllm:time_to_first_token_seconds_count')), 1);
  assert.equal(delta(series('vllm:e2e_request_latency_seconds_count')), 1);
  assert.equal(delta(series('vllm:request_success_total', { finished_reason: 'length' })), 1);
  assert.ok(delta(series('vllm:e2e_request_latency_seconds_sum')) >= delta(series('vllm:time_to_first_token_seconds_sum')));
  assert.equal(afterOne.get(series('vllm:num_requests_running')), 0);
  assert.equal(afterOne.get(series('vllm:num_requests_waiting')), 0);
});

test('more concurrent requests than replicas: they queue (running never above 1, some waiting) and all complete', async () => {
  const n = 4;
  const seen = { running: 0, waiting: 0 };
  let done = false;
  const poll = (async () => {
    while (!done) {
      const m = await metrics(t.url);
      seen.running = Math.max(seen.running, m.get(series('vllm:num_requests_running'))!);
      seen.waiting = Math.max(seen.waiting, m.get(series('vllm:num_requests_waiting'))!);
      await sleep(5);
    }
  })();
  const streams = await Promise.all(
    Array.from({ length: n }, async () => {
      const events = await readSse(await postChat(t.url, chatBody(square, { max_tokens: 24, stream: true, stream_options: { include_usage: true } })));
      const content = events.filter((e) => e.data !== '[DONE]' && e.data.choices.length > 0);
      return { first: content[1].at, last: content.at(-1)!.at, usage: events.at(-2)!.data.usage, done: events.at(-1)!.data };
    }),
  );
  done = true;
  await poll;
  for (const s of streams) {
    assert.equal(s.done, '[DONE]');
    assert.equal(s.usage.completion_tokens, 24);
  }
  assert.equal(seen.running, 1, 'one replica runs one request at a time');
  assert.ok(seen.waiting >= 1, 'the others waited in the queue');
  // One replica: each request's tokens come after the previous request's last token.
  const byStart = [...streams].sort((a, b) => a.first - b.first);
  for (let i = 1; i < byStart.length; i++) assert.ok(byStart[i].first >= byStart[i - 1].last, 'requests ran one after the other');
});
