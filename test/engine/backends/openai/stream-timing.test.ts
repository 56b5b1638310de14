import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { foldStream, tokenTimesFor, vllmTpotMs, type StreamMeasurement, type TimedPayload, type TtftMode } from '../../../../src/engine/backends/openai/stream-timing.js';
import { toRecord, type PlannedRequest } from '../../../../src/engine/scheduler.js';
import type { InferResult } from '../../../../src/engine/backend.js';
import { frameData, loadStream, STREAMS_DIR, type StreamFixture } from '../../../helpers/sse-replayer.js';

const START = 1_000_000;
const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-6, `${msg ?? ''} ${a} != ${b}`);
const closeAll = (a: readonly number[], b: readonly number[], msg?: string) => {
  assert.equal(a.length, b.length, `${msg ?? ''} lengths ${a.length} != ${b.length}`);
  a.forEach((x, i) => close(x, b[i], `${msg ?? ''}[${i}]`));
};

function payloads(fx: StreamFixture): TimedPayload[] {
  return fx.frames.map((f, i) => ({ atMs: START + fx.scheduleMs[i], data: frameData(f) }));
}

/**
 * vLLM's loop (endpoint_request_func.py, async_request_openai_chat_completions), transliterated without our fold:
 * the first message with choices sets TTFT, later ones append ITL, the last one with choices ends the request.
 */
function vllmLoop(fx: StreamFixture): { ttftMs: number; itlMs: number[]; e2eMs: number } | null {
  let first = false;
  let ttft = 0;
  let recent = 0;
  const itl: number[] = [];
  fx.frames.forEach((frame, i) => {
    const chunk = frameData(frame);
    if (chunk === '[DONE]') return;
    const ts = fx.scheduleMs[i];
    const data = JSON.parse(chunk) as { choices?: unknown[] };
    if (data.choices && data.choices.length > 0) {
      if (!first) {
        first = true;
        ttft = ts;
      } else {
        itl.push(ts - recent);
      }
      recent = ts;
    }
  });
  return first ? { ttftMs: ttft, itlMs: itl, e2eMs: recent } : null;
}

const fixtures = readdirSync(STREAMS_DIR).filter((f) => f.endsWith('.json'));

describe('stream-timing fold on every recorded stream', () => {
  for (const name of fixtures) {
    for (const mode of ['choices', 'first-content'] as TtftMode[]) {
      it(`${name} (${mode})`, () => {
        const fx = loadStream(name);
        const want = fx.expected[mode] as Record<string, unknown>;
        const got = foldStream(START, payloads(fx), { mode });
        if (want.ok === false) {
          assert.equal(got.ok, false, `expected a failure, got ${JSON.stringify(got)}`);
          if (!got.ok) assert.match(got.reason, new RegExp(String(want.reasonIncludes)));
          const vllm = want.vllmWouldSay as { ttftMs: number; itlMs: number[]; e2eMs: number } | undefined;
          if (vllm) {
            const loop = vllmLoop(fx)!;
            close(loop.ttftMs, vllm.ttftMs, 'vLLM loop ttft');
            closeAll(loop.itlMs, vllm.itlMs, 'vLLM loop itl');
            close(loop.e2eMs, vllm.e2eMs, 'vLLM loop e2e');
          }
          return;
        }
        assert.equal(got.ok, true, got.ok ? '' : got.reason);
        if (!got.ok) return;
        close(got.ttftMs, want.ttftMs as number, 'ttft');
        close(got.e2eMs, want.e2eMs as number, 'e2e');
        closeAll(got.itlMs, want.itlMs as number[], 'itl');
        assert.equal(got.completionTokens, want.completionTokens);
        assert.equal(got.promptTokens, want.promptTokens);
        if ('usageSource' in want) assert.equal(got.usageSource, want.usageSource);
        if ('doneSeen' in want) assert.equal(got.doneSeen, want.doneSeen);
        if ('text' in want) assert.equal(got.text, want.text);
        if (mode === 'choices') {
          // Our fold and vLLM's own loop agree on every recorded stream.
          const loop = vllmLoop(fx)!;
          close(got.ttftMs, loop.ttftMs, 'fold vs vLLM loop ttft');
          closeAll(got.itlMs, loop.itlMs, 'fold vs vLLM loop itl');
          close(got.e2eMs, loop.e2eMs, 'fold vs vLLM loop e2e');
        }
        if (got.completionTokens !== null) {
          if ('tpotMs' in want) close(vllmTpotMs(got, got.completionTokens)!, want.tpotMs as number, 'tpot');
          const times = tokenTimesFor(got, got.completionTokens);
          assert.equal(times.length, got.completionTokens);
          if ('tokenTimesMs' in want) closeAll(times.map((t) => t - START), want.tokenTimesMs as number[], 'tokenTimes');
        }
      });
    }
  }
});

function req(): PlannedRequest {
  return { id: 1, imagePath: 'x.png', prompt: 'p', maxNewTokens: 16, preprocess: { panScan: null, exifOrientation: 'ignore', pixelLimit: 1 }, imageIndex: 0, promptIndex: 0, crops: 0, imageTokens: 256, promptTokens: 300, warmup: false };
}

