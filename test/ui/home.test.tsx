// The home screen: presets with their key settings, the images field validated as typed (debounced, stale
// answers dropped), backend availability, overrides, Enter refusing invalid settings, saving a preset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { PresetSchema } from '../../src/config/preset-schema.js';
import { HomeScreen } from '../../src/ui/components/HomeScreen.js';
import { truncate } from '../../src/ui/cells.js';
import { DEFAULT_PREFS, presetSummary, type BackendOption, type ImagesCheck, type PresetInfo, type Prefs, type RunRequest, type SavePresetResult } from '../../src/ui/app-port.js';
import { KEYS, press, resize, stripAnsi, tick, waitFor } from './helpers.js';

const preset = (name: string, panScan: object, extra: object = {}) =>
  PresetSchema.parse({ name, description: `${name} preset`, panScan, topology: { gpusPerReplica: 2, replicas: 1 }, load: { concurrency: 2, requests: 32, warmup: 2 }, ...extra });

const PRESETS: PresetInfo[] = [
  { name: 'balanced', builtin: true, file: '/p/balanced.json', preset: preset('balanced', { enabled: true, minRatioToActivate: 2, maxNumCrops: 6, minCropSize: 448 }), error: null },
  { name: 'baseline', builtin: true, file: '/p/baseline.json', preset: preset('baseline', { enabled: false }), error: null },
  { name: 'mine', builtin: false, file: '/u/mine.json', preset: preset('mine', { enabled: true }, { topology: { gpusPerReplica: 1, replicas: 4 } }), error: null },
  { name: 'typo', builtin: false, file: '/u/typo.json', preset: null, error: 'invalid preset /u/typo.json: panScan.maxNumCrop: unrecognized key' },
];
const BACKENDS: BackendOption[] = [
  { name: 'onnx', available: true, note: 'embedded' },
  { name: 'transformers', available: false, note: 'not in this build yet' },
];

const WITH_OPENAI: BackendOption[] = [...BACKENDS, { name: 'openai', available: true, note: 'OpenAI-compatible servers' }];

type HomeOptions = {
  validate?: (s: string) => Promise<ImagesCheck>;
  save?: (n: string, r: RunRequest) => Promise<SavePresetResult>;
  presets?: PresetInfo[];
  backends?: BackendOption[];
  initial?: Prefs;
  /** The images field's debounce (default 30 ms). */
  debounceMs?: number;
};

function home(o: HomeOptions = {}) {
  const log = { started: [] as RunRequest[], validated: [] as string[], runs: 0, quit: 0, help: 0, saved: [] as [string, RunRequest][] };
  const tree = (
    <HomeScreen
      presets={o.presets ?? PRESETS}
      backends={o.backends ?? BACKENDS}
      initial={o.initial ?? DEFAULT_PREFS}
      debounceMs={o.debounceMs ?? 30}
      validateImages={async (s) => {
        log.validated.push(s);
        return o.validate ? o.validate(s) : { ok: true, images: 3, skipped: 1, message: '3 images (1 other file skipped)' };
      }}
      describeModel={(m) => (m === 'tiny' ? 'gemma3-tiny, random weights: speed only' : 'ONNX export directory')}
      onStart={(req) => log.started.push(req)}
      onSavePreset={async (n, req) => {
        log.saved.push([n, req]);
        return o.save ? o.save(n, req) : { ok: true, file: `/u/${n}.json` };
      }}
      onRuns={() => log.runs++}
      onQuit={() => log.quit++}
      onHelp={() => log.help++}
    />
  );
  const r = render(tree);
  return { r, tree, log, frame: () => stripAnsi(r.lastFrame()) };
}

test('presets with their key settings; invalid ones say why; backend and model labelled honestly', async () => {
  const { r, frame } = home();
  await tick();
  const f = frame();
  assert.ok(f.includes(`● balanced        built-in ${truncate(presetSummary(PRESETS[0].preset!), 71)}`), f);
  assert.match(f, /balanced .*p&s ratio≥2 ≤6 crops ≥448px · 2 GPU\/rep × 1 · conc 2 · 32\+2 req · 256 …/);
  assert.match(f, /baseline .*p&s off/);
  assert.match(f, /mine +user +p&s ratio≥1\.2 ≤4 crops ≥256px · 1 GPU\/rep × 4/);
  assert.match(f, /typo +user +invalid: invalid preset \/u\/typo\.json/);
  assert.match(f, /Images +\[synthetic\] built-in synthetic document set/);
  assert.match(f, /\(●\) onnx {2}\( \) transformers \(unavailable: not in this build yet\)/);
  assert.match(f, /Model +\[tiny\] gemma3-tiny, random weights: speed only/);
  assert.match(f, /Requests +\[32 \(preset\)\]/);
  assert.match(f, /↑\/↓ preset · tab next field · enter start · s save preset · r runs · \? help · q quit/);
  for (const l of f.split('\n')) assert.ok(l.length <= 100, `${l.length}: ${l}`);
  r.unmount();
});

