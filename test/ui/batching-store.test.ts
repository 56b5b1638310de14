// The batching store with a manual clock: at most one notification per NOTIFY_INTERVAL_MS, urgent inputs at
// once, a stable snapshot between notifications; and a recorded run replayed at its own pace stays under
// ~15 notifications a second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDashboardStore } from '../../src/ui/dashboard-store.js';
import { createStore, NOTIFY_INTERVAL_MS, type Timers } from '../../src/ui/batching-store.js';
import { loadStream } from './helpers.js';

/** A manual clock: timers fire only when advanced. */
function manualTimers() {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = ++seq;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  const advanceTo = (t: number) => {
    for (;;) {
      const due = [...pending.entries()].filter(([, p]) => p.at <= t).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      now = due[1].at;
      pending.delete(due[0]);
      due[1].fn();
    }
    now = t;
  };
  return { timers, advanceTo, pending };
}

test('notifies at most once per interval; the snapshot only changes on a notification', () => {
  const clock = manualTimers();
  const store = createStore((s: number, a: number) => s + a, 0, { timers: clock.timers });
  let calls = 0;
  store.subscribe(() => calls++);
  store.dispatch(1); // first input: published at once (nothing published for a whole interval)
  assert.equal(calls, 1);
  assert.equal(store.getSnapshot(), 1);
  store.dispatch(1);
  store.dispatch(1);
  assert.equal(calls, 1);
  assert.equal(store.getSnapshot(), 1, 'unpublished changes are not visible');
  clock.advanceTo(NOTIFY_INTERVAL_MS - 1);
  assert.equal(calls, 1);
  clock.advanceTo(NOTIFY_INTERVAL_MS);
  assert.equal(calls, 2);
  assert.equal(store.getSnapshot(), 3);
  assert.equal(clock.pending.size, 0);
});

test('urgent inputs are published at once; flush publishes pending changes', () => {
  const clock = manualTimers();
  const store = createStore((s: string[], a: string) => [...s, a], [] as string[], { timers: clock.timers, isUrgent: (a) => a === 'end' });
  let calls = 0;
  store.subscribe(() => calls++);
  store.dispatch('a');
  store.dispatch('b');
  assert.equal(calls, 1);
  store.dispatch('end');
  assert.equal(calls, 2);
  assert.deepEqual(store.getSnapshot(), ['a', 'b', 'end']);
  store.dispatch('c');
  store.flush();
  assert.equal(calls, 3);
  assert.deepEqual(store.getSnapshot(), ['a', 'b', 'end', 'c']);
  store.dispose();
  assert.equal(clock.pending.size, 0);
});

test('a listener that throws does not stop the others', () => {
  const store = createStore((s: number, a: number) => s + a, 0);
  let ok = 0;
  store.subscribe(() => {
    throw new Error('display bug');
  });
  store.subscribe(() => ok++);
  store.dispatch(1);
  assert.equal(ok, 1);
  store.dispose();
});

test('replaying a recorded run at its own pace: <= 15 notifications a second, run-finished at once', () => {
  const events = loadStream('run-cpu');
  const clock = manualTimers();
  const store = createDashboardStore({ timers: clock.timers });
  const notifiedAt: number[] = [];
  store.subscribe(() => notifiedAt.push(clock.timers.now()));
  for (const e of events) {
    clock.advanceTo(e.at);
    store.dispatch(e);
  }
  const end = events.at(-1)!.at;
  assert.equal(store.getSnapshot().status, 'finished', 'run-finished is published without waiting');
  for (let i = 1; i < notifiedAt.length; i++) {
    // Only urgent inputs may come sooner than the interval.
    if (notifiedAt[i] - notifiedAt[i - 1] < NOTIFY_INTERVAL_MS) assert.equal(notifiedAt[i], end);
  }
  const rate = notifiedAt.length / (end / 1000);
  assert.ok(rate <= 15.5, `notified ${rate.toFixed(1)} times a second`);
  assert.ok(notifiedAt.length < events.length, 'bursts are coalesced');
});

test('a burst of events costs one notification', () => {
  const events = loadStream('run-cpu').filter((e) => e.type !== 'run-finished');
  const clock = manualTimers();
  const store = createDashboardStore({ timers: clock.timers });
  let calls = 0;
  store.subscribe(() => calls++);
  for (const e of events) store.dispatch(e); // all at t=0
  assert.equal(calls, 1);
  clock.advanceTo(NOTIFY_INTERVAL_MS);
  assert.equal(calls, 2);
  assert.equal(store.getSnapshot().requestsDone, 7);
});
