// Headless presenters on recorded event streams: NDJSON is every event verbatim, one per line; plain progress
// goes to stderr at most once per interval (with in-flight and queued counts), failures are printed as they
// happen, and stdout gets only the summary table and the final status line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ndjsonPresenter, plainPresenter, PLAIN_PROGRESS_INTERVAL_MS } from '../../src/report/headless.js';
import { loadStream } from '../ui/helpers.js';

function sink() {
  const s = new PassThrough();
  const chunks: string[] = [];
  s.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  return { stream: s, text: () => chunks.join('') };
}

test('--json: every event, verbatim, one JSON object per line', () => {
  const events = loadStream('run-cpu');
  const out = sink();
  const p = ndjsonPresenter(out.stream);
  for (const e of events) p.onEvent(e);
  const lines = out.text().trimEnd().split('\n');
  assert.equal(lines.length, events.length);
  assert.deepEqual(lines.map((l) => JSON.parse(l)), events);
});

test('plain: progress lines on stderr, rate-limited, with queued counts; the table and status on stdout', () => {
  const events = loadStream('run-cpu');
  const err = sink();
  const out = sink();
  const p = plainPresenter(err.stream, out.stream);
  for (const e of events) p.onEvent(e);
  const progress = err.text().split('\n').filter((l) => /^ {2}\[/.test(l));
  const progressEvents = events.filter((e) => e.type === 'progress');
  assert.ok(progress.length > 0 && progress.length < progressEvents.length, `${progress.length} lines for ${progressEvents.length} progress events`);
  const stamps = progress.map((l) => l.match(/^ {2}\[([\d.]+) s\]/)?.[1]).filter((x) => x !== undefined).map(Number);
  for (let i = 1; i < stamps.length; i++) assert.ok((stamps[i] - stamps[i - 1]) * 1000 >= PLAIN_PROGRESS_INTERVAL_MS - 100, `${stamps[i - 1]} -> ${stamps[i]}`);
  assert.ok(progress.some((l) => /\d+\/\d+ done, \d+ in flight, 1 queued \|/.test(l)), progress.join('\n'));
  assert.ok(progress.every((l) => !/, 0 queued/.test(l)));
  assert.match(err.text(), /^run 20261125-142812-balanced-90d5: preset balanced, onnx backend, model gemma3-tiny, random weights: speed only/);
  assert.match(out.text(), /^completed \d+, failed 0/m);
  assert.match(out.text(), /E2E latency/);
  assert.match(out.text(), /status completed; run 20261125-142812-balanced-90d5 saved to /);
  assert.doesNotMatch(out.text(), /in flight/);
});

test('plain: a failed request is printed with its error when it happens', () => {
  const events = loadStream('run-errors');
  const err = sink();
  const out = sink();
  const p = plainPresenter(err.stream, out.stream);
  for (const e of events) p.onEvent(e);
  const failed = events.filter((e) => e.type === 'request-done' && e.record.status === 'failed');
  assert.ok(failed.length > 0);
  for (const e of failed) if (e.type === 'request-done') assert.ok(err.text().includes(`request ${e.record.id} failed: ${e.record.error}`));
});
