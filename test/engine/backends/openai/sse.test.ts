import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseSse, SseParser, type SseEvent } from '../../../../src/engine/backends/openai/sse.js';
import { frameData, loadStream, STREAMS_DIR } from '../../../helpers/sse-replayer.js';

function feedAll(p: SseParser, parts: readonly (string | Uint8Array)[]): SseEvent[] {
  const out: SseEvent[] = [];
  for (const x of parts) out.push(...p.feed(x));
  out.push(...p.finish().events);
  return out;
}

/** Every way of cutting `bytes` into two pieces, plus byte-by-byte. */
function splits(bytes: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)]);
  out.push(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)));
  return out;
}

describe('SseParser', () => {
  it('yields data events and skips comments', () => {
    const ev = parseSse(': ping\n\ndata: {"a":1}\n\n: keep-alive\ndata: [DONE]\n\n');
    assert.deepEqual(
      ev.map((e) => e.data),
      ['{"a":1}', '[DONE]'],
    );
    assert.equal(ev[0].event, 'message');
  });

  it('joins multi-line data with newlines and keeps event and id fields', () => {
    const ev = parseSse('event: delta\nid: 7\ndata: first\ndata:second\ndata:  third\n\n');
    assert.equal(ev.length, 1);
    assert.equal(ev[0].data, 'first\nsecond\n third');
    assert.equal(ev[0].event, 'delta');
    assert.equal(ev[0].id, '7');
  });

  it('handles CRLF and lone CR line ends', () => {
    assert.deepEqual(
      parseSse('data: a\r\n\r\ndata: b\r\rdata: c\n\n').map((e) => e.data),
      ['a', 'b', 'c'],
    );
  });

  it('gives the same events however the bytes are split (multi-byte UTF-8, CRLF pairs and data: lines cut anywhere)', () => {
    const text = 'data: {"c":"😊 é"}\r\n\r\n: ping\r\ndata: {"c":"x"}\r\n\r\ndata: [DONE]\r\n\r\n';
    const bytes = Buffer.from(text);
    const want = parseSse(text).map((e) => e.data);
    assert.deepEqual(want, ['{"c":"😊 é"}', '{"c":"x"}', '[DONE]']);
    for (const parts of splits(bytes)) {
      const got = feedAll(new SseParser(), parts).map((e) => e.data);
      assert.deepEqual(got, want, `split into ${parts.length} piece(s) at ${parts[0].length}`);
    }
  });

  it('returns a last event not closed by a blank line at finish, and says so', () => {
    const p = new SseParser();
    assert.deepEqual(p.feed('data: {"x":1}\n\ndata: {"y":2}'), [{ event: 'message', data: '{"x":1}', id: null }]);
    const end = p.finish();
    assert.equal(end.unterminated, true);
    assert.deepEqual(end.events.map((e) => e.data), ['{"y":2}']);
  });

  it('reads every recorded stream fixture frame for frame', () => {
    for (const name of readdirSync(STREAMS_DIR).filter((f) => f.endsWith('.json'))) {
      const fx = loadStream(name);
      const text = fx.frames.map((f) => `${f}\n\n`).join('');
      assert.deepEqual(
        parseSse(text).map((e) => e.data),
        fx.frames.map(frameData),
        name,
      );
      const crlf = fx.frames.map((f) => `${f}\r\n\r\n`).join('');
      const bytes = Buffer.from(crlf);
      const sevenByteParts: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += 7) sevenByteParts.push(bytes.subarray(i, i + 7));
      assert.deepEqual(
        feedAll(new SseParser(), sevenByteParts).map((e) => e.data),
        fx.frames.map(frameData),
        `${name} in 7-byte pieces with CRLF`,
      );
    }
  });

  it('counts comments and bytes', () => {
    const p = new SseParser();
    p.feed(': a\n: b\ndata: x\n\n');
    const s = p.getStats();
    assert.equal(s.comments, 2);
    assert.equal(s.events, 1);
    assert.equal(s.bytes, 17);
  });
});
