// The dashboard laid out to the terminal (ink-testing-library): at 80x24 the compact layout (title, progress and
// percentiles first, one telemetry line, the frame shorter than the terminal) on the recorded CPU and 4x2-GPU
// streams; at 80x50 the full layout with the GPU table (88 columns) inside an 80-column viewport that ←/→ scroll;
// at 160x50 the lines use the width. The real binary is driven in test/e2e/tui-sizes.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { Dashboard } from '../../src/ui/components/Dashboard.js';
import { LiveDashboard } from '../../src/ui/components/LiveDashboard.js';
import { dashboardLayout } from '../../src/ui/dashboard-layout.js';
import { createDashboardStore } from '../../src/ui/dashboard-store.js';
import { reduceAll } from '../../src/ui/state.js';
import { KEYS, loadStream, press, resize, stripAnsi, tick } from './helpers.js';

const HINTS = [['q/esc', 'stop'], ['?', 'help']] as const;
const width = (f: string) => Math.max(...f.split('\n').map((l) => [...l].length));

for (const stream of ['run-cpu', 'gpu-4x2', 'run-errors'] as const) {
  test(`${stream} at 80x24: compact, pinned at the top, within 80 columns and 23 lines`, () => {
    const events = loadStream(stream);
    for (const n of [Math.floor(events.length / 2), events.length]) {
      const state = reduceAll(events.slice(0, n));
      const r = render(<Dashboard state={state} hints={HINTS} animate={false} size={{ columns: 80, rows: 24 }} />);
      const f = stripAnsi(r.lastFrame());
      r.unmount();
      assert.ok(dashboardLayout(state, { columns: 80, rows: 24 }).compact);
      assert.ok(width(f) <= 80, `${width(f)} columns:\n${f}`);
      assert.ok(f.split('\n').length <= 23, `${f.split('\n').length} lines:\n${f}`);
      const lines = f.split('\n');
      assert.match(lines[0], /^gemma-bench · /);
      assert.ok(lines.findIndex((l) => /^Latency \(ms\)/.test(l)) <= 9, f);
      assert.match(f, /^Telemetry /m);
      assert.doesNotMatch(f, /Crops per request/);
    }
  });
}

test('gpu-4x2 at 80x50: the full layout; the GPU table scrolls sideways with ←/→ inside 80 columns', async () => {
  const events = loadStream('gpu-4x2');
  const store = createDashboardStore();
  for (const e of events.slice(0, Math.floor(events.length * 0.7))) store.dispatch(e);
  store.flush();
  const tree = <LiveDashboard store={store} onStop={() => {}} animate={false} />;
  const r = render(tree);
  resize(r, tree, 80, 50);
  await tick();
  let f = stripAnsi(r.lastFrame());
  assert.match(f, /Telemetry: GPUs \(nvidia-smi\), grouped by replica/);
  assert.ok(width(f) <= 80, `${width(f)}:\n${f}`);
  assert.doesNotMatch(f, /temp \(°C\)/, 'the last column is past the right edge');
  assert.match(f, /←\/→ scroll/);
  await press(r.stdin, KEYS.right, KEYS.right);
  f = stripAnsi(r.lastFrame());
  assert.match(f, /temp \(°C\)/, '→ brings it in');
  assert.ok(width(f) <= 80);
  await press(r.stdin, KEYS.left, KEYS.left);
  assert.doesNotMatch(stripAnsi(r.lastFrame()), /temp \(°C\)/);
  store.dispose();
  r.unmount();
});

test('run-cpu at 160x50: the lines use the width (the sparkline and the notes are not cut at 100)', () => {
  const state = reduceAll(loadStream('run-cpu'));
  const r = render(<Dashboard state={state} hints={HINTS} animate={false} size={{ columns: 160, rows: 50 }} />);
  const f = stripAnsi(r.lastFrame());
  r.unmount();
  assert.ok(width(f) <= 160);
  // Nothing is cut short on a wide terminal (at 100 columns the settings line is).
  assert.deepEqual(f.split('\n').filter((l) => l.trimEnd().endsWith('…')), [], f);
  assert.match(f, /Crops per request/);
  const narrow = render(<Dashboard state={state} hints={HINTS} animate={false} size={{ columns: 100, rows: 50 }} />);
  assert.ok(stripAnsi(narrow.lastFrame()).split('\n').some((l) => l.trimEnd().endsWith('…')));
  narrow.unmount();
});
