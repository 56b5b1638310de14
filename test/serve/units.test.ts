// The serve modules' logic without a server: request parsing and validation in vLLM's order, mm_processor_kwargs,
// data URLs, incremental detokenization, the context-length rules, the replica queue on fake replicas, and the
// signal handling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { InferHooks, InferRequest, InferResult, Replica } from '../../src/engine/backend.js';
import { gemmaTokenizer } from '../../src/panscan/tokenizer.js';
import { HF_PANSCAN_DEFAULTS } from '../../src/panscan/types.js';
import { parseChatRequest } from '../../src/serve/chat-request.js';
import { IncrementalDetokenizer } from '../../src/serve/detokenizer.js';
import { runCompletion, type CompletionSink, type Finish } from '../../src/serve/completion.js';
import { ApiError } from '../../src/serve/errors.js';
import type { ImageSpool } from '../../src/serve/image-spool.js';
import { ServeMetrics } from '../../src/serve/metrics.js';
import type { Usage } from '../../src/serve/protocol.js';
import { GEMMA3_STOP_TOKEN_IDS } from '../../src/serve/served-model.js';
import { parseImageDataUrl } from '../../src/serve/image-url.js';
import { panScanFromMmKwargs } from '../../src/serve/mm-kwargs.js';
import { resolveMaxTokens } from '../../src/serve/prompt-plan.js';
import { ReplicaPool, ReplicaUnavailableError, WithdrawnError } from '../../src/serve/replica-pool.js';
import { serveUntilSignal } from '../../src/serve/signals.js';

const PNG_URL = `data:image/png;base64,${Buffer.from('\x89PNG fake bytes').toString('base64')}`;
const body = (extra: Record<string, unknown> = {}, content: unknown = [{ type: 'image_url', image_url: { url: PNG_URL } }, { type: 'text', text: 'Total?' }]) => ({
  model: 'tiny',
  messages: [{ role: 'user', content }],
  ...extra,
});

function rejects(fn: () => unknown, status: number, type: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.status, status);
    assert.equal(err.type, type);
    assert.match(err.message, message);
    return true;
  });
}

test('a chat request: defaults, vLLM\'s max_completion_tokens precedence, stream options, the image and text', () => {
  const r = parseChatRequest(body({ max_tokens: 9, max_completion_tokens: 7, stream: true, stream_options: {}, ignore_eos: true, temperature: 0.7 }), 'tiny');
  assert.equal(r.maxTokens, 7);
  assert.equal(r.stream, true);
  assert.equal(r.includeUsage, true, 'vLLM: include_usage defaults to true once stream_options is given');
  assert.equal(r.continuousUsage, false);
  assert.equal(r.ignoreEos, true);
  assert.equal(r.temperature, 0.7);
  assert.equal(r.text, 'Total?');
  assert.equal(r.image.mime, 'image/png');
  assert.equal(r.panScan, null);
  const d = parseChatRequest({ messages: body().messages }, 'tiny');
  assert.equal(d.model, 'tiny', 'no model: the served one');
  assert.deepEqual([d.stream, d.includeUsage, d.maxTokens, d.ignoreEos], [false, false, null, false]);
  assert.equal(parseChatRequest(body({ stream: true, stream_options: { include_usage: false } }), 'tiny').includeUsage, false);
  // vLLM's shorthand: image_url as a bare string; no text part at all.
  assert.equal(parseChatRequest(body({}, [{ type: 'image_url', image_url: PNG_URL }]), 'tiny').text, '');
});

test('validation order follows vLLM: schema (400 Bad Request), then the model (404), then content (400 BadRequestError)', () => {
  rejects(() => parseChatRequest({ model: 'other', max_tokens: 'ten', messages: [] }, 'tiny'), 400, 'Bad Request', /valid integer/);
  rejects(() => parseChatRequest({ model: 'other', messages: [] }, 'tiny'), 404, 'NotFoundError', /The model `other` does not exist/);
  rejects(() => parseChatRequest({ model: 'tiny', messages: [] }, 'tiny'), 400, 'BadRequestError', /exactly one message/);
  rejects(() => parseChatRequest([], 'tiny'), 400, 'Bad Request', /valid dictionary/);
  rejects(() => parseChatRequest(body({ max_tokens: 1.5 }), 'tiny'), 400, 'Bad Request', /fractional/);
  rejects(() => parseChatRequest(body({ n: 2 }), 'tiny'), 400, 'BadRequestError', /n must be 1/);
  rejects(() => parseChatRequest(body({ temperature: -1 }), 'tiny'), 400, 'BadRequestError', /non-negative/);
  rejects(() => parseChatRequest({ messages: [{ role: 'system', content: 'x' }] }, 'tiny'), 400, 'BadRequestError', /role "user"/);
  rejects(() => parseChatRequest(body({}, 'just text'), 'tiny'), 400, 'BadRequestError', /exactly one image/);
  rejects(() => parseChatRequest(body({}, [{ type: 'input_audio' }]), 'tiny'), 400, 'BadRequestError', /not supported/);
  rejects(
    () => parseChatRequest(body({}, [{ type: 'image_url', image_url: { url: PNG_URL } }, { type: 'text', text: 'a' }, { type: 'text', text: 'b' }]), 'tiny'),
    400,
    'BadRequestError',
    /at most one text part/,
  );
});