test('Enter starts the selected preset with the typed overrides', async () => {
  const { r, log, frame } = home();
  await tick();
  await press(r.stdin, KEYS.down, KEYS.tab, KEYS.tab, KEYS.tab, KEYS.tab, '6', 'x', KEYS.tab, '0', KEYS.tab, '8');
  assert.match(frame(), /Requests +\[6\]/, 'digits only in number fields');
  assert.match(frame(), /type edit · tab\/↑\/↓ next field · esc leave field · enter start/);
  await press(r.stdin, KEYS.enter);
  assert.deepEqual(log.started, [{ preset: 'baseline', images: '', backend: 'onnx', model: 'tiny', endpoints: '', requests: 6, warmup: 0, maxNewTokens: 8 }]);
  r.unmount();
});

test('images are validated as typed: debounced to one call, the result shown, a bad path blocks Enter', async () => {
  // A debounce far above a test's key gaps, even on a loaded machine: only pauses the test makes count as pauses.
  const { r, log, frame } = home({ debounceMs: 1000, validate: async (s) => (s.includes('nothing') ? { ok: false, message: `no images matched "${s}"` } : { ok: true, images: 3, skipped: 0, message: '3 images' }) });
  await tick();
  await press(r.stdin, KEYS.tab);
  r.stdin.write('./nothing/*.png'); // pasted at once
  await waitFor(() => assert.match(frame(), /Images +\[\.\/nothing\/\*\.png ?\] checking…/));
  await waitFor(() => assert.match(frame(), /✖ no images matched "\.\/nothing\/\*\.png"/), 10_000);
  assert.deepEqual(log.validated, ['./nothing/*.png']);
  await press(r.stdin, KEYS.enter);
  assert.equal(log.started.length, 0);
  assert.match(frame(), /cannot start: images: no images matched/);
  // Typing again: intermediate values are never validated (debounce), the last one is.
  for (let i = 0; i < 15; i++) await press(r.stdin, KEYS.backspace);
  for (const ch of 'docs') r.stdin.write(ch), await tick(2);
  await waitFor(() => assert.match(frame(), /Images +\[docs ?\] ✔ 3 images/), 10_000);
  assert.equal(log.validated.at(-1), 'docs');
  assert.ok(!log.validated.includes('d') && !log.validated.includes('do'), `validated ${JSON.stringify(log.validated)}`);
  await press(r.stdin, KEYS.enter);
  assert.equal(log.started[0].images, 'docs');
  r.unmount();
});

test('an invalid preset cannot be started; unavailable backends cannot be chosen', async () => {
  const { r, log, frame } = home();
  await tick();
  await press(r.stdin, KEYS.down, KEYS.down, KEYS.down, KEYS.enter);
  assert.equal(log.started.length, 0);
  assert.match(frame(), /cannot start: preset typo is invalid/);
  await press(r.stdin, KEYS.up, KEYS.tab, KEYS.tab, KEYS.right, KEYS.right);
  assert.match(frame(), /\(●\) onnx/);
  r.unmount();
});

test('s saves the settings as a user preset through the controller; errors are shown', async () => {
  const { r, log, frame } = home({ save: async (n) => (n === 'balanced' ? { ok: false, message: '"balanced" is a built-in preset: choose another name' } : { ok: true, file: `/u/${n}.json` }) });
  await tick();
  await press(r.stdin, 's');
  assert.match(frame(), /Save as +\[.*\] Enter saves, Esc cancels/);
  for (const ch of 'quick run!') await press(r.stdin, ch);
  assert.match(frame(), /Save as +\[quickrun ?\]/, 'only name characters are accepted');
  await press(r.stdin, KEYS.enter);
  await waitFor(() => assert.match(frame(), /saved preset quickrun to \/u\/quickrun\.json/));
  assert.equal(log.saved[0][0], 'quickrun');
  assert.equal(log.saved[0][1].preset, 'balanced');
  await press(r.stdin, 's', 'b', 'a', 'l', 'a', 'n', 'c', 'e', 'd', KEYS.enter);
  await waitFor(() => assert.match(frame(), /"balanced" is a built-in preset: choose another name/));
  r.unmount();
});

test('keys from the preset list: ? help, r runs, q quit; inside a text field they are text', async () => {
  const { r, log, frame } = home();
  await tick();
  await press(r.stdin, '?', 'r', 'q');
  assert.deepEqual([log.help, log.runs, log.quit], [1, 1, 1]);
  await press(r.stdin, KEYS.tab, '?', 'r', 'q');
  assert.deepEqual([log.help, log.runs, log.quit], [1, 1, 1]);
  assert.match(frame(), /Images +\[\?rq ?\]/);
  await press(r.stdin, KEYS.escape, 'q');
  assert.equal(log.quit, 2);
  r.unmount();
});