describe('tokenTimes make the engine compute vLLM TTFT, E2E and TPOT', () => {
  it('on the recorded vLLM vision stream, the scheduler record equals vLLM\'s numbers when dispatch is the POST instant', () => {
    const fx = loadStream('vllm-chat-vision.json');
    const m = foldStream(START, payloads(fx), { mode: 'choices' }) as StreamMeasurement;
    const out = m.completionTokens!;
    const res: InferResult = { id: 1, ok: true, error: null, crops: 0, imageTokens: 256, promptTokens: 6421, outputTokens: out, preprocessMs: null, visionMs: null, startedAt: START, tokenTimes: tokenTimesFor(m, out), tokenIds: [] };
    const rec = toRecord(req(), START, START, res, 0, 'ok', 1, 0);
    close(rec.ttftMs!, m.ttftMs, 'record ttft');
    close(rec.e2eMs!, m.e2eMs, 'record e2e');
    close(rec.tpotMs!, vllmTpotMs(m, out)!, 'record tpot');
    // The engine's ITL is vLLM's ITL less its near-zero role-chunk sample (0.2 ms here), merged into the next gap.
    const gaps = rec.tokenTimesMs.slice(1).map((t, i) => t - rec.tokenTimesMs[i]);
    closeAll(gaps, [12.2, 12, 12, 12]);
    assert.equal(gaps.reduce((a, b) => a + b, 0).toFixed(6), m.itlMs.reduce((a, b) => a + b, 0).toFixed(6));
  });

  it('uses continuous usage stats to stamp several tokens at the chunk that carried them', () => {
    const head = (content: string, ct: number, fin = 'null') =>
      `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"${content}"},"logprobs":null,"finish_reason":${fin}}],"usage":{"prompt_tokens":9,"total_tokens":${9 + ct},"completion_tokens":${ct}}}`;
    const ps: TimedPayload[] = [
      { atMs: START + 50, data: '{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":9,"total_tokens":9,"completion_tokens":0}}' },
      { atMs: START + 50.1, data: head('a', 1) },
      { atMs: START + 70, data: head('bcd', 4) },
      { atMs: START + 90, data: head('ef', 6, '"length"') },
      { atMs: START + 90.2, data: '{"id":"c","choices":[],"usage":{"prompt_tokens":9,"total_tokens":15,"completion_tokens":6}}' },
      { atMs: START + 90.3, data: '[DONE]' },
    ];
    const m = foldStream(START, ps, { mode: 'choices' }) as StreamMeasurement;
    assert.equal(m.ok, true);
    closeAll(m.itlMs, [0.1, 19.9, 20]);
    const t = tokenTimesFor(m, 6).map((x) => x - START);
    closeAll(t, [50, 70, 70, 70, 90, 90]);
    close((t[5] - t[0]) / 5, vllmTpotMs(m, 6)!);
  });

  it('pads with the last chunk when fewer content chunks than tokens arrived (no usage per chunk)', () => {
    const c = (s: string, fin = 'null') => `{"choices":[{"index":0,"delta":{"content":"${s}"},"finish_reason":${fin}}]}`;
    const m = foldStream(START, [
      { atMs: START + 10, data: c('ab') },
      { atMs: START + 30, data: c('cd', '"stop"') },
      { atMs: START + 31, data: '{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":4}}' },
      { atMs: START + 31, data: '[DONE]' },
    ], { mode: 'choices' }) as StreamMeasurement;
    closeAll(tokenTimesFor(m, 4).map((x) => x - START), [10, 30, 30, 30]);
    assert.deepEqual(tokenTimesFor(m, 1).map((x) => x - START), [10]);
    assert.deepEqual(tokenTimesFor(m, 0), []);
  });
});

describe('stream-timing failures', () => {
  const fx = loadStream('vllm-chat-vision.json');
  const ps = payloads(fx);
  it('an error object mid-stream', () => {
    const r = foldStream(START, [...ps.slice(0, 2), { atMs: START + 200, data: '{"error":{"object":"error","message":"CUDA out of memory","type":"InternalServerError","code":500}}' }], { mode: 'choices' });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /server error mid-stream after 2 chunk\(s\): CUDA out of memory \(InternalServerError, 500\)/);
  });
  it('a string error (TGI, transformers serve)', () => {
    const r = foldStream(START, [ps[0], { atMs: START + 200, data: '{"error": "Input validation error"}' }], { mode: 'choices' });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /Input validation error/);
  });
  it('malformed JSON', () => {
    const r = foldStream(START, [ps[0], { atMs: START + 200, data: '{"choices":[{"delta":' }], { mode: 'choices' });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /malformed chunk \(not JSON\) after 1 chunk\(s\)/);
  });
  it('no chunk with choices', () => {
    const r = foldStream(START, [ps[6], ps[7]], { mode: 'choices' });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /no chunk with choices/);
  });
  it('cut off: no [DONE] and no finish_reason', () => {
    const r = foldStream(START, ps.slice(0, 4), { mode: 'choices' });
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /stream ended before \[DONE\] and without a finish_reason after 4 chunk/);
  });
  it('finish_reason without [DONE] passes unless requireDone', () => {
    const withoutDone = ps.slice(0, 7);
    const lenient = foldStream(START, withoutDone, { mode: 'choices' });
    assert.equal(lenient.ok, true);
    if (lenient.ok) assert.equal(lenient.doneSeen, false);
    const strict = foldStream(START, withoutDone, { mode: 'choices', requireDone: true });
    assert.equal(strict.ok, false);
    if (!strict.ok) assert.match(strict.reason, /without \[DONE\]/);
  });
  it('ignores anything after [DONE]', () => {
    const r = foldStream(START, [...ps, { atMs: START + 999, data: 'garbage' }], { mode: 'choices' });
    assert.equal(r.ok, true);
  });
});
