// The home screen's form as data: the fields and their values, which field has the focus, the save-preset prompt
// and the message line, and the PURE reducer that says what each key does to them (plus what the screen must do
// about it: start a run, save a preset, open the runs or the help, quit). No React, no Ink, no I/O: the screen's
// hook (use-home-form.ts) feeds it keys and carries out its effects.
import type { BackendOption, ImagesCheck, PresetInfo, Prefs, RunRequest, SavePresetResult } from './app-port.js';
import { truncate } from './cells.js';
import { checkEndpoints, ENDPOINT_EXAMPLE, endpointsProblem, OPENAI_BACKEND, type EndpointsCheck } from './endpoints.js';
import { editText } from './text-edit.js';

/** The built-in model, the default of the local backends' Model field. */
export const DEFAULT_MODEL = 'tiny';
/** Longest override a number field takes (digits). */
export const NUMBER_FIELD_DIGITS_MAX = 7;

export type Field = 'preset' | 'images' | 'backend' | 'endpoints' | 'model' | 'requests' | 'warmup' | 'maxNewTokens';
export type NumberField = 'requests' | 'warmup' | 'maxNewTokens';
const NUMBER_FIELDS: readonly NumberField[] = ['requests', 'warmup', 'maxNewTokens'];
const TEXT_FIELDS: ReadonlySet<Field> = new Set<Field>(['images', 'endpoints', 'model', ...NUMBER_FIELDS]);

export type MessageColor = 'green' | 'red' | 'yellow';
export interface FormMessage {
  readonly text: string;
  readonly color: MessageColor;
  /** Why Enter could not start a run: shown while it still holds, re-worded when the problem changes (shownMessage). */
  readonly problem?: boolean;
}

export type ImagesValidation = { readonly state: 'idle' } | { readonly state: 'checking' } | { readonly state: 'done'; readonly spec: string; readonly result: ImagesCheck };

export interface HomeForm {
  /** Index of the selected preset. */
  readonly sel: number;
  readonly focus: Field;
  readonly images: string;
  readonly backend: string;
  readonly endpoints: string;
  readonly model: string;
  readonly nums: Readonly<Record<NumberField, string>>;
  /** The save-preset prompt, while it is open. */
  readonly saving: null | { readonly name: string; readonly busy: boolean };
  readonly message: FormMessage | null;
}

/** What the reducer needs besides the form: the lists it chooses from and the images field's check. */
export interface FormContext {
  readonly presets: readonly PresetInfo[];
  readonly backends: readonly BackendOption[];
  /** The preset a request names when none is selected. */
  readonly fallbackPreset: string;
  readonly validation: ImagesValidation;
  /** Why no run can start at all (the data directory cannot be written), or null: shown, and Enter refuses. */
  readonly blocker?: string | null;
}

/** What the screen must do after a key (the reducer itself never calls out). */
export type FormEffect =
  | { readonly kind: 'none' }
  | { readonly kind: 'start'; readonly request: RunRequest }
  | { readonly kind: 'save'; readonly name: string; readonly request: RunRequest }
  | { readonly kind: 'help' }
  | { readonly kind: 'runs' }
  | { readonly kind: 'quit' };

/** The keys the form reads (Ink's Key has them all). */
export interface FormKey {
  readonly return: boolean;
  readonly escape: boolean;
  readonly tab: boolean;
  readonly shift: boolean;
  readonly upArrow: boolean;
  readonly downArrow: boolean;
  readonly leftArrow: boolean;
  readonly rightArrow: boolean;
  readonly backspace: boolean;
  readonly delete: boolean;
  readonly ctrl: boolean;
  readonly meta: boolean;
}

const NONE: FormEffect = { kind: 'none' };
const numOrNull = (s: string): number | null => (s.trim() === '' ? null : Number(s));
const numText = (n: number | null): string => (n === null ? '' : String(n));
const isOpenai = (backend: string): boolean => backend === OPENAI_BACKEND;

/** The fields in focus order: Endpoints only when the backend is openai. */
export function fieldsOf(backend: string): readonly Field[] {
  return ['preset', 'images', 'backend', ...(isOpenai(backend) ? (['endpoints'] as const) : []), 'model', ...NUMBER_FIELDS];
}

