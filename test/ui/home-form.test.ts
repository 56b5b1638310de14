// The home screen's form reducer, without Ink: focus order (Endpoints only for openai), editing, backend choice,
// what Enter starts or refuses, the save prompt, the global keys, hints and notes; and the screen's layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PresetSchema } from '../../src/config/preset-schema.js';
import { DEFAULT_PREFS, type BackendOption, type PresetInfo } from '../../src/ui/app-port.js';
import {
  afterSave,
  endpointsNote,
  fieldsOf,
  formRequest,
  homeHints,
  homeKey,
  imagesNote,
  imagesProblem,
  initialForm,
  modelHint,
  type FormContext,
  type FormEffect,
  type FormKey,
  type HomeForm,
} from '../../src/ui/home-form.js';
import { homeLayout, PRESET_ROWS_MAX } from '../../src/ui/home-layout.js';
import { listWindow, windowTop } from '../../src/ui/list-window.js';

const preset = (name: string): PresetInfo => ({ name, builtin: true, file: `/p/${name}.json`, preset: PresetSchema.parse({ name, panScan: { enabled: true } }), error: null });
const PRESETS: PresetInfo[] = [preset('balanced'), preset('baseline'), { name: 'typo', builtin: false, file: '/u/typo.json', preset: null, error: 'unrecognized key' }];
const BACKENDS: BackendOption[] = [
  { name: 'onnx', available: true, note: '' },
  { name: 'transformers', available: false, note: 'not here' },
  { name: 'openai', available: true, note: 'OpenAI-compatible servers' },
];
const CTX: FormContext = { presets: PRESETS, backends: BACKENDS, fallbackPreset: 'balanced', validation: { state: 'idle' } };

const NO_KEY: FormKey = { return: false, escape: false, tab: false, shift: false, upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, backspace: false, delete: false, ctrl: false, meta: false };
type KeyName = Exclude<keyof FormKey, 'shift' | 'ctrl' | 'meta'>;

/** Feeds keys ('tab', 'return', ... or text) to the reducer; returns the form and every effect that was not none. */
function keys(form: HomeForm, seq: readonly (KeyName | { text: string } | 'shift-tab')[], ctx: FormContext = CTX): { form: HomeForm; effects: FormEffect[] } {
  const effects: FormEffect[] = [];
  for (const k of seq) {
    const [input, key] = typeof k === 'object' ? [k.text, NO_KEY] : k === 'shift-tab' ? ['', { ...NO_KEY, tab: true, shift: true }] : ['', { ...NO_KEY, [k]: true }];
    const r = homeKey(form, input, key, ctx);
    form = r.form;
    if (r.effect.kind !== 'none') effects.push(r.effect);
  }
  return { form, effects };
}
const text = (t: string) => ({ text: t });
const start = initialForm(DEFAULT_PREFS, PRESETS, BACKENDS);

test('the initial form: remembered choices, an unavailable backend replaced, the built-in model dropped for openai', () => {
  assert.deepEqual(start, { sel: 0, focus: 'preset', images: '', backend: 'onnx', endpoints: '', model: 'tiny', nums: { requests: '', warmup: '', maxNewTokens: '' }, saving: null, message: null });
  const f = initialForm({ ...DEFAULT_PREFS, preset: 'baseline', backend: 'transformers', model: '', requests: 4, warmup: 0 }, PRESETS, BACKENDS, 'cannot start: x');
  assert.equal(f.sel, 1);
  assert.equal(f.backend, 'onnx');
  assert.equal(f.model, 'tiny');
  assert.deepEqual(f.nums, { requests: '4', warmup: '0', maxNewTokens: '' });
  assert.deepEqual(f.message, { text: 'cannot start: x', color: 'red' });
  const o = initialForm({ ...DEFAULT_PREFS, backend: 'openai', endpoints: 'http://a:1' }, PRESETS, BACKENDS);
  assert.equal(o.model, '', 'tiny means nothing to a server');
  assert.equal(o.endpoints, 'http://a:1');
  assert.equal(initialForm({ ...DEFAULT_PREFS, backend: 'openai', model: 'google/gemma-3-27b-it' }, PRESETS, BACKENDS).model, 'google/gemma-3-27b-it');
  assert.equal(initialForm({ ...DEFAULT_PREFS, preset: 'gone' }, PRESETS, BACKENDS).sel, 0);
});

