// liveScreen: the dashboard and the interactive app are drawn only where Ink can draw them live (the CI case on a
// real terminal is covered end to end in test/e2e/tui.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveScreen } from '../../src/cli/live-screen.js';

const tty = { isTTY: true };
const pipe = { isTTY: false };

test('a terminal without CI gets the live screen', () => {
  assert.deepEqual(liveScreen(tty, tty, null), { ok: true });
});

test('pipes and CI do not, and the reason names what to change', () => {
  assert.deepEqual(liveScreen(pipe, tty, null), { ok: false, why: 'stdin is not a terminal' });
  assert.deepEqual(liveScreen(tty, {}, null), { ok: false, why: 'stdout is not a terminal' });
  const ci = liveScreen(tty, tty, 'CONTINUOUS_INTEGRATION');
  assert.equal(ci.ok, false);
  assert.match(!ci.ok ? ci.why : '', /^CONTINUOUS_INTEGRATION is set .*`env -u CONTINUOUS_INTEGRATION/);
});