export const isTextField = (f: Field): boolean => TEXT_FIELDS.has(f);

/** The model field's value for a backend: the built-in model means nothing to a server, so openai starts empty. */
export function modelFor(backend: string, model: string): string {
  return isOpenai(backend) && model.trim() === DEFAULT_MODEL ? '' : model;
}

/** The form as the remembered choices left it. */
export function initialForm(initial: Prefs, presets: readonly PresetInfo[], backends: readonly BackendOption[], message?: string | null): HomeForm {
  const backend = backends.some((b) => b.name === initial.backend && b.available) ? initial.backend : (backends.find((b) => b.available)?.name ?? 'onnx');
  return {
    sel: Math.max(0, presets.findIndex((p) => p.name === initial.preset)),
    focus: 'preset',
    images: initial.images,
    backend,
    endpoints: initial.endpoints,
    model: modelFor(backend, initial.model || DEFAULT_MODEL),
    nums: { requests: numText(initial.requests), warmup: numText(initial.warmup), maxNewTokens: numText(initial.maxNewTokens) },
    saving: null,
    message: message ? { text: message, color: 'red' } : null,
  };
}

/** The selected preset (the list may have changed since it was chosen: the index is clamped). */
export function selectedPreset(form: HomeForm, presets: readonly PresetInfo[]): PresetInfo | null {
  return presets[Math.min(form.sel, Math.max(0, presets.length - 1))] ?? null;
}

/** The run the form stands for. The endpoints text travels as typed (trimmed), whatever the backend. */
export function formRequest(form: HomeForm, ctx: FormContext): RunRequest {
  return {
    preset: selectedPreset(form, ctx.presets)?.name ?? ctx.fallbackPreset,
    images: form.images.trim(),
    backend: form.backend,
    // For openai the model is the served model id, and empty means the server's first model.
    model: isOpenai(form.backend) ? form.model.trim() : form.model.trim() || DEFAULT_MODEL,
    endpoints: form.endpoints.trim(),
    requests: numOrNull(form.nums.requests),
    warmup: numOrNull(form.nums.warmup),
    maxNewTokens: numOrNull(form.nums.maxNewTokens),
  };
}

/** Why the typed images cannot be used: their check, once it answered for exactly this text, failed. */
export function imagesProblem(images: string, v: ImagesValidation): string | null {
  return v.state === 'done' && v.spec === images.trim() && !v.result.ok ? v.result.message : null;
}

/** Why the form cannot start a run, or null. */
export function formProblem(form: HomeForm, ctx: FormContext): string | null {
  if (ctx.blocker) return ctx.blocker;
  const selected = selectedPreset(form, ctx.presets);
  if (!selected) return 'no presets found';
  if (!selected.preset) return `preset ${selected.name} is invalid: ${selected.error ?? ''}`;
  const images = imagesProblem(form.images, ctx.validation);
  if (images !== null) return `images: ${images}`;
  if (form.nums.requests !== '' && Number(form.nums.requests) < 1) return 'requests must be at least 1';
  if (form.nums.maxNewTokens !== '' && Number(form.nums.maxNewTokens) < 1) return 'new tokens must be at least 1';
  if (!ctx.backends.some((b) => b.name === form.backend && b.available)) return `backend ${form.backend} is not available`;
  return isOpenai(form.backend) ? endpointsProblem(form.endpoints) : null;
}

/** The focus `d` fields away, wrapping around. */
export function moveFocus(form: HomeForm, d: 1 | -1): HomeForm {
  const fields = fieldsOf(form.backend);
  const i = fields.indexOf(form.focus);
  return { ...form, focus: fields[(i + d + fields.length) % fields.length] };
}

/** The next available backend to the left (-1) or right (+1); switching to openai empties the built-in model. */
export function cycleBackend(form: HomeForm, backends: readonly BackendOption[], d: 1 | -1): HomeForm {
  const avail = backends.filter((b) => b.available);
  if (!avail.length) return form;
  const i = avail.findIndex((b) => b.name === form.backend);
  const backend = avail[(i + d + avail.length) % avail.length].name;
  return { ...form, backend, model: modelFor(backend, form.model) };
}