test('mm_processor_kwargs: off unless do_pan_and_scan is true; HF\'s defaults fill the rest; bad values are 400s', () => {
  assert.equal(panScanFromMmKwargs(undefined), null);
  assert.equal(panScanFromMmKwargs({}), null);
  assert.equal(panScanFromMmKwargs({ do_pan_and_scan: false, pan_and_scan_max_num_crops: 8 }), null);
  assert.deepEqual(panScanFromMmKwargs({ do_pan_and_scan: true }), HF_PANSCAN_DEFAULTS);
  assert.deepEqual(panScanFromMmKwargs({ do_pan_and_scan: true, pan_and_scan_min_crop_size: 448, pan_and_scan_max_num_crops: 6, pan_and_scan_min_ratio_to_activate: 2 }), {
    minRatioToActivate: 2,
    maxNumCrops: 6,
    minCropSize: 448,
  });
  rejects(() => panScanFromMmKwargs({ do_pan_and_scan: true, pan_and_scan_max_num_crops: 2.5 }), 400, 'BadRequestError', /pan_and_scan_max_num_crops must be an integer >= 1 \(got 2.5\)/);
  rejects(() => panScanFromMmKwargs({ do_pan_and_scan: true, pan_and_scan_min_crop_size: 0 }), 400, 'BadRequestError', /pan_and_scan_min_crop_size must be an integer >= 1/);
  rejects(() => panScanFromMmKwargs({ pan_and_scan_min_ratio_to_activate: '2' }), 400, 'BadRequestError', /must be a number/);
  rejects(() => panScanFromMmKwargs({ num_crops: 2 }), 400, 'BadRequestError', /unknown key\(s\) "num_crops"/);
  rejects(() => panScanFromMmKwargs([true]), 400, 'BadRequestError', /must be an object/);
});

test('image data URLs: PNG, JPEG (also image/jpg) and WebP in base64; anything else is a 400 that says what to send', () => {
  const bytes = Buffer.from([1, 2, 3, 4, 5]);
  for (const mime of ['image/png', 'image/jpeg', 'image/webp']) assert.deepEqual(parseImageDataUrl(`data:${mime};base64,${bytes.toString('base64')}`), { mime, bytes });
  assert.equal(parseImageDataUrl(`data:image/jpg;base64,${bytes.toString('base64')}`).mime, 'image/jpeg');
  rejects(() => parseImageDataUrl('http://127.0.0.1/a.png'), 400, 'BadRequestError', /no network access.*data URL/s);
  rejects(() => parseImageDataUrl('file:///etc/passwd'), 400, 'BadRequestError', /not fetched/);
  rejects(() => parseImageDataUrl('data:image/png,rawbytes'), 400, 'BadRequestError', /base64-encoded/);
  rejects(() => parseImageDataUrl('data:image/png;base64,'), 400, 'BadRequestError', /empty/);
  rejects(() => parseImageDataUrl('data:image/png;base64,abc=d'), 400, 'BadRequestError', /not valid base64/);
  rejects(() => parseImageDataUrl('data:image/png;base64,a'), 400, 'BadRequestError', /not valid base64/);
  rejects(() => parseImageDataUrl('data:text/plain;base64,aGk='), 400, 'BadRequestError', /type "text\/plain"/);
  rejects(() => parseImageDataUrl('aGVsbG8='), 400, 'BadRequestError', /must be a data URL/);
});

test('incremental detokenization: one delta per token, together the whole text; a split UTF-8 character waits', () => {
  const tok = gemmaTokenizer();
  const text = 'Total: 12,50 € — naïve café 😀 ok';
  const ids = tok.encode(text, { add_special_tokens: false }) as number[];
  const d = new IncrementalDetokenizer(tok);
  const deltas = ids.map((id, i) => d.push(id, i === ids.length - 1));
  assert.equal(deltas.join(''), text);
  // Byte-fallback tokens <0xF0><0x9F><0x98><0x80> spell 😀 one byte at a time: nothing until the last.
  const bytes = [0xf0, 0x9f, 0x98, 0x80].map((b) => tok.model.tokens_to_ids.get(`<0x${b.toString(16).toUpperCase()}>`) as number);
  assert.ok(bytes.every((b) => Number.isInteger(b)), 'the vocabulary has byte-fallback tokens');
  const e = new IncrementalDetokenizer(tok);
  assert.deepEqual(bytes.map((b) => e.push(b)), ['', '', '', '😀']);
  // Special tokens add no text (vLLM's skip_special_tokens default).
  assert.equal(new IncrementalDetokenizer(tok).push(1), '');
});

