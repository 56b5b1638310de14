import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { OpenAIBackend, OpenAIBackendError, panScanMismatchShare, panScanParity, type OpenAIInferResult } from '../../../../src/engine/backends/openai/backend.js';
import { encode } from '../../../../src/panscan/tokenizer.js';
import { loadStream, SseReplayer, type Plan } from '../../../helpers/sse-replayer.js';
import { collectLog, makeImage, options, request, tempDir } from './helpers.js';

const vision = loadStream('vllm-chat-vision.json');
const noUsage = loadStream('vllm-chat-no-usage.json');
const tfServe = loadStream('transformers-serve-reconstructed.json');
/** The vision stream at a tenth of its schedule, for tests that need its frames but not its timing. */
const fast = { ...vision, scheduleMs: vision.scheduleMs.map((t) => t / 10) };

let image = '';
before(async () => {
  image = await makeImage(tempDir('backend'), 'page.png');
});

async function withBackend(plan: (i: number) => Plan, extra: Parameters<typeof options>[2] = {}, fn: (b: OpenAIBackend, r: SseReplayer, log: ReturnType<typeof collectLog>) => Promise<void>): Promise<void> {
  const rep = await SseReplayer.start({ plan: (_req, i) => plan(i) });
  const log = collectLog();
  const b = await OpenAIBackend.create(options([rep.url], log.log, extra));
  try {
    await fn(b, rep, log);
  } finally {
    await b.close();
    await rep.close();
  }
}

async function one(b: OpenAIBackend, id = 1, extra: Parameters<typeof request>[2] = {}): Promise<OpenAIInferResult> {
  const [replica] = await b.start({ replicas: 1, gpusPerReplica: 0, log: () => {} });
  const [r] = await replica.infer([request(id, image, extra)]);
  return r as OpenAIInferResult;
}