const PRESET_NAME_CHAR = /[A-Za-z0-9._-]/;

/** Keys while the save-preset prompt is open: type a name, Enter saves, Esc cancels; nothing while it saves. */
function savingKey(form: HomeForm, saving: NonNullable<HomeForm['saving']>, input: string, key: FormKey, ctx: FormContext): { form: HomeForm; effect: FormEffect } {
  if (saving.busy) return { form, effect: NONE };
  if (key.escape) return { form: { ...form, saving: null }, effect: NONE };
  if (key.return) {
    const name = saving.name.trim();
    return { form: { ...form, saving: { name, busy: true } }, effect: { kind: 'save', name, request: formRequest(form, ctx) } };
  }
  return { form: { ...form, saving: { name: editText(saving.name, input, key, (ch) => PRESET_NAME_CHAR.test(ch)), busy: false } }, effect: NONE };
}

/** Keys inside a text field: they edit it; Esc goes back to the presets, ↑/↓ move between fields. */
function textFieldKey(form: HomeForm, input: string, key: FormKey): HomeForm {
  if (key.escape) return { ...form, focus: 'preset' };
  if (key.upArrow) return moveFocus(form, -1);
  if (key.downArrow) return moveFocus(form, 1);
  const f = form.focus;
  if (f === 'requests' || f === 'warmup' || f === 'maxNewTokens') {
    const value = editText(form.nums[f], input, key, (ch) => ch >= '0' && ch <= '9').slice(0, NUMBER_FIELD_DIGITS_MAX);
    return { ...form, nums: { ...form.nums, [f]: value } };
  }
  if (f === 'images' || f === 'endpoints' || f === 'model') return { ...form, [f]: editText(form[f], input, key) };
  return form;
}

/** Keys on the preset list or the backend choice that are theirs (moving, choosing); null when the key is not. */
function choiceKey(form: HomeForm, input: string, key: FormKey, ctx: FormContext): HomeForm | null {
  if (form.focus === 'backend') {
    if (key.leftArrow || key.rightArrow || input === ' ') return cycleBackend(form, ctx.backends, key.leftArrow ? -1 : 1);
    if (key.upArrow) return moveFocus(form, -1);
    if (key.downArrow) return moveFocus(form, 1);
  }
  if (form.focus === 'preset') {
    if (key.upArrow) return { ...form, sel: Math.max(0, form.sel - 1) };
    if (key.downArrow) return { ...form, sel: Math.min(ctx.presets.length - 1, form.sel + 1) };
  }
  return null;
}

/** Keys outside text fields that no field took: help, runs, save, quit. */
function globalKey(form: HomeForm, input: string, key: FormKey): { form: HomeForm; effect: FormEffect } {
  if (input === '?') return { form, effect: { kind: 'help' } };
  if (input === 'r') return { form, effect: { kind: 'runs' } };
  if (input === 's') return { form: { ...form, message: null, saving: { name: '', busy: false } }, effect: NONE };
  if (input === 'q' || key.escape) return { form, effect: { kind: 'quit' } };
  return { form, effect: NONE };
}

/** What a key does to the form, and what the screen must do about it. Pure. */
export function homeKey(form: HomeForm, input: string, key: FormKey, ctx: FormContext): { form: HomeForm; effect: FormEffect } {
  if (form.saving) return savingKey(form, form.saving, input, key, ctx);
  if (key.return) {
    const p = formProblem(form, ctx);
    if (p) return { form: { ...form, message: { text: `cannot start: ${p}`, color: 'red', problem: true } }, effect: NONE };
    return { form: { ...form, message: null }, effect: { kind: 'start', request: formRequest(form, ctx) } };
  }
  const r = valueKey(form, input, key, ctx);
  // An error from before (a run that could not start) goes once the user changes a setting.
  return r.form.message?.color === 'red' && !r.form.message.problem && valuesChanged(form, r.form) ? { ...r, form: { ...r.form, message: null } } : r;
}