test('openai: an Endpoints field under the backend, checked as typed (message under it); Enter needs valid URLs', async () => {
  const { r, log, frame } = home({ backends: WITH_OPENAI });
  await tick();
  assert.doesNotMatch(frame(), /Endpoints/);
  assert.match(frame(), /\(●\) onnx .*\( \) openai/);
  await press(r.stdin, KEYS.tab, KEYS.tab, KEYS.right);
  let f = frame();
  assert.match(f, /\( \) onnx .*\(●\) openai/);
  assert.match(f, /▸ Backend .*\n {2}Endpoints {3}\[server URLs\]\n {14}space- or comma-separated base URLs, e\.g\. http:\/\/127\.0\.0\.1:8000\n {2}Model {7}\[first served\] the served model id \(empty: the server's first\)/);
  await press(r.stdin, KEYS.tab);
  r.stdin.write('localhost:8000');
  await waitFor(() => assert.match(frame(), /▸ Endpoints {3}\[localhost:8000 \]\n {14}✖ "localhost:8000" is not an http\(s\) URL/));
  await press(r.stdin, KEYS.enter);
  assert.equal(log.started.length, 0);
  assert.match(frame(), /cannot start: endpoints: "localhost:8000" is not an http\(s\) URL/);
  for (let i = 0; i < 14; i++) await press(r.stdin, KEYS.backspace);
  r.stdin.write('http://127.0.0.1:8000 http://10.0.0.2:8000');
  await waitFor(() => assert.match(frame(), /Endpoints {3}\[http:\/\/127\.0\.0\.1:8000 http:\/\/10\.0\.0\.2:8000 \]\n {14}✔ 2 endpoints \(one replica each\)/));
  await press(r.stdin, KEYS.enter);
  assert.deepEqual(log.started, [{ preset: 'balanced', images: '', backend: 'openai', model: '', endpoints: 'http://127.0.0.1:8000 http://10.0.0.2:8000', requests: null, warmup: null, maxNewTokens: null }]);
  // Back to a local backend: the field goes, the model reads as the built-in one again.
  await press(r.stdin, KEYS.up, KEYS.left);
  f = frame();
  assert.doesNotMatch(f, /Endpoints/);
  assert.match(f, /Model {7}\[tiny\] gemma3-tiny, random weights: speed only/);
  r.unmount();
});

test('80x24: with openai, its endpoints and a message, the form fits (no line past 80 columns, fewer than 24 lines)', async () => {
  const fits = (f: string) => {
    const lines = f.split('\n');
    for (const l of lines) assert.ok(l.length <= 80, `${l.length}: ${l}`);
    assert.ok(lines.length < 24, `${lines.length} lines:\n${f}`);
  };
  const initial: Prefs = { ...DEFAULT_PREFS, backend: 'openai', endpoints: 'http://127.0.0.1:8000 http://10.0.0.2:8000 http://10.0.0.3:8000 http://10.0.0.4:8000' };
  // As the controller lists them: every registered backend is available.
  const backends: BackendOption[] = ['onnx', 'transformers', 'openai'].map((name) => ({ name, available: true, note: '' }));
  const { r, tree, frame } = home({ backends, initial });
  await tick();
  resize(r, tree, 80, 24);
  await tick();
  let f = frame();
  fits(f);
  assert.match(f, /^gemma-bench · /);
  assert.match(f, /\n ● balanced +built-in p&s ratio≥2 ≤6 crops ≥448px · 2 GPU\/rep × 1 · conc…\n/);
  assert.match(f, /typo +user +invalid: invalid preset \/u\/typo\.json: panScan\.maxN…\n/);
  assert.match(f, /Endpoints {3}\[…[\d.:/ htp]+10\.0\.0\.4:8000\]\n {14}✔ 4 endpoints/, 'a long value shows its end');
  assert.match(f, /New tokens/);
  assert.match(f, /\? help · q\s+quit$/);
  await press(r.stdin, KEYS.tab, KEYS.tab, KEYS.tab, ' ', 'x', KEYS.enter);
  f = frame();
  assert.match(f, /cannot start: endpoints: entry 5: "x" is not an http\(s\) URL/);
  fits(f);
  r.unmount();

  const many = Array.from({ length: 11 }, (_, i) => ({ ...PRESETS[0], name: `p${i}`, builtin: false }));
  const big = home({ backends, initial: { ...initial, preset: 'p9' }, presets: many });
  await tick();
  resize(big.r, big.tree, 80, 24);
  await tick();
  f = big.frame();
  fits(f);
  assert.match(f, /p8 .*\n ● p9 .*\n {3}p10 .*\n {3}\(11 presets; ↑\/↓ scrolls\)/);
  big.r.unmount();
});