test('focus order: Endpoints follows Backend only for openai; tab, shift-tab, ↑/↓ in fields, esc back to presets', () => {
  assert.deepEqual(fieldsOf('onnx'), ['preset', 'images', 'backend', 'model', 'requests', 'warmup', 'maxNewTokens']);
  assert.deepEqual(fieldsOf('openai'), ['preset', 'images', 'backend', 'endpoints', 'model', 'requests', 'warmup', 'maxNewTokens']);
  assert.equal(keys(start, ['tab', 'tab', 'tab']).form.focus, 'model');
  assert.equal(keys(start, ['shift-tab']).form.focus, 'maxNewTokens');
  assert.equal(keys(start, ['tab', 'downArrow', 'downArrow', 'upArrow']).form.focus, 'backend');
  assert.equal(keys(start, ['tab', 'tab', 'rightArrow', 'tab']).form.focus, 'endpoints');
  assert.equal(keys(start, ['tab', 'tab', 'tab', 'escape']).form.focus, 'preset');
});

test('editing: text fields take any printable text, number fields digits only (7 at most), backspace removes', () => {
  const { form } = keys(start, ['tab', text('./docs/*.png'), 'backspace', 'tab', 'tab', text('x'), 'tab', text('12a3'), 'tab', text('0'), 'tab', text('123456789')]);
  assert.equal(form.images, './docs/*.pn');
  assert.equal(form.model, 'tinyx');
  assert.deepEqual(form.nums, { requests: '123', warmup: '0', maxNewTokens: '1234567' });
});

test('the preset list and the backend choice: ↑/↓ select (clamped), ←/→/space cycle the available backends', () => {
  assert.equal(keys(start, ['downArrow', 'downArrow', 'downArrow', 'downArrow']).form.sel, 2);
  assert.equal(keys(start, ['upArrow']).form.sel, 0);
  const onBackend = keys(start, ['tab', 'tab']).form;
  assert.equal(keys(onBackend, ['rightArrow']).form.backend, 'openai', 'transformers is unavailable');
  assert.equal(keys(onBackend, ['leftArrow']).form.backend, 'openai');
  assert.equal(keys(onBackend, [text(' '), text(' ')]).form.backend, 'onnx');
  const openai = keys(onBackend, ['rightArrow']).form;
  assert.equal(openai.model, '', 'switching to openai drops the built-in model');
  assert.equal(keys(openai, ['rightArrow']).form.model, '', 'and switching back keeps the field empty (it reads as tiny)');
  assert.equal(formRequest(keys(openai, ['rightArrow']).form, CTX).model, 'tiny');
  const none = { ...CTX, backends: BACKENDS.map((b) => ({ ...b, available: false })) };
  assert.equal(keys(onBackend, ['rightArrow'], none).form.backend, 'onnx');
});