function valueKey(form: HomeForm, input: string, key: FormKey, ctx: FormContext): { form: HomeForm; effect: FormEffect } {
  if (key.tab) return { form: moveFocus(form, key.shift ? -1 : 1), effect: NONE };
  if (isTextField(form.focus)) return { form: textFieldKey(form, input, key), effect: NONE };
  const chosen = choiceKey(form, input, key, ctx);
  return chosen ? { form: chosen, effect: NONE } : globalKey(form, input, key);
}

function valuesChanged(a: HomeForm, b: HomeForm): boolean {
  return a.sel !== b.sel || a.images !== b.images || a.backend !== b.backend || a.endpoints !== b.endpoints || a.model !== b.model || JSON.stringify(a.nums) !== JSON.stringify(b.nums);
}

/**
 * The message line as it should read now: a "cannot start" problem only while it still holds, in its current
 * words (the images check may have answered since, the field may have been fixed); any other message as it is.
 */
export function shownMessage(form: HomeForm, ctx: FormContext): FormMessage | null {
  const m = form.message;
  if (!m?.problem) return m;
  const p = formProblem(form, ctx);
  return p ? { text: `cannot start: ${p}`, color: 'red', problem: true } : null;
}

/** The form once a save finished: the prompt closes and the message says how it went. */
export function afterSave(form: HomeForm, name: string, outcome: { readonly result: SavePresetResult } | { readonly error: unknown }): HomeForm {
  const message: FormMessage =
    'error' in outcome
      ? { text: String((outcome.error as Error)?.message ?? outcome.error), color: 'red' }
      : outcome.result.ok
        ? { text: `saved preset ${name} to ${outcome.result.file}`, color: 'green' }
        : { text: outcome.result.message, color: 'red' };
  return { ...form, saving: null, message };
}

export type Hint = readonly [string, string];

/** The key hints for the form's state. */
export function homeHints(form: HomeForm): Hint[] {
  if (form.saving) return [['enter', 'save'], ['esc', 'cancel']];
  if (isTextField(form.focus)) return [['type', 'edit'], ['tab/↑/↓', 'next field'], ['esc', 'leave field'], ['enter', 'start']];
  return [['↑/↓', form.focus === 'preset' ? 'preset' : 'field'], ['tab', 'next field'], ['enter', 'start'], ['s', 'save preset'], ['r', 'runs'], ['?', 'help'], ['q', 'quit']];
}

export type NoteColor = 'green' | 'red' | 'yellow' | 'gray';
export interface Note {
  readonly text: string;
  readonly color: NoteColor;
}

/** What the images field says after its value: the synthetic set, checking, or the check's answer. */
export function imagesNote(images: string, v: ImagesValidation): Note {
  const spec = images.trim();
  if (spec === '') return { text: 'built-in synthetic document set', color: 'gray' };
  if (v.state === 'done' && v.spec === spec) return { text: `${v.result.ok ? '✔' : '✖'} ${truncate(v.result.message, 60)}`, color: v.result.ok ? 'green' : 'red' };
  return { text: 'checking…', color: 'yellow' };
}

/** What the endpoints field says under it, checked as typed: how to fill it, ✔ how many, or ✖ what is wrong. */
export function endpointsNote(endpoints: string, columns: number): Note {
  const c: EndpointsCheck = checkEndpoints(endpoints);
  if (c.state === 'empty') return { text: truncate(`${c.message}, e.g. ${ENDPOINT_EXAMPLE}`, columns), color: 'gray' };
  return { text: truncate(`${c.state === 'ok' ? '✔' : '✖'} ${c.message}`, columns), color: c.state === 'ok' ? 'green' : 'red' };
}

/** The model field's placeholder and note: the served model id for openai, else what the controller says. */
export function modelHint(backend: string, model: string, describeModel: (model: string) => string): { readonly placeholder: string; readonly note: Note } {
  if (isOpenai(backend)) return { placeholder: 'first served', note: { text: "the served model id (empty: the server's first)", color: 'gray' } };
  const said = describeModel(model.trim() || DEFAULT_MODEL);
  return { placeholder: DEFAULT_MODEL, note: { text: truncate(said, 60), color: /random weights/.test(said) ? 'yellow' : 'gray' } };
}
