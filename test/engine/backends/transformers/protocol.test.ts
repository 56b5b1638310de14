// The wire format: every message of the synthesized transcript parses, bad lines are reported (not thrown),
// line framing survives arbitrary chunking, and results map onto the engine's clock.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { LineSplitter, TailBuffer } from '../../../../src/engine/backends/transformers/jsonl.js';
import { parseWorkerLine, type ResultMessage } from '../../../../src/engine/backends/transformers/protocol.js';
import { formatDeviceMap, toInferResult } from '../../../../src/engine/backends/transformers/replica.js';
import { request, TRANSCRIPT } from './helpers.js';

const transcript = JSON.parse(readFileSync(TRANSCRIPT, 'utf8')) as {
  _about: string[];
  probe: unknown;
  replicas: { ready: unknown }[];
};

describe('transformers protocol', () => {
  it('the transcript says plainly that it is synthesized, not recorded', () => {
    assert.match(transcript._about[0], /SYNTHESIZED, NOT RECORDED ON A GPU/);
  });

  it('parses the probe and ready messages of the transcript', () => {
    const p = parseWorkerLine(JSON.stringify(transcript.probe));
    assert.ok(p.ok && p.message.type === 'probe');
    for (const r of transcript.replicas) {
      const m = parseWorkerLine(JSON.stringify(r.ready));
      assert.ok(m.ok, m.ok ? '' : m.error);
      assert.equal(m.message.type, 'ready');
      if (m.message.type === 'ready') assert.equal(m.message.deviceMap.length, 2);
    }
  });

  it('peakMemory is optional in a result (protocol 1 both ways), and checked when present', () => {
    const base = { type: 'result', batchId: 1, recvTime: 1, results: [], batchError: null, oom: false, notes: [] };
    const without = parseWorkerLine(JSON.stringify(base));
    assert.ok(without.ok && without.message.type === 'result' && without.message.peakMemory === undefined);
    const peak = [{ ordinal: 0, gpu: '3', allocatedMiB: 27874.5, reservedMiB: 29504 }];
    const withIt = parseWorkerLine(JSON.stringify({ ...base, peakMemory: peak }));
    assert.ok(withIt.ok && withIt.message.type === 'result');
    assert.deepEqual(withIt.ok && withIt.message.type === 'result' ? withIt.message.peakMemory : null, peak);
    const bad = parseWorkerLine(JSON.stringify({ ...base, peakMemory: [{ ordinal: 0, gpu: '3', allocatedMiB: 'lots', reservedMiB: null }] }));
    assert.ok(!bad.ok && /peakMemory/.test(bad.error));
  });

  it('reports non-JSON and wrongly shaped lines with what was wrong', () => {
    const a = parseWorkerLine('Loading checkpoint shards: 100%');
    assert.ok(!a.ok && /not JSON/.test(a.error));
    const b = parseWorkerLine(JSON.stringify({ type: 'result', batchId: 1, recvTime: 'soon', results: [], batchError: null, oom: false, notes: [] }));
    assert.ok(!b.ok && /recvTime/.test(b.error));
    const c = parseWorkerLine(JSON.stringify({ type: 'telemetry' }));
    assert.ok(!c.ok);
  });

  it('splits lines across arbitrary chunk boundaries, CRLF and split UTF-8 included', () => {
    const got: string[] = [];
    const s = new LineSplitter((l) => got.push(l));
    const text = Buffer.from('{"a":"é"}\r\nsecond\n\nthird-without-newline', 'utf8');
    for (let i = 0; i < text.length; i++) s.push(text.subarray(i, i + 1));
    s.end();
    assert.deepEqual(got, ['{"a":"é"}', 'second', '', 'third-without-newline']);
  });

  it('keeps the last stderr lines, a progress bar by its final state only', () => {
    const t = new TailBuffer(3);
    for (const l of ['a', '', 'b', 'Loading 10%\rLoading 50%\rLoading 100%', 'c']) t.add(l);
    assert.deepEqual(t.get(), ['b', 'Loading 100%', 'c']);
    assert.deepEqual(t.without((l) => l.startsWith('Loading')).get(), ['b', 'c']);
  });

  it('maps worker-relative times onto the engine clock with the measured offset', () => {
    const msg: ResultMessage = {
      type: 'result',
      batchId: 0,
      recvTime: 1_800_000_000.25, // worker epoch seconds
      batchError: null,
      oom: false,
      notes: [],
      results: [{ id: 7, ok: true, error: null, crops: 3, imageTokens: 1024, promptTokens: 1103, outputTokens: 3, tokenIds: [1, 2, 3], preprocessMs: 412.8, inputMs: 412.8, visionMs: 81.4, startMs: 12, tokenMs: [361.7, 394.3, 426.9] }],
    };
    // The worker's clock runs 5000 ms ahead of ours.
    const r = toInferResult(request(7, '/x.png'), msg.results[0], msg, 5000, undefined);
    const base = 1_800_000_000_250 - 5000;
    assert.equal(r.ok, true);
    assert.equal(r.startedAt, base);
    assert.deepEqual(r.tokenTimes, [base + 361.7, base + 394.3, base + 426.9]);
    assert.equal(r.preprocessMs, 412.8);
    assert.equal(r.visionMs, 81.4);
    assert.deepEqual([r.crops, r.imageTokens, r.promptTokens, r.outputTokens], [3, 1024, 1103, 3]);
    // ts mode: preprocessing was timed on our side and the replica started on the request when it began.
    const ts = toInferResult(request(7, '/x.png'), msg.results[0], msg, 0, { id: 7, ok: true, path: '/dev/shm/x', shape: [4, 3, 896, 896], inputIds: [], crops: 3, imageTokens: 1024, preprocessMs: 55.5, startedAt: 42 });
    assert.equal(ts.preprocessMs, 55.5);
    assert.equal(ts.startedAt, 42);
  });

  it('turns a missing or failed row into a failed result carrying the batch error', () => {
    const msg: ResultMessage = { type: 'result', batchId: 0, recvTime: 1, batchError: 'CUDA out of memory: Tried to allocate 3.94 GiB', oom: true, notes: [], results: [] };
    const r = toInferResult(request(1, '/x.png'), undefined, msg, 0, undefined);
    assert.equal(r.ok, false);
    assert.match(r.error!, /CUDA out of memory/);
  });

  it('formats the device map as GPU groups', () => {
    assert.equal(
      formatDeviceMap([
        { device: 'cuda:0', gpu: '2', modules: ['vision tower', 'layers 0-28'] },
        { device: 'cuda:1', gpu: '3', modules: ['layers 29-61', 'norm'] },
      ]),
      'cuda:0 (GPU 2): vision tower, layers 0-28; cuda:1 (GPU 3): layers 29-61, norm',
    );
  });
});