test('context length: vLLM\'s default max_tokens and its two refusals', () => {
  assert.equal(resolveMaxTokens(null, 300, 1000), 700);
  assert.equal(resolveMaxTokens(700, 300, 1000), 700);
  assert.throws(() => resolveMaxTokens(701, 300, 1000), /'max_tokens' or 'max_completion_tokens' is too large: 701/);
  assert.throws(() => resolveMaxTokens(null, 1000, 1000), /maximum context length is 1000 tokens. However, your request has 1000 input tokens/);
});

/** A replica that finishes when told to; records what it ran. */
class FakeReplica implements Replica {
  readonly devices = ['fake'];
  readonly gpuIndices = [];
  readonly loadMs = 0;
  readonly capacity = 1;
  readonly ran: number[] = [];
  private finishers: (() => void)[] = [];
  private dieNow!: (reason: string) => void;
  readonly died = new Promise<string>((r) => (this.dieNow = r));
  private failers: ((e: Error) => void)[] = [];
  closed = false;

  constructor(readonly id: number) {}

  infer(batch: readonly InferRequest[], hooks?: InferHooks): Promise<InferResult[]> {
    this.ran.push(batch[0].id);
    return new Promise((resolve, reject) => {
      const finish = () => resolve([{ id: batch[0].id, ok: true, error: null, crops: 0, imageTokens: 256, promptTokens: 10, outputTokens: 1, preprocessMs: 1, visionMs: 1, startedAt: 0, tokenTimes: [1], tokenIds: [7] }]);
      this.finishers.push(finish);
      this.failers.push(reject);
      hooks?.signal?.addEventListener('abort', finish, { once: true });
    });
  }

  finishOne(): void {
    this.finishers.shift()?.();
    this.failers.shift();
  }

