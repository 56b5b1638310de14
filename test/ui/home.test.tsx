// The home screen: presets with their key settings, the images field validated as typed (debounced, stale
// answers dropped), backend availability, overrides, Enter refusing invalid settings, saving a preset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { PresetSchema } from '../../src/config/preset-schema.js';
import { HomeScreen } from '../../src/ui/components/HomeScreen.js';
import { truncate } from '../../src/ui/cells.js';
import { DEFAULT_PREFS, presetSummary, type BackendOption, type ImagesCheck, type PresetInfo, type RunRequest, type SavePresetResult } from '../../src/ui/app-port.js';
import { KEYS, press, stripAnsi, tick, waitFor } from './helpers.js';

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

function home(o: { validate?: (s: string) => Promise<ImagesCheck>; save?: (n: string, r: RunRequest) => Promise<SavePresetResult> } = {}) {
  const log = { started: [] as RunRequest[], validated: [] as string[], runs: 0, quit: 0, help: 0, saved: [] as [string, RunRequest][] };
  const r = render(
    <HomeScreen
      presets={PRESETS}
      backends={BACKENDS}
      initial={DEFAULT_PREFS}
      debounceMs={30}
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
    />,
  );
  return { r, log, frame: () => stripAnsi(r.lastFrame()) };
}

test('presets with their key settings; invalid ones say why; backend and model labelled honestly', async () => {
  const { r, frame } = home();
  await tick();
  const f = frame();
  assert.ok(f.includes(`● balanced        built-in ${truncate(presetSummary(PRESETS[0].preset!), 72)}`), f);
  assert.match(f, /balanced .*p&s ratio≥2 ≤6 crops ≥448px · 2 GPU\/rep × 1 · conc 2 · 32\+2 req · 256 t…/);
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
  assert.deepEqual(log.started, [{ preset: 'baseline', images: '', backend: 'onnx', model: 'tiny', requests: 6, warmup: 0, maxNewTokens: 8 }]);
  r.unmount();
});

test('images are validated as typed: debounced to one call, the result shown, a bad path blocks Enter', async () => {
  const { r, log, frame } = home({ validate: async (s) => (s.includes('nothing') ? { ok: false, message: `no images matched "${s}"` } : { ok: true, images: 3, skipped: 0, message: '3 images' }) });
  await tick();
  await press(r.stdin, KEYS.tab);
  r.stdin.write('./nothing/*.png'); // pasted at once
  await tick(5);
  assert.match(frame(), /Images +\[\.\/nothing\/\*\.png ?\] checking…/);
  await waitFor(() => assert.match(frame(), /✖ no images matched "\.\/nothing\/\*\.png"/));
  assert.deepEqual(log.validated, ['./nothing/*.png']);
  await press(r.stdin, KEYS.enter);
  assert.equal(log.started.length, 0);
  assert.match(frame(), /cannot start: images: no images matched/);
  // Typing again: intermediate values are never validated (debounce), the last one is.
  for (let i = 0; i < 15; i++) await press(r.stdin, KEYS.backspace);
  for (const ch of 'docs') r.stdin.write(ch), await tick(2);
  await waitFor(() => assert.match(frame(), /Images +\[docs ?\] ✔ 3 images/));
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
