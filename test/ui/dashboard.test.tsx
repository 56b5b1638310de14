// The dashboard screens with ink-testing-library (100 columns, no colour): live percentiles, CPU rows, GPU rows
// grouped by replica, errors, the honest model label, the outcome; and the live wrapper's keys (q, Esc, Ctrl-C
// stop; ? help).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import type { EngineEvent } from '../../src/engine/events.js';
import { Dashboard } from '../../src/ui/components/Dashboard.js';
import { LiveDashboard } from '../../src/ui/components/LiveDashboard.js';
import { createDashboardStore } from '../../src/ui/dashboard-store.js';
import { msCell } from '../../src/ui/cells.js';
import { reduceAll, type DashboardState } from '../../src/ui/state.js';
import { KEYS, loadStream, press, stripAnsi, tick, waitFor } from './helpers.js';

const HINTS = [['q/esc', 'stop'], ['?', 'help']] as const;

function frameOf(state: DashboardState): string {
  const r = render(<Dashboard state={state} hints={HINTS} animate={false} />);
  const f = stripAnsi(r.lastFrame());
  r.unmount();
  return f;
}

/** The state after the first progress event that carries latency data. */
function midRun(): { state: DashboardState; progress: Extract<EngineEvent, { type: 'progress' }> } {
  const events = loadStream('run-cpu');
  const i = events.findIndex((e) => e.type === 'progress' && e.snapshot.metrics.e2eMs.count >= 2);
  return { state: reduceAll(events.slice(0, i + 1)), progress: events[i] as Extract<EngineEvent, { type: 'progress' }> };
}

const line = (frame: string, startsWith: string): string => {
  const l = frame.split('\n').find((x) => x.startsWith(startsWith));
  assert.ok(l, `no line starting with ${JSON.stringify(startsWith)} in\n${frame}`);
  return l;
};

test('live percentiles: each latency row shows the snapshot p50/p90/p95/p99 in ms', () => {
  const { state, progress } = midRun();
  const f = frameOf(state);
  assert.match(f, /Latency \(ms\)\s+p50\s+p90\s+p95\s+p99\s+mean\s+n\s+live/);
  const m = progress.snapshot.metrics;
  for (const [label, key] of [
    ['E2E', 'e2eMs'],
    ['TTFT', 'ttftMs'],
    ['TPOT', 'tpotMs'],
    ['ITL', 'itlMs'],
    ['Preprocess', 'preprocessMs'],
  ] as const) {
    const cells = line(f, label).trim().split(/\s+/).slice(1);
    assert.deepEqual(cells, [msCell(m[key].p50), msCell(m[key].p90), msCell(m[key].p95), msCell(m[key].p99), msCell(m[key].mean), String(m[key].count)], label);
  }
  assert.match(f, /Throughput \d.* req\/s · output .* tok\/s/);
  assert.match(f, /⠋|•|measuring|warmup/);
});

test('header: preset, backend, the honest model label, topology, elapsed and ETA', () => {
  const { state } = midRun();
  const f = frameOf(state);
  assert.match(f, /gemma-bench · balanced · onnx · gemma3-tiny, random weights: speed only/);
  assert.match(f, /topology 1 replica: r0 cpu:2 threads · elapsed [\d.]+ s · ETA /);
  assert.match(f, /\d+\/7 requests \(warmup 1\/1\)/);
  assert.match(f, /Keys|q\/esc stop/);
});

test('CPU telemetry: per-core rows and the process memory, labelled as CPU', () => {
  const f = frameOf(reduceAll(loadStream('run-cpu')));
  assert.match(f, /Telemetry: CPU \(no GPU telemetry: CPU telemetry requested\)/);
  assert.match(f, /process memory \(RSS\) [\d.]+ GiB · system memory [\d.]+\/[\d.]+ GiB/);
  assert.match(f, /per-core utilisation \(%\)/);
  assert.match(f, /cpu0 +[█░]+ +\d+ +cpu1 +[█░]+ +\d+/);
});

