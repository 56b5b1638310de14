// The home screen: pick a preset (built-in and the user's own, each with its key settings), the images (built-in
// synthetic set, or a typed path or glob validated as you type through the controller, debounced), the backend
// and model, optional overrides (requests, warmup, new tokens); Enter starts the run, s saves the settings as a
// user preset. All I/O goes through the callbacks.
import { useEffect, useRef, useState } from 'react';
import { Box, Text } from 'ink';
import { presetSummary, type BackendOption, type ImagesCheck, type PresetInfo, type Prefs, type RunRequest, type SavePresetResult } from '../app-port.js';
import { fit, truncate } from '../cells.js';
import { KeyHints } from './KeyHints.js';
import { editText, TextField } from './TextField.js';
import { useKeys } from '../use-keys.js';

/** How long typing must pause before the images field is validated. */
export const IMAGES_VALIDATE_DEBOUNCE_MS = 250;
/** Preset rows visible at once (the list scrolls). */
export const PRESET_ROWS_MAX = 8;

type Field = 'preset' | 'images' | 'backend' | 'model' | 'requests' | 'warmup' | 'maxNewTokens';
const FIELDS: readonly Field[] = ['preset', 'images', 'backend', 'model', 'requests', 'warmup', 'maxNewTokens'];
const TEXT_FIELDS: ReadonlySet<Field> = new Set(['images', 'model', 'requests', 'warmup', 'maxNewTokens']);
const NUMERIC_FIELDS: ReadonlySet<Field> = new Set(['requests', 'warmup', 'maxNewTokens']);

type Validation = { readonly state: 'idle' } | { readonly state: 'checking' } | { readonly state: 'done'; readonly spec: string; readonly result: ImagesCheck };

type Props = {
  readonly presets: readonly PresetInfo[];
  readonly backends: readonly BackendOption[];
  readonly initial: Prefs;
  readonly validateImages: (spec: string) => Promise<ImagesCheck>;
  readonly describeModel: (model: string) => string;
  readonly onStart: (req: RunRequest) => void;
  readonly onSavePreset: (name: string, req: RunRequest) => Promise<SavePresetResult>;
  readonly onRuns: () => void;
  readonly onQuit: () => void;
  readonly onHelp: () => void;
  /** A message from the app (e.g. why the last run could not start). */
  readonly message?: string | null;
  readonly isActive?: boolean;
  readonly debounceMs?: number;
};

const numOrNull = (s: string): number | null => (s.trim() === '' ? null : Number(s));
const numText = (n: number | null): string => (n === null ? '' : String(n));