test('Enter starts the request the form stands for, or says why it cannot', () => {
  const ok = keys(start, ['downArrow', 'tab', 'tab', 'tab', 'tab', text('6'), 'return']);
  assert.deepEqual(ok.effects, [{ kind: 'start', request: { preset: 'baseline', images: '', backend: 'onnx', model: 'tiny', endpoints: '', requests: 6, warmup: null, maxNewTokens: null } }]);
  assert.equal(ok.form.message, null);
  const refuse = (form: HomeForm, ctx: FormContext = CTX) => {
    const r = keys(form, ['return'], ctx);
    assert.deepEqual(r.effects, []);
    return r.form.message?.text;
  };
  assert.equal(refuse({ ...start, sel: 2 }), 'cannot start: preset typo is invalid: unrecognized key');
  assert.equal(refuse(start, { ...CTX, presets: [] }), 'cannot start: no presets found');
  assert.equal(refuse({ ...start, nums: { ...start.nums, requests: '0' } }), 'cannot start: requests must be at least 1');
  assert.equal(refuse({ ...start, nums: { ...start.nums, maxNewTokens: '0' } }), 'cannot start: new tokens must be at least 1');
  assert.equal(refuse({ ...start, backend: 'transformers' }), 'cannot start: backend transformers is not available');
  const bad = { ...CTX, validation: { state: 'done', spec: 'nothing', result: { ok: false, message: 'no images matched "nothing"' } } } as const;
  assert.equal(refuse({ ...start, images: ' nothing ' }, bad), 'cannot start: images: no images matched "nothing"');
  assert.equal(keys({ ...start, images: 'other' }, ['return'], bad).effects.length, 1, 'an answer about other text does not count');
});

test('openai: Enter needs valid endpoints; the request carries them and the served model id (empty = first)', () => {
  const openai = { ...start, backend: 'openai', model: '' };
  assert.match(keys(openai, ['return']).form.message!.text, /^cannot start: endpoints: the openai backend needs at least one server URL/);
  assert.equal(keys({ ...openai, endpoints: 'http://a:1 localhost:8000' }, ['return']).form.message!.text, 'cannot start: endpoints: entry 2: "localhost:8000" is not an http(s) URL');
  const typed = keys(openai, ['tab', 'tab', 'tab', text('http://127.0.0.1:8000 http://10.0.0.2:8000 '), 'tab', text('gemma-3-27b'), 'return']);
  assert.deepEqual(typed.effects, [{ kind: 'start', request: { preset: 'balanced', images: '', backend: 'openai', model: 'gemma-3-27b', endpoints: 'http://127.0.0.1:8000 http://10.0.0.2:8000', requests: null, warmup: null, maxNewTokens: null } }]);
  const first = keys({ ...openai, endpoints: 'http://a:1' }, ['return']).effects[0];
  assert.equal(first.kind === 'start' && first.request.model, '');
  // Other backends carry the endpoints too (remembered), and are not blocked by them.
  assert.equal(keys({ ...start, endpoints: 'junk' }, ['return']).effects.length, 1);
});

test('the save prompt: s opens it, names keep name characters, Enter saves (busy, keys ignored), Esc cancels', () => {
  const open = keys({ ...start, message: { text: 'old', color: 'red' } }, [text('s')]).form;
  assert.deepEqual([open.saving, open.message], [{ name: '', busy: false }, null]);
  assert.equal(keys(open, [text('quick run!'), 'backspace', text('x')]).form.saving?.name, 'quickrux');
  assert.equal(keys(open, ['escape']).form.saving, null);
  const saved = keys(open, [text(' mine '), 'return']);
  assert.deepEqual(saved.form.saving, { name: 'mine', busy: true });
  assert.deepEqual(saved.effects, [{ kind: 'save', name: 'mine', request: formRequest(start, CTX) }]);
  assert.deepEqual(keys(saved.form, ['escape', text('x'), 'return']), { form: saved.form, effects: [] });
  assert.deepEqual(afterSave(saved.form, 'mine', { result: { ok: true, file: '/u/mine.json' } }).message, { text: 'saved preset mine to /u/mine.json', color: 'green' });
  assert.deepEqual(afterSave(saved.form, 'mine', { result: { ok: false, message: 'taken' } }).message, { text: 'taken', color: 'red' });
  const failed = afterSave(saved.form, 'mine', { error: new Error('disk full') });
  assert.deepEqual([failed.saving, failed.message], [null, { text: 'disk full', color: 'red' }]);
});

