// The whole interactive App against a fake controller (no I/O): loading, home, a run replayed from a recorded
// stream into the live dashboard, stopping it, the runs list, a comparison, help on every view, quitting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { PresetSchema } from '../../src/config/preset-schema.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { compareRuns } from '../../src/report/compare.js';
import App from '../../src/ui/components/App.js';
import { DEFAULT_PREFS, type Controller, type Prefs, type RunHandle, type RunRequest, type RunRow } from '../../src/ui/app-port.js';
import { fakeRun } from '../helpers/fake-run.js';
import { KEYS, loadStream, press, stripAnsi, tick, waitFor } from './helpers.js';

/**
 * A controller whose run replays `events`, pausing before event `holdAt` until released or cancelled; `holdAt` equal
 * to the number of events holds the stream's end (the run saved, its replicas still closing).
 */
function fakeController(events: EngineEvent[], holdAt = Number.POSITIVE_INFINITY, releaseOnCancel = true) {
  const runA = fakeRun({ id: '20261125-142233-balanced-aaaa', name: 'balanced', seed: 3 });
  const runB = fakeRun({ id: '20261125-152233-baseline-bbbb', name: 'baseline', seed: 3, latencyScale: 0.7 });
  const log = { started: [] as RunRequest[], cancelled: 0, stoppedNow: 0, prefs: [] as Prefs[], compared: [] as (readonly string[])[] };
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  const c: Controller = {
    runsDir: '/data/runs',
    init: async () => {},
    listPresets: async () => [{ name: 'balanced', builtin: true, file: '/p/balanced.json', preset: PresetSchema.parse({ name: 'balanced', panScan: { enabled: true } }), error: null }],
    validateImages: async () => ({ ok: true, images: 1, skipped: 0, message: '1 image' }),
    backends: async () => [{ name: 'onnx', available: true, note: '' }],
    describeModel: () => 'gemma3-tiny, random weights: speed only',
    startRun(req): RunHandle {
      log.started.push(req);
      let cancelled = false;
      async function* gen(): AsyncGenerator<EngineEvent> {
        for (let i = 0; i < events.length; i++) {
          if (i === holdAt) await held;
          const e = events[i];
          yield cancelled && e.type === 'run-finished' ? { ...e, status: 'interrupted' } : e;
        }
        if (holdAt === events.length) await held;
      }
      return {
        events: gen(),
        cancel: () => {
          cancelled = true;
          log.cancelled++;
          if (releaseOnCancel) release();
        },
        stopNow: () => {
          cancelled = true;
          log.stoppedNow++;
          release();
        },
      };
    },
    listRuns: async (): Promise<RunRow[]> =>
      [runB, runA].map((r) => ({ ok: true, id: r.id, name: r.name, status: r.status, startedAt: r.startedAt, presetName: r.preset.name, backend: r.backend.name, modelLabel: r.backend.model.label, group: null, headline: { completed: 1, failed: 0, throughputReqS: 1, e2eP50Ms: 100, e2eP95Ms: 200, ttftP50Ms: 50, outputTokensPerS: 10 } })),
    compareRuns: async (ids) => {
      log.compared.push(ids);
      return compareRuns(ids.map((id) => (id === runA.id ? runA : runB)));
    },
    compareGroup: async () => {
      throw new Error('no groups');
    },
    exportRuns: async (_ids, f) => `/data/exports/x.${f}`,
    exportComparison: async (_model, f) => `/data/exports/compare.${f}`,
    deleteRuns: async (ids) => [...ids],
    savePreset: async (n) => ({ ok: true, file: `/u/${n}.json` }),
    loadPrefs: () => ({ ...DEFAULT_PREFS, requests: 6 }),
    savePrefs: (p) => void log.prefs.push(p),
  };
  return { c, log, release: () => release() };
}

test('home -> run (live dashboard) -> stop -> interrupted -> runs -> compare -> back -> quit', async () => {
  const events = loadStream('run-cpu');
  const hold = events.findIndex((e) => e.type === 'progress' && e.snapshot.metrics.e2eMs.count >= 2) + 1;
  const { c, log } = fakeController(events, hold);
  const exits: number[] = [];
  const r = render(<App controller={c} onExit={(code) => exits.push(code)} animate={false} />);
  const frame = () => stripAnsi(r.lastFrame());
  await waitFor(() => assert.match(frame(), /● balanced/));
  assert.match(frame(), /Requests +\[6\]/, 'the remembered choices are restored');

  await press(r.stdin, KEYS.enter);
  assert.equal(log.started.length, 1);
  assert.deepEqual(log.prefs[0], { ...DEFAULT_PREFS, requests: 6 }, 'choices are remembered on start');
  await waitFor(() => assert.match(frame(), /E2E +\d/));
  assert.match(frame(), /gemma-bench · balanced · onnx · gemma3-tiny, random weights: speed only/);
  assert.match(frame(), /q\/esc stop \(the partial run is saved as interrupted\)/);

  await press(r.stdin, '?');
  await waitFor(() => assert.match(frame(), /Help: dashboard keys/));
  await press(r.stdin, '?');
  await press(r.stdin, 'q');
  assert.equal(log.cancelled, 1);
  await waitFor(() => assert.match(frame(), /Run 20261125-142812-balanced-90d5 interrupted, saved to/));
  assert.match(frame(), /r saved runs · enter\/q new run · \? help · ctrl\+c quit/);

  await press(r.stdin, 'r');
  await waitFor(() => assert.match(frame(), /saved runs in \/data\/runs/));
  await waitFor(() => assert.match(frame(), /\[ \] baseline/));
  await press(r.stdin, '?');
  await waitFor(() => assert.match(frame(), /Help: runs keys/));
  await press(r.stdin, KEYS.escape);
  await press(r.stdin, KEYS.down, ' ', KEYS.up, ' ', 'c');
  await waitFor(() => assert.match(frame(), /compare 2 run\(s\)/));
  assert.deepEqual(log.compared, [['20261125-142233-balanced-aaaa', '20261125-152233-baseline-bbbb']]);
  assert.match(frame(), /1 balanced \(base\)/);
  assert.match(frame(), /\(-\d+\.\d%\)/);
  await press(r.stdin, '?');
  await waitFor(() => assert.match(frame(), /Help: compare keys/));
  await press(r.stdin, 'q');
  await waitFor(() => assert.match(frame(), /e export · \? help · q back/));
  await press(r.stdin, 'q');
  await waitFor(() => assert.match(frame(), /saved runs in/));
  await press(r.stdin, 'q');
  await waitFor(() => assert.match(frame(), /new run/));
  await press(r.stdin, 'q');
  assert.deepEqual(exits, [0]);
  r.unmount();
});