export function HomeScreen(props: Props) {
  const { presets, backends, initial, isActive = true } = props;
  const debounceMs = props.debounceMs ?? IMAGES_VALIDATE_DEBOUNCE_MS;
  const startIndex = Math.max(0, presets.findIndex((p) => p.name === initial.preset));
  const [sel, setSel] = useState(startIndex);
  const [focus, setFocus] = useState<Field>('preset');
  const [images, setImages] = useState(initial.images);
  const [backend, setBackend] = useState(backends.some((b) => b.name === initial.backend && b.available) ? initial.backend : (backends.find((b) => b.available)?.name ?? 'onnx'));
  const [model, setModel] = useState(initial.model || 'tiny');
  const [nums, setNums] = useState({ requests: numText(initial.requests), warmup: numText(initial.warmup), maxNewTokens: numText(initial.maxNewTokens) });
  const [validation, setValidation] = useState<Validation>({ state: 'idle' });
  const [saving, setSaving] = useState<null | { name: string; busy: boolean }>(null);
  const [message, setMessage] = useState<{ text: string; color: 'green' | 'red' | 'yellow' } | null>(props.message ? { text: props.message, color: 'red' } : null);
  const seq = useRef(0);

  // Presets may change (a preset was saved): keep the selection on the same name.
  const selected = presets[Math.min(sel, Math.max(0, presets.length - 1))] ?? null;

  useEffect(() => {
    const spec = images.trim();
    const my = ++seq.current;
    if (spec === '') {
      setValidation({ state: 'idle' });
      return;
    }
    setValidation({ state: 'checking' });
    const t = setTimeout(() => {
      props.validateImages(spec).then(
        (result) => {
          if (seq.current === my) setValidation({ state: 'done', spec, result });
        },
        (err: unknown) => {
          if (seq.current === my) setValidation({ state: 'done', spec, result: { ok: false, message: String((err as Error)?.message ?? err) } });
        },
      );
    }, debounceMs);
    return () => clearTimeout(t);
  }, [images]);

  const request = (): RunRequest => ({
    preset: selected?.name ?? initial.preset,
    images: images.trim(),
    backend,
    model: model.trim() || 'tiny',
    requests: numOrNull(nums.requests),
    warmup: numOrNull(nums.warmup),
    maxNewTokens: numOrNull(nums.maxNewTokens),
  });

  const problems = (): string | null => {
    if (!selected) return 'no presets found';
    if (!selected.preset) return `preset ${selected.name} is invalid: ${selected.error ?? ''}`;
    if (validation.state === 'done' && validation.spec === images.trim() && !validation.result.ok) return `images: ${validation.result.message}`;
    if (nums.requests !== '' && Number(nums.requests) < 1) return 'requests must be at least 1';
    if (nums.maxNewTokens !== '' && Number(nums.maxNewTokens) < 1) return 'new tokens must be at least 1';
    if (!backends.some((b) => b.name === backend && b.available)) return `backend ${backend} is not available`;
    return null;
  };

  const moveFocus = (d: 1 | -1) => {
    const i = FIELDS.indexOf(focus);
    setFocus(FIELDS[(i + d + FIELDS.length) % FIELDS.length]);
  };

  useKeys(
    (input, key) => {
      if (saving) {
        if (saving.busy) return;
        if (key.escape) return setSaving(null);
        if (key.return) {
          const name = saving.name.trim();
          setSaving({ name, busy: true });
          props.onSavePreset(name, request()).then(
            (r) => {
              setSaving(null);
              setMessage(r.ok ? { text: `saved preset ${name} to ${r.file}`, color: 'green' } : { text: r.message, color: 'red' });
            },
            (err: unknown) => {
              setSaving(null);
              setMessage({ text: String((err as Error)?.message ?? err), color: 'red' });
            },
          );
          return;
        }
        return setSaving({ name: editText(saving.name, input, key, (ch) => /[A-Za-z0-9._-]/.test(ch)), busy: false });
      }
      if (key.return) {
        const p = problems();
        if (p) return setMessage({ text: `cannot start: ${p}`, color: 'red' });
        setMessage(null);
        return props.onStart(request());
      }
      if (key.tab) return moveFocus(key.shift ? -1 : 1);
      if (TEXT_FIELDS.has(focus)) {
        if (key.escape) return setFocus('preset');
        if (key.upArrow) return moveFocus(-1);
        if (key.downArrow) return moveFocus(1);
        if (NUMERIC_FIELDS.has(focus)) {
          const f = focus as 'requests' | 'warmup' | 'maxNewTokens';
          return setNums((n) => ({ ...n, [f]: editText(n[f], input, key, (ch) => ch >= '0' && ch <= '9').slice(0, 7) }));
        }
        if (focus === 'images') return setImages((v) => editText(v, input, key));
        if (focus === 'model') return setModel((v) => editText(v, input, key));
        return;
      }
      if (focus === 'backend') {
        if (key.leftArrow || key.rightArrow || input === ' ') {
          const avail = backends.filter((b) => b.available);
          if (avail.length) {
            const i = avail.findIndex((b) => b.name === backend);
            setBackend(avail[(i + (key.leftArrow ? -1 : 1) + avail.length) % avail.length].name);
          }
          return;
        }
        if (key.upArrow) return moveFocus(-1);
        if (key.downArrow) return moveFocus(1);
      }
      if (focus === 'preset') {
        if (key.upArrow) return setSel((i) => Math.max(0, i - 1));
        if (key.downArrow) return setSel((i) => Math.min(presets.length - 1, i + 1));
      }
      if (input === '?') return props.onHelp();
      if (input === 'r') return props.onRuns();
      if (input === 's') {
        setMessage(null);
        return setSaving({ name: '', busy: false });
      }
      if (input === 'q' || key.escape) return props.onQuit();
    },
    { isActive },
  );

  const top = Math.max(0, Math.min(sel - Math.floor(PRESET_ROWS_MAX / 2), presets.length - PRESET_ROWS_MAX));
  const visible = presets.slice(top, top + PRESET_ROWS_MAX);
  const p = selected?.preset ?? null;
  const spec = images.trim();
  const imagesNote =
    spec === ''
      ? { text: 'built-in synthetic document set', color: 'gray' as const }
      : validation.state === 'done' && validation.spec === spec
        ? { text: `${validation.result.ok ? '✔' : '✖'} ${truncate(validation.result.message, 60)}`, color: validation.result.ok ? ('green' as const) : ('red' as const) }
        : { text: 'checking…', color: 'yellow' as const };
  const inText = TEXT_FIELDS.has(focus);
  const hints: (readonly [string, string])[] = saving
    ? [['enter', 'save'], ['esc', 'cancel']]
    : inText
      ? [['type', 'edit'], ['tab/↑/↓', 'next field'], ['esc', 'leave field'], ['enter', 'start']]
      : [['↑/↓', focus === 'preset' ? 'preset' : 'field'], ['tab', 'next field'], ['enter', 'start'], ['s', 'save preset'], ['r', 'runs'], ['?', 'help'], ['q', 'quit']];

  return (
    <Box flexDirection="column">
      <Text>
        <Text bold color="cyan">gemma-bench</Text> <Text dimColor>· Gemma 3 vision-language inference with pan-and-scan · new run</Text>
      </Text>
      <Box flexDirection="column" marginTop={1}>
        <Text bold color={focus === 'preset' ? 'cyan' : undefined}>
          {focus === 'preset' ? '▸ ' : '  '}Preset
        </Text>
        {visible.map((x) => {
          const i = presets.indexOf(x);
          const on = i === sel;
          return (
            <Text key={x.name} color={on ? 'cyan' : undefined} inverse={on && focus === 'preset'}>
              {on ? ' ● ' : '   '}
              {fit(x.name, 15)} {fit(x.builtin ? 'built-in' : 'user', 9)}
              {x.preset ? truncate(presetSummary(x.preset), 72) : <Text color="red">{truncate(`invalid: ${x.error ?? ''}`, 72)}</Text>}
            </Text>
          );
        })}
        {presets.length > PRESET_ROWS_MAX ? <Text dimColor>   ({presets.length} presets; ↑/↓ scrolls)</Text> : null}
        {p?.description ? <Text dimColor>   {truncate(p.description, 96)}</Text> : null}
      </Box>
      <Box flexDirection="column" marginTop={1}>
        <TextField label="Images" value={images} placeholder="synthetic" focused={focus === 'images'} note={imagesNote.text} noteColor={imagesNote.color} />
        <Box>
          <Text color={focus === 'backend' ? 'cyan' : undefined} bold={focus === 'backend'}>
            {focus === 'backend' ? '▸ ' : '  '}
            {'Backend'.padEnd(12)}
          </Text>
          {backends.map((b) => (
            <Text key={b.name} color={!b.available ? 'gray' : b.name === backend ? 'cyan' : undefined} bold={b.name === backend}>
              {b.name === backend ? '(●) ' : '( ) '}
              {b.name}
              {b.available ? '' : ` (unavailable: ${truncate(b.note, 40)})`}
              {'  '}
            </Text>
          ))}
        </Box>
        <TextField label="Model" value={model} placeholder="tiny" focused={focus === 'model'} note={truncate(props.describeModel(model.trim() || 'tiny'), 60)} noteColor={/random weights/.test(props.describeModel(model.trim() || 'tiny')) ? 'yellow' : 'gray'} />
        <TextField label="Requests" value={nums.requests} placeholder={p ? `${p.load.requests ?? (p.load.durationS !== undefined ? `${p.load.durationS} s` : 32)} (preset)` : ''} focused={focus === 'requests'} note="measured requests" />
        <TextField label="Warmup" value={nums.warmup} placeholder={p ? `${p.load.warmup} (preset)` : ''} focused={focus === 'warmup'} note="excluded from the statistics" />
        <TextField label="New tokens" value={nums.maxNewTokens} placeholder={p ? `${p.generation.maxNewTokens} (preset)` : ''} focused={focus === 'maxNewTokens'} note="generated per request" />
      </Box>
      {saving ? (
        <Box marginTop={1}>
          <TextField label="Save as" value={saving.name} placeholder="preset name (letters, digits, . _ -)" focused={!saving.busy} note={saving.busy ? 'saving…' : 'Enter saves, Esc cancels'} />
        </Box>
      ) : null}
      {message ? (
        <Box marginTop={1}>
          <Text color={message.color}>{truncate(message.text, 200)}</Text>
        </Box>
      ) : null}
      <KeyHints hints={hints} />
    </Box>
  );
}