test('GPU telemetry: rows grouped under the replica that owns them, unowned GPUs last, a lost GPU said so', () => {
  const f = frameOf(reduceAll(loadStream('gpu-4x2')));
  assert.match(f, /Telemetry: GPUs \(nvidia-smi\), grouped by replica/);
  assert.match(f, /GPU\s+name\s+util \(%\)\s+memory used\/total \(GiB\)\s+power \(W\)\s+temp \(°C\)/);
  const lines = f.split('\n');
  const at = (re: RegExp) => {
    const i = lines.findIndex((l) => re.test(l));
    assert.ok(i >= 0, `missing ${re} in\n${f}`);
    return i;
  };
  const r0 = at(/^ replica 0 · gpu:0, gpu:1$/);
  const g0 = at(/^  0 +NVIDIA A100-SXM4… [█░]+ +9\d [█░]+ [\d.]+\/40\.0 +3\d\d +6\d$/);
  const g1 = at(/^  1 +NVIDIA A100/);
  const r1 = at(/^ replica 1 · gpu:2, gpu:3$/);
  const g2 = at(/^  2 +NVIDIA A100-SXM4… LOST/);
  const g3 = at(/^  3 +NVIDIA A100/);
  const none = at(/^ not in any replica of this run$/);
  const g4 = at(/^  4 +NVIDIA A100/);
  assert.deepEqual([r0, g0, g1, r1, g2, g3, none, g4], [...[r0, g0, g1, r1, g2, g3, none, g4]].sort((a, b) => a - b));
  assert.match(f, /google\/gemma-3-27b-it \(bf16\)/);
  assert.doesNotMatch(f, /random weights/, 'real weights are not labelled random');
  assert.match(f, /topology 2 replicas × 2 GPUs: r0 gpu:0,gpu:1 · r1 gpu:2,gpu:3/);
});

test('errors: the count and the last errors, with warnings apart', () => {
  const events = loadStream('run-errors');
  const s = reduceAll(events);
  const f = frameOf(s);
  assert.match(f, new RegExp(`Errors ${s.errorCount} \\(last ${s.errors.length}\\)`));
  assert.match(f, /request \d+ failed: \/tmp\/badimg\/b-empty\.png: empty file/);
  assert.match(f, /warning: .*its requests will fail/);
  assert.match(f, /failed [1-9]/);
});

test('finished: final table, crops histogram of completed requests, sparkline, where the run was saved', () => {
  const events = loadStream('run-cpu');
  const s = reduceAll(events);
  const f = frameOf(s);
  assert.match(f, /✔ completed/);
  assert.match(f, /Latency \(ms\).*final/);
  assert.match(f, /ETA done/);
  assert.match(f, /Crops per request \(completed, count\)/);
  for (const [k, n] of Object.entries(s.finished!.summary.cropsHistogram)) assert.match(f, new RegExp(`^ +${k} █+ ${n}`, 'm'));
  assert.match(f, /E2E latency over time \(ms, last 6 requests\)/);
  assert.match(f, /[▁▂▃▄▅▆▇█]{6}/);
  assert.match(f, new RegExp(`Run ${s.runId} completed, saved to`));
  assert.ok(f.includes(s.finished!.file!));
});

test('before any sample: the panels say what they are waiting for', () => {
  const events = loadStream('run-cpu');
  const f = frameOf(reduceAll(events.slice(0, 1)));
  assert.match(f, /waiting for the first sample/);
  assert.match(f, /Crops per request \(workload images\)/);
  assert.match(f, /no completed request yet/);
  assert.match(f, /Errors 0/);
});

test('every dashboard line fits in 100 columns', () => {
  for (const name of ['run-cpu', 'run-errors', 'gpu-4x2'] as const) {
    const f = frameOf(reduceAll(loadStream(name)));
    for (const l of f.split('\n')) assert.ok(l.length <= 100, `${name}: ${l.length} columns: ${l}`);
  }
});

