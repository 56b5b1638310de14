// Typed settings fields: one declaration per setting gives its flag (name, placeholder, help), its zod validator
// (whose messages name the flag, e.g. `--max-crops must be an integer >= 1 (got 0)`) and the conversion of a raw
// command-line string to a typed value. The run specification and every backend's options are declared with
// these, so the CLI maps flags to fields generically and validation lives in one place: the zod schema.
import { z } from 'zod';

export type FieldType =
  | { readonly kind: 'int'; readonly min?: number; readonly max?: number }
  | { readonly kind: 'number'; readonly min?: number; readonly exclusiveMin?: boolean; readonly max?: number }
  | { readonly kind: 'int-or-auto'; readonly min: number }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'string' }
  /** Repeatable: every occurrence adds one entry. */
  | { readonly kind: 'list' }
  /** A JSON object given as text. */
  | { readonly kind: 'json-object' }
  /** Present = true. `--no-x` flags are declared with `negates` so the field holds the positive sense. */
  | { readonly kind: 'flag'; readonly negates?: boolean };

export interface Field {
  /** The command-line flag without dashes, e.g. `max-crops`. */
  readonly flag: string;
  /** The key in the typed object, e.g. `maxCrops`. */
  readonly key: string;
  readonly type: FieldType;
  readonly placeholder?: string;
  readonly description: string;
}

/** A value as typed on the command line: a string (or several, for a repeatable flag), or true for a flag. */
export type RawValue = string | readonly string[] | boolean;

const quote = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v) ?? String(v));

/** What the field accepts, in words: "an integer >= 1", "one of crop, fifo". */
export function expectation(t: FieldType): string {
  switch (t.kind) {
    case 'int':
      return `an integer${t.min !== undefined ? ` >= ${t.min}` : ''}${t.max !== undefined ? ` and <= ${t.max}` : ''}`;
    case 'number':
      return `a number${t.min !== undefined ? (t.exclusiveMin ? ` > ${t.min}` : ` >= ${t.min}`) : ''}${t.max !== undefined ? ` and <= ${t.max}` : ''}`;
    case 'int-or-auto':
      return `an integer >= ${t.min} or auto`;
    case 'enum':
      return `one of ${t.values.join(', ')}`;
    case 'string':
      return 'a non-empty string';
    case 'list':
      return 'a list of non-empty strings';
    case 'json-object':
      return 'a JSON object';
    case 'flag':
      return 'true or false';
  }
}

/** The message for a bad value: names the flag, says what it accepts and what it got. */
export function fieldMessage(f: Field, got: unknown): string {
  return `--${f.flag} must be ${expectation(f.type)} (got ${quote(got)})`;
}

/** The zod validator of one field; every failure message is fieldMessage(). */
export function fieldSchema(f: Field): z.ZodType {
  const error = (iss: { input?: unknown }) => fieldMessage(f, iss.input);
  const t = f.type;
  switch (t.kind) {
    case 'int':
    case 'number': {
      let s = z.number({ error }).refine(Number.isFinite, { error });
      if (t.kind === 'int') s = s.refine(Number.isInteger, { error });
      const min = t.min;
      if (min !== undefined) s = s.refine((v) => (t.kind === 'number' && t.exclusiveMin ? v > min : v >= min), { error });
      const max = t.max;
      if (max !== undefined) s = s.refine((v) => v <= max, { error });
      return s;
    }
    case 'int-or-auto':
      return z.union([z.literal('auto'), z.number().int().min(t.min)], { error });
    case 'enum':
      return z.enum(t.values as [string, ...string[]], { error });
    case 'string':
      return z.string({ error }).min(1, { error });
    case 'list':
      return z.array(z.string().min(1), { error });
    case 'json-object':
      return z.record(z.string(), z.unknown(), { error });
    case 'flag':
      return z.boolean({ error });
  }
}

/** A strict object of optional fields: what a partial specification from any source may hold. */
export function partialSchema(fields: readonly Field[]) {
  return z.strictObject(Object.fromEntries(fields.map((f) => [f.key, fieldSchema(f).optional()])));
}

/** Thrown for a raw command-line value that is not even of the right type ("abc" for a number). */
export class FieldValueError extends Error {
  override name = 'FieldValueError';
}

/**
 * The typed value of a raw command-line value: numbers parsed (ranges are the schema's to check), JSON parsed,
 * "auto" kept. Throws FieldValueError naming the flag when the text cannot be the right type at all.
 */
export function fromRaw(f: Field, raw: RawValue): unknown {
  const t = f.type;
  if (t.kind === 'flag') return t.negates ? raw !== true : raw === true;
  if (t.kind === 'list') return typeof raw === 'string' ? [raw] : Array.isArray(raw) ? [...raw] : [];
  const text = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (typeof text !== 'string') throw new FieldValueError(fieldMessage(f, text));
  switch (t.kind) {
    case 'int':
    case 'number':
    case 'int-or-auto': {
      if (t.kind === 'int-or-auto' && text === 'auto') return 'auto';
      const v = Number(text);
      if (text.trim() === '' || !Number.isFinite(v)) throw new FieldValueError(fieldMessage(f, text));
      return v;
    }
    case 'json-object': {
      try {
        const v: unknown = JSON.parse(text);
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v;
      } catch {
        // reported below
      }
      throw new FieldValueError(fieldMessage(f, text));
    }
    default:
      return text;
  }
}

/** One line per zod issue, as the field messages say it (or the path and zod's message for anything else). */
export function issueLines(err: z.ZodError): string[] {
  return err.issues.map((i) => (i.message.startsWith('--') ? i.message : `${i.path.length ? i.path.join('.') : '(value)'}: ${i.message}`));
}

/**
 * A strict object of the given fields: a field with a default gets it when absent, the others stay optional.
 * Backends declare their options with this, so their flags, defaults and validation are one table.
 */
export function objectSchema(fields: readonly Field[], defaults: Readonly<Record<string, unknown>> = {}) {
  return z.strictObject(Object.fromEntries(fields.map((x) => [x.key, x.key in defaults ? fieldSchema(x).default(defaults[x.key]) : fieldSchema(x).optional()])));
}
