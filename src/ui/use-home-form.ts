// The home screen's state as hooks: the form (home-form.ts's reducer fed by the keys, its effects carried out
// through the screen's callbacks) and the images field's check (debounced, stale answers dropped).
import { useEffect, useRef, useState } from 'react';
import type { BackendOption, ImagesCheck, PresetInfo, Prefs, RunRequest, SavePresetResult } from './app-port.js';
import { afterSave, homeKey, initialForm, type FormContext, type FormEffect, type HomeForm, type ImagesValidation } from './home-form.js';
import { useKeys } from './use-keys.js';

/** How long typing must pause before the images field is validated. */
export const IMAGES_VALIDATE_DEBOUNCE_MS = 250;

/** The images field's check: idle when empty, checking while typing pauses and the answer comes, then done. */
export function useImagesValidation(images: string, validate: (spec: string) => Promise<ImagesCheck>, debounceMs: number): ImagesValidation {
  const [validation, setValidation] = useState<ImagesValidation>({ state: 'idle' });
  const seq = useRef(0);
  useEffect(() => {
    const spec = images.trim();
    const my = ++seq.current;
    if (spec === '') {
      setValidation({ state: 'idle' });
      return;
    }
    setValidation({ state: 'checking' });
    const t = setTimeout(() => {
      validate(spec).then(
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
  return validation;
}

export type HomeFormOptions = {
  readonly presets: readonly PresetInfo[];
  readonly backends: readonly BackendOption[];
  readonly initial: Prefs;
  readonly validateImages: (spec: string) => Promise<ImagesCheck>;
  readonly onStart: (req: RunRequest) => void;
  readonly onSavePreset: (name: string, req: RunRequest) => Promise<SavePresetResult>;
  readonly onRuns: () => void;
  readonly onQuit: () => void;
  readonly onHelp: () => void;
  /** A message from the app (e.g. why the last run could not start). */
  readonly message?: string | null;
  /** Why no run can start at all (the data directory cannot be written): shown, and Enter refuses. */
  readonly blocker?: string | null;
  readonly isActive?: boolean;
  readonly debounceMs?: number;
};

/**
 * The form, its images check and the context the reducer reads. Keys go through homeKey on the latest form (a
 * ref, so keys arriving before the next render build on each other); its effects call the screen's callbacks.
 */
export function useHomeForm(o: HomeFormOptions): { readonly form: HomeForm; readonly validation: ImagesValidation; readonly ctx: FormContext } {
  const [form, setForm] = useState<HomeForm>(() => initialForm(o.initial, o.presets, o.backends, o.message));
  const latest = useRef(form);
  const update = (next: HomeForm) => {
    latest.current = next;
    setForm(next);
  };
  const validation = useImagesValidation(form.images, o.validateImages, o.debounceMs ?? IMAGES_VALIDATE_DEBOUNCE_MS);
  const ctx: FormContext = { presets: o.presets, backends: o.backends, fallbackPreset: o.initial.preset, validation, blocker: o.blocker ?? null };

  const perform = (effect: FormEffect) => {
    switch (effect.kind) {
      case 'none':
        return;
      case 'start':
        return o.onStart(effect.request);
      case 'save':
        o.onSavePreset(effect.name, effect.request).then(
          (result) => update(afterSave(latest.current, effect.name, { result })),
          (error: unknown) => update(afterSave(latest.current, effect.name, { error })),
        );
        return;
      case 'help':
        return o.onHelp();
      case 'runs':
        return o.onRuns();
      case 'quit':
        return o.onQuit();
    }
  };

  useKeys(
    (input, key) => {
      const r = homeKey(latest.current, input, key, ctx);
      if (r.form !== latest.current) update(r.form);
      perform(r.effect);
    },
    { isActive: o.isActive ?? true },
  );
  return { form, validation, ctx };
}