  die(reason: string): void {
    for (const f of this.failers.splice(0)) f(new Error(reason));
    this.finishers = [];
    this.dieNow(reason);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const req = (id: number): InferRequest => ({ id, imagePath: '/x.png', prompt: '', maxNewTokens: 1, preprocess: { panScan: null, exifOrientation: 'ignore', pixelLimit: 1 } });
const tick = () => new Promise((r) => setImmediate(r));

test('the replica pool: FIFO onto free replicas, running and waiting counts, withdrawal while waiting', async () => {
  const [a, b] = [new FakeReplica(0), new FakeReplica(1)];
  const pool = new ReplicaPool([a, b], () => {});
  const ac = new AbortController();
  const runs = [pool.run(req(1)), pool.run(req(2)), pool.run(req(3)), pool.run(req(4), { signal: ac.signal }), pool.run(req(5))];
  assert.deepEqual([pool.running, pool.waiting], [2, 3]);
  assert.deepEqual([a.ran, b.ran], [[1], [2]]);
  ac.abort();
  await assert.rejects(runs[3], WithdrawnError);
  assert.equal(pool.waiting, 2);
  b.finishOne();
  assert.equal((await runs[1]).id, 2);
  await tick();
  assert.deepEqual(b.ran, [2, 3], 'the freed replica takes the oldest waiting request');
  a.finishOne();
  await runs[0];
  await tick();
  assert.deepEqual(a.ran, [1, 5], 'the withdrawn request never ran');
  a.finishOne();
  b.finishOne();
  await Promise.all([runs[2], runs[4]]);
  assert.deepEqual([pool.running, pool.waiting], [0, 0]);
  await pool.close();
  assert.ok(a.closed && b.closed);
  await assert.rejects(pool.run(req(6)), ReplicaUnavailableError);
});

test('the replica pool: a dying replica fails its request and is dropped; with none left, waiting requests fail', async () => {
  const logs: string[] = [];
  const a = new FakeReplica(0);
  const pool = new ReplicaPool([a], (_l, m) => logs.push(m));
  const first = pool.run(req(1));
  const second = pool.run(req(2));
  a.die('worker thread exited with code 3');
  await assert.rejects(first, /replica 0 stopped while running this request: worker thread exited with code 3/);
  await assert.rejects(second, /no replica is left/);
  assert.equal(pool.replicasAlive, 0);
  await assert.rejects(pool.run(req(3)), /no replica is left/);
  assert.ok(logs.some((l) => /replica 0 stopped/.test(l)));
});

test('serveUntilSignal: 130 after SIGINT, 143 after SIGTERM; a second signal only says it is stopping', async () => {
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const signals = new EventEmitter();
    let closed = 0;
    const done = serveUntilSignal({ close: async () => void closed++ }, { log: () => {}, signals });
    signals.emit(sig, sig);
    assert.equal(await done, code);
    assert.equal(closed, 1);
    assert.equal(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM'), 0, 'handlers removed');
  }
  const signals = new EventEmitter();
  const logs: string[] = [];
  let finishClose!: () => void;
  const done = serveUntilSignal({ close: () => new Promise<void>((r) => (finishClose = r)) }, { log: (_l, m) => logs.push(m), signals });
  signals.emit('SIGTERM', 'SIGTERM');
  signals.emit('SIGINT', 'SIGINT');
  signals.emit('SIGINT', 'SIGINT');
  assert.ok(logs.filter((l) => /again: already stopping/.test(l)).length === 2, logs.join('\n'));
  finishClose();
  assert.equal(await done, 143, 'the first signal decides the code, once the server has closed');
});

/** A replica that streams a fixed token sequence through the hooks, stopping early when its signal aborts. */
function scriptedReplica(tokens: readonly number[]): Replica & { produced: () => number } {
  let produced = 0;
  const died = new Promise<string>(() => {});
  return {
    id: 0,
    devices: ['script'],
    gpuIndices: [],
    loadMs: 0,
    capacity: 1,
    died,
    produced: () => produced,
    async infer(batch, hooks) {
      const r = batch[0];
      const ids: number[] = [];
      for (let i = 0; i < Math.min(r.maxNewTokens, tokens.length); i++) {
        await tick();
        ids.push(tokens[i]);
        produced++;
        hooks?.onToken?.(r.id, i, tokens[i]);
        if (hooks?.signal?.aborted) break;
      }
      return [{ id: r.id, ok: true, error: null, crops: 0, imageTokens: 256, promptTokens: 42, outputTokens: ids.length, preprocessMs: 1, visionMs: 1, startedAt: 0, tokenTimes: ids.map(() => 0), tokenIds: ids }];
    },
    async close() {},
  };
}

async function complete(tokens: readonly number[], o: { ignoreEos?: boolean; maxTokens?: number } = {}) {
  const replica = scriptedReplica(tokens);
  const pool = new ReplicaPool([replica], () => {});
  const spool = { write: async () => '/dev/null/image.png', remove: async () => {} } as unknown as ImageSpool;
  const metrics = new ServeMetrics('tiny', () => ({ running: pool.running, waiting: pool.waiting }));
  const got: { deltas: string[]; finish: Finish | null; usage: Usage | null; end: Finish | null; error: ApiError | null } = { deltas: [], finish: null, usage: null, end: null, error: null };
  const sink: CompletionSink = {
    start: () => {},
    token: (d, _n, f) => {
      got.deltas.push(d);
      if (f) got.finish = f;
    },
    end: (u, f) => {
      got.usage = u;
      got.end = f;
    },
    fail: (e) => (got.error = e),
  };
  const request = parseChatRequest(body({ ignore_eos: o.ignoreEos ?? false }), 'tiny');
  await runCompletion(
    { pool, spool, tokenizer: gemmaTokenizer(), metrics, stopTokenIds: GEMMA3_STOP_TOKEN_IDS, log: () => {}, nextRequestId: () => 1 },
    { request, plan: { width: 1, height: 1, crops: 0, promptTokens: 42 }, maxTokens: o.maxTokens ?? 10, arrivedAtMs: 0, signal: new AbortController().signal },
    sink,
  );
  return { ...got, produced: replica.produced() };
}

test('a completion stops at Gemma 3\'s end tokens unless ignore_eos, counts the stop token, and frees the replica', async () => {
  const [hello, world] = [9259, 1902];
  const eos = await complete([hello, world, 1, hello, hello, hello]);
  assert.deepEqual(eos.end, { reason: 'stop', stopReason: null }, 'EOS: stop_reason null, as vLLM reports its tokenizer\'s EOS');
  assert.equal(eos.usage!.completion_tokens, 3, 'the EOS token counts, as in vLLM');
  assert.equal(eos.usage!.prompt_tokens, 42, 'the replica\'s own prompt count');
  assert.equal(eos.deltas.at(-1), '', 'the EOS token adds no text');
  assert.ok(eos.produced < 6, 'the replica was stopped early');
  const eot = await complete([hello, 106, hello]);
  assert.deepEqual(eot.end, { reason: 'stop', stopReason: 106 }, '<end_of_turn>: stop_reason is the token id');
  const ignored = await complete([hello, 1, world, 106, hello], { ignoreEos: true, maxTokens: 5 });
  assert.deepEqual(ignored.end, { reason: 'length', stopReason: null });
  assert.equal(ignored.usage!.completion_tokens, 5);
  assert.equal(ignored.error, null);
});