test('live: q stops once (onStop, then "stopping"), ? opens help, esc closes it', async () => {
  const store = createDashboardStore();
  const events = loadStream('run-cpu');
  for (const e of events.slice(0, 20)) store.dispatch(e);
  store.flush();
  let stops = 0;
  const r = render(<LiveDashboard store={store} onStop={() => stops++} animate={false} />);
  await tick();
  assert.match(stripAnsi(r.lastFrame()), /q\/esc stop \(the partial run is saved as interrupted\) · \? help/);
  await press(r.stdin, '?');
  await waitFor(() => assert.match(stripAnsi(r.lastFrame()), /Help: dashboard keys/));
  assert.match(stripAnsi(r.lastFrame()), /TTFT\s+dispatch to a replica -> first output token/);
  await press(r.stdin, KEYS.escape);
  await waitFor(() => assert.doesNotMatch(stripAnsi(r.lastFrame()), /Help:/));
  await press(r.stdin, 'q');
  await waitFor(() => assert.match(stripAnsi(r.lastFrame()), /stopping: finishing in-flight work/));
  assert.equal(stops, 1);
  await press(r.stdin, 'q');
  assert.equal(stops, 1, 'q after a stop does nothing more');
  await press(r.stdin, KEYS.ctrlC);
  assert.equal(stops, 2, 'Ctrl-C always reaches onStop');
  r.unmount();
  store.dispose();
});

test('live: Esc stops too', async () => {
  const store = createDashboardStore();
  store.dispatch(loadStream('run-cpu')[0]);
  store.flush();
  let stops = 0;
  const r = render(<LiveDashboard store={store} onStop={() => stops++} animate={false} />);
  await tick();
  await press(r.stdin, KEYS.escape);
  await waitFor(() => assert.equal(stops, 1));
  r.unmount();
  store.dispose();
});

test('live: once the stream has ended, keys go to the caller', async () => {
  const store = createDashboardStore();
  for (const e of loadStream('run-cpu')) store.dispatch(e);
  store.dispatch({ type: 'ui:stream-ended' });
  let stops = 0;
  const keys: string[] = [];
  const r = render(
    <LiveDashboard store={store} onStop={() => stops++} animate={false} doneHints={[['r', 'saved runs']]} onDoneKey={(input) => (keys.push(input), true)} />,
  );
  await tick();
  assert.match(stripAnsi(r.lastFrame()), /r saved runs/);
  await press(r.stdin, 'q', 'r');
  assert.deepEqual(keys, ['q', 'r']);
  assert.equal(stops, 0);
  r.unmount();
});

test('finished: the roofline line, or why the peak is unknown, within 100 columns', async () => {
  const { computeRoofline, GEMMA3_TEXT } = await import('../../src/engine/roofline.js');
  const s = reduceAll(loadStream('run-cpu'));
  const withRoofline = (roofline: ReturnType<typeof computeRoofline>): DashboardState => ({ ...s, finished: { ...s.finished!, summary: { ...s.finished!.summary, roofline } } });
  const gpu = computeRoofline({ cost: { name: 'gemma-3-27b', arch: GEMMA3_TEXT['27b'], bytesPerParam: 2 }, gpuNames: ['NVIDIA H100 80GB HBM3'], cpu: false, gpusPerReplica: 2, pipelineSharded: true, records: [{ promptTokens: 1074, imageTokens: 1024, crops: 3, outputTokens: 256, batchSize: 1 }], ttftP50Ms: 615, tpotP50Ms: 32.8 });
  const f = frameOf(withRoofline(gpu));
  const l = line(f, 'Roofline ');
  assert.match(l, /^Roofline TTFT 6\.4% of floor \(39\.1 ms of 615 ms\) · TPOT 24\.[0-9]% \([\d.]+ ms of 32\.8 ms\) · H100 SXM x2$/);
  const cpu = frameOf(withRoofline(computeRoofline({ cost: null, gpuNames: [], cpu: true, gpusPerReplica: 1, pipelineSharded: false, records: [], ttftP50Ms: 1, tpotP50Ms: 1 })));
  assert.equal(line(cpu, 'Roofline '), 'Roofline unknown peak: CPU run: the peak table covers GPUs only');
  for (const frame of [f, cpu]) for (const x of frame.split('\n')) assert.ok(x.length <= 100, `${x.length} columns: ${x}`);
  assert.doesNotMatch(frameOf(s), /Roofline/, 'a stream recorded before rooflines has none');
});