test('a run that cannot start shows why on the dashboard, and Enter goes back home', async () => {
  const { c } = fakeController([]);
  c.startRun = () => ({
    events: (async function* (): AsyncGenerator<EngineEvent> {
      yield { type: 'log', at: 0, level: 'info', message: 'preparing the workload…' };
      throw new Error('no images matched "./nothing/*.png"');
    })(),
    cancel: () => {},
    stopNow: () => {},
  });
  const r = render(<App controller={c} onExit={() => {}} animate={false} />);
  const frame = () => stripAnsi(r.lastFrame());
  await waitFor(() => assert.match(frame(), /● balanced/));
  await press(r.stdin, KEYS.enter);
  await waitFor(() => assert.match(frame(), /✖ no images matched "\.\/nothing\/\*\.png"/));
  assert.match(frame(), /Errors 1/);
  await press(r.stdin, KEYS.enter);
  await waitFor(() => assert.match(frame(), /● balanced/));
  r.unmount();
});

test('Ctrl-C quits from home; a failing init is shown and any key quits with 1', async () => {
  const { c } = fakeController([]);
  const exits: number[] = [];
  const r = render(<App controller={c} onExit={(code) => exits.push(code)} animate={false} />);
  await waitFor(() => assert.match(stripAnsi(r.lastFrame()), /● balanced/));
  await press(r.stdin, KEYS.ctrlC);
  assert.deepEqual(exits, [0]);
  r.unmount();

  const broken = fakeController([]).c;
  broken.init = async () => {
    throw new Error('onnxruntime-node failed to load');
  };
  const codes: number[] = [];
  const r2 = render(<App controller={broken} onExit={(code) => codes.push(code)} animate={false} />);
  await waitFor(() => assert.match(stripAnsi(r2.lastFrame()), /could not start: onnxruntime-node failed to load/));
  await press(r2.stdin, 'x');
  assert.deepEqual(codes, [1]);
  r2.unmount();
  await tick();
});

test('Ctrl-C on a run stops it; a second Ctrl-C stops it at once and quits (130) once the run is saved', async () => {
  const events = loadStream('run-cpu');
  const hold = events.findIndex((e) => e.type === 'progress');
  const { c, log } = fakeController(events, hold, false);
  const exits: number[] = [];
  const r = render(<App controller={c} onExit={(code) => exits.push(code)} animate={false} />);
  const frame = () => stripAnsi(r.lastFrame());
  await waitFor(() => assert.match(frame(), /● balanced/));
  await press(r.stdin, KEYS.enter);
  await waitFor(() => assert.match(frame(), /gemma-bench · balanced · onnx/));
  await press(r.stdin, KEYS.ctrlC);
  assert.equal(log.cancelled, 1);
  await waitFor(() => assert.match(frame(), /stopping: .* · ctrl\+c again: stop at once/));
  assert.deepEqual(exits, []);
  await press(r.stdin, KEYS.ctrlC);
  assert.equal(log.stoppedNow, 1);
  await waitFor(() => assert.deepEqual(exits, [130]));
  await press(r.stdin, KEYS.ctrlC);
  assert.equal(log.stoppedNow, 1, 'a third Ctrl-C changes nothing');
  r.unmount();
});

test('Ctrl-C after the run is saved but before its replicas have closed quits once they have (never lost)', async () => {
  const events = loadStream('run-cpu');
  const { c, release } = fakeController(events, events.length);
  const exits: number[] = [];
  const r = render(<App controller={c} onExit={(code) => exits.push(code)} animate={false} />);
  const frame = () => stripAnsi(r.lastFrame());
  await waitFor(() => assert.match(frame(), /● balanced/));
  await press(r.stdin, KEYS.enter);
  await waitFor(() => assert.match(frame(), /saved to/));
  await press(r.stdin, KEYS.ctrlC);
  await tick(50);
  assert.deepEqual(exits, [], 'not while the replicas close');
  release();
  await waitFor(() => assert.deepEqual(exits, [0]));
  r.unmount();
});