describe('OpenAIBackend against the replayer', () => {
  it('measures a recorded vLLM stream: usage, tokenTimes, vLLM TTFT/E2E/TPOT from the POST', async () => {
    await withBackend(() => ({ kind: 'replay', fixture: vision }), {}, async (b, rep) => {
      const r = await one(b, 7, { crops: 2, imageTokens: 768, promptTokens: 6421 });
      assert.equal(r.ok, true, r.error ?? '');
      assert.equal(r.outputTokens, 5);
      assert.equal(r.promptTokens, 6421);
      assert.equal(r.crops, 2);
      assert.equal(r.imageTokens, 768);
      assert.equal(r.tokenTimes.length, 5);
      assert.ok(r.startedAt !== null && r.startedAt <= r.tokenTimes[0]);
      // The schedule puts the first chunk 180 ms after the request arrives: the client cannot see it earlier.
      assert.ok(r.http.ttftMs! >= 179, `ttft ${r.http.ttftMs}`);
      assert.ok(r.http.e2eMs! > r.http.ttftMs!, `e2e ${r.http.e2eMs}`);
      assert.equal(r.http.itlMs.length, 5);
      assert.equal(r.http.panScanMatch, true);
      assert.equal(r.http.tpotMs, (r.http.e2eMs! - r.http.ttftMs!) / 4);
      const body = rep.requests.find((q) => q.method === 'POST')!.body!;
      const content = (body.messages as { content: { type: string }[] }[])[0].content;
      assert.deepEqual(content.map((c) => c.type), ['image_url', 'text']);
      assert.deepEqual(body.mm_processor_kwargs, { do_pan_and_scan: true, pan_and_scan_min_crop_size: 448, pan_and_scan_max_num_crops: 6, pan_and_scan_min_ratio_to_activate: 2 });
      assert.equal(body.model, 'google/gemma-3-27b-it');
      assert.equal(body.ignore_eos, true);
    });
  });

  it('fails each fault with a clear reason and never throws', async () => {
    const faults: [Plan, RegExp, Parameters<typeof options>[2]?][] = [
      [{ kind: 'status', status: 400, body: { object: 'error', message: 'At most 1 image(s) may be provided in one prompt.', type: 'BadRequestError', param: null, code: 400 } }, /HTTP 400 Bad Request: At most 1 image\(s\) may be provided in one prompt\. \(BadRequestError, 400\)/],
      [{ kind: 'status', status: 422, body: { detail: [{ loc: ['body', 'stream_options'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' }] } }, /HTTP 422 Unprocessable Entity: .*stream_options.*Extra inputs are not permitted/],
      [{ kind: 'reset-after', fixture: fast, frames: 3 }, /closed mid-stream|reset mid-stream/],
      [{ kind: 'malformed-after', fixture: fast, frames: 2 }, /malformed chunk \(not JSON\) after 2 chunk\(s\)/],
      [{ kind: 'error-after', fixture: fast, frames: 2, error: { object: 'error', message: 'The engine is dead', type: 'EngineDeadError', code: 500 } }, /server error mid-stream after 2 chunk\(s\): The engine is dead \(EngineDeadError, 500\)/],
      [{ kind: 'cut-after', fixture: fast, frames: 4 }, /cut off/],
      [{ kind: 'json', body: { id: 'x', choices: [{ message: { content: 'hi' } }] } }, /JSON instead of an event stream/],
      [{ kind: 'hang' }, /timed out after 0 s \(0 network chunk\(s\) received\)/, { requestTimeoutS: 0.3 }],
    ];
    for (const [plan, re, extra] of faults) {
      await withBackend(() => plan, extra ?? {}, async (b) => {
        const r = await one(b);
        assert.equal(r.ok, false, `${plan.kind} should fail`);
        assert.match(r.error ?? '', re, plan.kind);
        assert.match(r.error ?? '', /^http:\/\/127\.0\.0\.1:\d+: /, 'the error names the endpoint');
        assert.equal(r.outputTokens, 0);
      });
    }
  });

  it('times TTFT from the first content chunk in first-content mode (transformers serve sends its role chunk first)', async () => {
    await withBackend(() => ({ kind: 'replay', fixture: tfServe }), { ttftMode: 'first-content', includeUsage: false, maxTokensField: 'max_tokens', ignoreEos: false, mmProcessorKwargs: false }, async (b, rep) => {
      const r = await one(b);
      assert.equal(r.ok, true, r.error ?? '');
      assert.ok(r.http.ttftMs! >= 239, `first-content ttft ${r.http.ttftMs}`);
      assert.equal(r.outputTokens, 4);
      assert.equal(r.http.doneSeen, false);
      assert.ok(r.http.notes.some((n) => /without \[DONE\]/.test(n)));
      const body = rep.requests.find((q) => q.method === 'POST')!.body!;
      assert.deepEqual(Object.keys(body).sort(), ['max_tokens', 'messages', 'model', 'stream', 'temperature']);
    });
    await withBackend(() => ({ kind: 'replay', fixture: tfServe }), {}, async (b) => {
      const r = await one(b);
      assert.ok(r.http.ttftMs! < 200, `choices-mode ttft counts the role chunk: ${r.http.ttftMs}`);
    });
  });

  it('re-tokenizes the generated text with the Gemma tokenizer when the stream has no usage, and says so', async () => {
    const rep = await SseReplayer.start({ plan: () => ({ kind: 'replay', fixture: noUsage }) });
    const log = collectLog();
    const b = await OpenAIBackend.create({ endpoints: [rep.url], log: log.log, env: {} });
    try {
      const r = await one(b, 1, { promptTokens: 321 });
      assert.equal(r.ok, true, r.error ?? '');
      assert.equal(r.outputTokens, encode('<think>\n 😊').length);
      assert.equal(r.promptTokens, 321, 'falls back to the expected prompt tokens');
      assert.equal(r.http.usageCompletionTokens, null);
      assert.ok(r.http.notes.some((n) => /re-tokenized/.test(n)));
      assert.equal(r.http.panScanMatch, null);
    } finally {
      await b.close();
      await rep.close();
    }
  });

  it('its model cost for the roofline: the served id names the Gemma 3 size; --gpu-name names the GPUs', async () => {
    const rep = await SseReplayer.start({ plan: () => ({ kind: 'replay', fixture: fast }), models: { kind: 'ok', ids: ['google/gemma-3-12b-it'] } });
    const other = await SseReplayer.start({ plan: () => ({ kind: 'replay', fixture: fast }), models: { kind: 'ok', ids: ['meta-llama/Llama-3.1-8B'] } });
    const log = collectLog();
    const b = await OpenAIBackend.create({ endpoints: [rep.url], log: log.log, env: {}, gpuName: 'NVIDIA L40S' });
    const c = await OpenAIBackend.create({ endpoints: [other.url], log: log.log, env: {} });
    try {
      const cost = b.costModel()!;
      assert.deepEqual([cost.name, cost.arch.hiddenSize, cost.bytesPerParam, cost.declaredGpu], ['google/gemma-3-12b-it', 3840, 2, 'NVIDIA L40S']);
      assert.equal(c.costModel(), null, 'not a Gemma 3 id: the cost is unknown');
    } finally {
      await Promise.all([b.close(), c.close(), rep.close(), other.close()]);
    }
  });

  it('sends the API key as Bearer and never lets it into errors, results, logs or the model description', async () => {
    const key = 'sk-test-0123456789abcdef-SECRET';
    const rep = await SseReplayer.start({
      plan: (_req, i) => (i === 1 ? { kind: 'status', status: 401, body: { error: { message: `Incorrect API key provided: ${key}`, type: 'invalid_request_error', code: 'invalid_api_key' } } } : { kind: 'replay', fixture: fast }),
      models: { kind: 'ok', ids: ['google/gemma-3-27b-it'], extra: { owned_by: `owner ${key}` } },
    });
    const log = collectLog();
    const b = await OpenAIBackend.create({ endpoints: [rep.url], log: log.log, env: { MY_KEY: key }, apiKeyEnv: 'MY_KEY' });
    try {
      const [replica] = await b.start({ replicas: 2, gpusPerReplica: 0, log: log.log });
      const results = await replica.infer([request(1, image), request(2, image)]);
      assert.deepEqual(rep.requests.map((q) => `${q.method} ${q.path} ${q.headers.authorization}`), [`GET /v1/models Bearer ${key}`, `POST /v1/chat/completions Bearer ${key}`, `POST /v1/chat/completions Bearer ${key}`]);
      const failed = results.filter((r) => !r.ok);
      assert.equal(failed.length, 1, 'the first POST to arrive is refused, the other streams');
      assert.match(failed[0].error!, /HTTP 401 Unauthorized: Incorrect API key provided: \[redacted\]/);
      const everything = JSON.stringify({ results, log: log.lines, model: b.model() });
      assert.equal(everything.includes(key), false);
      assert.match(String(b.model().details.apiKey), /from \$MY_KEY/);
    } finally {
      await b.close();
      await rep.close();
    }
    // A failing /v1/models check that echoes the key.
    const rep2 = await SseReplayer.start({ models: { kind: 'status', status: 401, body: { error: { message: `bad key ${key}` } } } });
    try {
      await assert.rejects(OpenAIBackend.create({ endpoints: [rep2.url], log: log.log, env: { OPENAI_API_KEY: key } }), (e: Error) => !e.message.includes(key) && /\[redacted\]/.test(e.message));
    } finally {
      await rep2.close();
    }
  });

  it('reports /v1/models failures as configuration errors naming the URL and the cause', async () => {
    const log = collectLog();
    const cases: [ConstructorParameters<typeof Object>[0], RegExp, number?][] = [
      [{ kind: 'status', status: 500, body: { object: 'error', message: 'model still loading' } }, /GET http:\/\/127\.0\.0\.1:\d+\/v1\/models failed: HTTP 500 Internal Server Error: model still loading/],
      [{ kind: 'not-json' }, /failed: the answer is not JSON/],
      [{ kind: 'ok', ids: [] }, /lists no models/],
      [{ kind: 'hang' }, /failed: no answer within 0 s/, 0.3],
    ];
    for (const [models, re, timeout] of cases) {
      const rep = await SseReplayer.start({ models });
      try {
        await assert.rejects(OpenAIBackend.create({ endpoints: [rep.url], log: log.log, env: {}, ...(timeout ? { modelsTimeoutS: timeout } : {}) }), (e: Error) => e instanceof OpenAIBackendError && e.stage === 'configuration' && re.test(e.message));
      } finally {
        await rep.close();
      }
    }
    const rep = await SseReplayer.start({});
    const url = rep.url;
    await rep.close();
    await assert.rejects(OpenAIBackend.create({ endpoints: [url], log: log.log, env: {} }), (e: Error) => /1 of 1 endpoint\(s\) failed/.test(e.message) && /connection refused/.test(e.message) && e.message.includes(url));
    const ok = await SseReplayer.start({ models: { kind: 'ok', ids: ['a', 'b'] } });
    try {
      await assert.rejects(OpenAIBackend.create({ endpoints: [ok.url], model: 'c', log: log.log, env: {} }), /does not serve model "c" \(it lists "a", "b"\)/);
      const b = await OpenAIBackend.create({ endpoints: [`${ok.url}/v1/`], model: 'b', log: log.log, env: {} });
      assert.equal(b.model().name, 'b');
      assert.equal(b.model().randomWeights, false);
      await b.close();
    } finally {
      await ok.close();
    }
  });

  it('gives one replica per endpoint and notices an endpoint that stops answering', async () => {
    const a = await SseReplayer.start({ plan: () => ({ kind: 'schedule', firstMs: 5, everyMs: 1, tokens: 4 }) });
    const c = await SseReplayer.start({ plan: () => ({ kind: 'schedule', firstMs: 5, everyMs: 1, tokens: 4 }) });
    const log = collectLog();
    const b = await OpenAIBackend.create(options([a.url, c.url], log.log));
    try {
      const replicas = await b.start({ replicas: 2, gpusPerReplica: 0, log: log.log });
      assert.equal(replicas.length, 2);
      assert.deepEqual(replicas.map((r) => r.devices), [[a.url], [c.url]]);
      assert.deepEqual(replicas[0].gpuIndices, []);
      assert.ok(replicas[0].capacity >= 1000);
      const ok = await replicas[1].infer([request(1, image), request(2, image)]);
      assert.deepEqual(ok.map((r) => r.ok), [true, true]);
      await c.close();
      const [gone] = await replicas[1].infer([request(3, image)]);
      assert.equal(gone.ok, false);
      assert.match(gone.error!, /connection refused/);
      let timer: NodeJS.Timeout | undefined;
      const reason = await Promise.race([replicas[1].died, new Promise<string>((r) => (timer = setTimeout(() => r('still alive'), 3000)))]);
      clearTimeout(timer);
      assert.match(reason, /stopped answering: connection refused/);
      const [still] = await replicas[0].infer([request(4, image)]);
      assert.equal(still.ok, true, 'the other endpoint goes on');
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('describes the served model, including a server that says its weights are random', async () => {
    const rep = await SseReplayer.start({ models: { kind: 'ok', ids: ['gemma3-tiny'], extra: { random_weights: true } } });
    try {
      const b = await OpenAIBackend.create(options([rep.url], collectLog().log));
      const m = b.model();
      assert.equal(m.name, 'gemma3-tiny');
      assert.equal(m.randomWeights, true);
      assert.match(m.label, /random weights/);
      assert.equal(m.details['models.max_model_len'], 131072);
      assert.equal(m.details.endpoints, rep.url);
      await b.close();
    } finally {
      await rep.close();
    }
  });
});

describe('pan-and-scan parity', () => {
  it('compares the prompt the server counted with the one gemma-bench planned', () => {
    assert.equal(panScanParity(1826, 1826), true);
    assert.equal(panScanParity(1826, 290), false);
    assert.equal(panScanParity(null, 290), null);
    assert.deepEqual(panScanMismatchShare([{ expected: 10, usage: 10 }, { expected: 10, usage: 4 }, { expected: null, usage: 4 }, { expected: 3, usage: 3 }]), { compared: 3, mismatched: 1, share: 1 / 3 });
  });
});