test('global keys outside text fields: ? help, r runs, q and esc quit; inside a text field they are text', () => {
  assert.deepEqual(keys(start, [text('?'), text('r'), text('q'), 'escape', text('x')]).effects.map((e) => e.kind), ['help', 'runs', 'quit', 'quit']);
  assert.deepEqual(keys(start, ['tab', 'tab', text('?'), text('q')]).effects.map((e) => e.kind), ['help', 'quit'], 'the backend choice passes them on');
  const typed = keys(start, ['tab', text('?rq')]);
  assert.deepEqual(typed.effects, []);
  assert.equal(typed.form.images, '?rq');
});

test('hints and notes follow the form', () => {
  assert.deepEqual(homeHints(start).map(([k]) => k), ['↑/↓', 'tab', 'enter', 's', 'r', '?', 'q']);
  assert.equal(homeHints({ ...start, focus: 'backend' })[0][1], 'field');
  assert.deepEqual(homeHints({ ...start, focus: 'endpoints' }).map(([k]) => k), ['type', 'tab/↑/↓', 'esc', 'enter']);
  assert.deepEqual(homeHints({ ...start, saving: { name: '', busy: false } }), [['enter', 'save'], ['esc', 'cancel']]);
  assert.deepEqual(imagesNote('', { state: 'idle' }), { text: 'built-in synthetic document set', color: 'gray' });
  assert.deepEqual(imagesNote('docs', { state: 'checking' }), { text: 'checking…', color: 'yellow' });
  const done = { state: 'done', spec: 'docs', result: { ok: true, images: 3, skipped: 0, message: '3 images' } } as const;
  assert.deepEqual(imagesNote(' docs ', done), { text: '✔ 3 images', color: 'green' });
  assert.equal(imagesProblem('docs', done), null);
  assert.deepEqual(endpointsNote('', 80), { text: 'space- or comma-separated base URLs, e.g. http://127.0.0.1:8000', color: 'gray' });
  assert.deepEqual(endpointsNote('http://a:1,http://b:2', 80), { text: '✔ 2 endpoints (one replica each)', color: 'green' });
  assert.deepEqual(endpointsNote('a', 20), { text: '✖ "a" is not an htt…', color: 'red' });
  assert.deepEqual(modelHint('onnx', '', (m) => `${m}, random weights: speed only`), { placeholder: 'tiny', note: { text: 'tiny, random weights: speed only', color: 'yellow' } });
  assert.deepEqual(modelHint('onnx', 'dir', () => 'ONNX export directory').note.color, 'gray');
  assert.equal(modelHint('openai', '', () => 'never asked').note.text, "the served model id (empty: the server's first)");
});

test('layout: lines use the terminal\'s width (80 to 160 and more); at 80x24 the list gives way to the form', () => {
  assert.deepEqual(homeLayout(100, undefined, 11), { summaryColumns: 71, descriptionColumns: 96, messageColumns: 198, endpointsValueColumns: 82, endpointsNoteColumns: 85, presetRows: PRESET_ROWS_MAX, scrolls: true });
  assert.deepEqual([homeLayout(160, 50, 4).summaryColumns, homeLayout(160, 50, 4).descriptionColumns], [131, 156]);
  assert.deepEqual([homeLayout(100, 50, 4).presetRows, homeLayout(100, 50, 4).scrolls], [4, false]);
  assert.deepEqual([homeLayout(100, 50, 9).presetRows, homeLayout(100, 50, 9).scrolls], [8, true]);
  const small = homeLayout(80, 24, 4);
  assert.deepEqual(small, { summaryColumns: 51, descriptionColumns: 76, messageColumns: 158, endpointsValueColumns: 62, endpointsNoteColumns: 65, presetRows: 4, scrolls: false });
  assert.deepEqual([homeLayout(80, 24, 11).presetRows, homeLayout(80, 24, 11).scrolls], [3, true]);
  assert.equal(homeLayout(80, 5, 11).presetRows, 1);
  assert.deepEqual([windowTop(0, 11, 3), windowTop(5, 11, 3), windowTop(10, 11, 3), windowTop(2, 2, 8)], [0, 4, 8, 0]);
  assert.deepEqual(listWindow(['a', 'b', 'c', 'd'], 3, 2), { top: 2, visible: ['c', 'd'] });
});
