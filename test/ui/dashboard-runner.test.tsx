// presentWithDashboard (the lead's wire-up for `gemma-bench run` on a terminal): draws the stream, calls onStop
// on q and on every Ctrl-C, resolves once the stream has ended with the final frame written, and survives a
// stream that throws.
import '../helpers/no-ci.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { EngineEvent } from '../../src/engine/events.js';
import { presentWithDashboard } from '../../src/ui/dashboard-runner.js';
import { KEYS, loadStream, stripAnsi, tick, waitFor } from './helpers.js';

class FakeStdout extends EventEmitter {
  readonly chunks: string[] = [];
  isTTY = true;
  get columns() {
    return 100;
  }
  get rows() {
    return 60;
  }
  write = (s: string) => {
    this.chunks.push(s);
    return true;
  };
  text = () => stripAnsi(this.chunks.join(''));
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  send(s: string) {
    this.data = s;
    this.emit('readable');
    this.emit('data', s);
  }
}

function io() {
  const stdout = new FakeStdout();
  const stdin = new FakeStdin();
  return { stdout, stdin, opts: { stdout: stdout as unknown as NodeJS.WriteStream, stderr: new FakeStdout() as unknown as NodeJS.WriteStream, stdin: stdin as unknown as NodeJS.ReadStream } };
}

/** A stream that yields the recorded events, waiting at `holdAt` until released. */
function held(events: EngineEvent[], holdAt: number) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  async function* gen(): AsyncGenerator<EngineEvent> {
    for (let i = 0; i < events.length; i++) {
      if (i === holdAt) await gate;
      yield events[i];
    }
  }
  return { stream: gen(), release: () => release() };
}

test('draws the run live, q and Ctrl-C reach onStop, resolves after the final frame', async () => {
  const events = loadStream('run-cpu');
  const hold = events.findIndex((e) => e.type === 'progress' && e.snapshot.metrics.e2eMs.count >= 1) + 1;
  const { stream, release } = held(events, hold);
  const { stdout, stdin, opts } = io();
  let stops = 0;
  let done = false;
  const p = presentWithDashboard(stream, () => stops++, opts).then(() => (done = true));
  try {
    await waitFor(() => assert.match(stdout.text(), /E2E +\d/));
    assert.match(stdout.text(), /gemma3-tiny, random weights: speed only/);
    await tick();
    stdin.send('q');
    await waitFor(() => assert.equal(stops, 1));
    await tick();
    stdin.send(KEYS.ctrlC);
    await waitFor(() => assert.equal(stops, 2));
    assert.equal(done, false);
  } finally {
    // Even when an assertion failed: let the stream end so Ink unmounts and the test process can exit.
    release();
    await p;
  }
  assert.match(stdout.text(), /Run 20261125-142812-balanced-90d5 completed, saved to/);
});

test('a stream that throws is shown, not rethrown', async () => {
  const { stdout, opts } = io();
  async function* broken(): AsyncGenerator<EngineEvent> {
    yield loadStream('run-cpu')[0];
    throw new Error('engine crashed: worker exited with code 134');
  }
  await presentWithDashboard(broken(), () => {}, opts);
  assert.match(stdout.text(), /✖ engine crashed: worker exited with code 134/);
});
