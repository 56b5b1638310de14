// The command line's side of the run specification: the flags `run` and `sweep` take (the spec's fields and every
// registered backend's, declared once beside what they configure) and the mapping of parsed flags to a partial
// specification. Generic over the registry: no backend is named here. Raw flag values stop here.
import type { Field, RawValue } from '../config/fields.js';
import { FieldValueError, fromRaw } from '../config/fields.js';
import { PREPROCESS_FIELDS, RUN_FIELDS, type RunOverrides } from '../config/run-spec.js';
import { BACKEND_DEFINITIONS, DEFAULT_BACKEND } from '../engine/backends/registry.js';
import { UsageError, type OptionSpec, type ParsedValues } from './args.js';

export const DEFAULT_PRESET = 'balanced';

/** A field as a command-line option: strings (or repeatable strings), or a boolean flag. */
export function optionOf(f: Field): OptionSpec {
  if (f.type.kind === 'flag') return { type: 'boolean', description: f.description };
  return { type: 'string', ...(f.type.kind === 'list' ? { multiple: true } : {}), placeholder: f.placeholder ?? 'VALUE', description: f.description };
}

export function optionsOf(fields: readonly Field[]): Record<string, OptionSpec> {
  return Object.fromEntries(fields.map((f) => [f.flag, optionOf(f)]));
}

/** Every backend's fields, one per flag (a flag several backends declare, such as --model, is listed once). */
function backendFields(): Field[] {
  const byFlag = new Map<string, Field>();
  for (const d of BACKEND_DEFINITIONS) for (const f of d.fields) if (!byFlag.has(f.flag)) byFlag.set(f.flag, f);
  return [...byFlag.values()];
}

const COMMON_FIELDS: readonly Field[] = [...Object.values(RUN_FIELDS), ...Object.values(PREPROCESS_FIELDS)];

/** The options of `run` (and of each sweep point). */
export const RUN_OPTIONS: Record<string, OptionSpec> = {
  preset: { type: 'string', placeholder: 'NAME|FILE', description: `preset to run (default ${DEFAULT_PRESET}); flags below override it` },
  ...optionsOf(COMMON_FIELDS),
  ...optionsOf(backendFields()),
  json: { type: 'boolean', description: 'print the engine events as NDJSON on stdout' },
  'no-tui': { type: 'boolean', description: 'on a terminal, print progress lines instead of the live dashboard' },
};

/** The typed value of one flag, or a UsageError naming it. */
export function flagValue(f: Field, raw: RawValue): unknown {
  try {
    return fromRaw(f, raw);
  } catch (err) {
    if (err instanceof FieldValueError) throw new UsageError(err.message);
    throw err;
  }
}

/** The typed values of the given fields that were passed on the command line, keyed by field key. */
export function valuesOf(fields: readonly Field[], values: ParsedValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const raw = values[f.flag];
    if (raw !== undefined) out[f.key] = flagValue(f, raw as RawValue);
  }
  return out;
}

/**
 * The partial specification the flags stand for. A backend flag given to a backend that does not take it is a
 * usage error naming the backends that do.
 */
export function overridesFromFlags(values: ParsedValues): RunOverrides {
  const common = valuesOf(COMMON_FIELDS, values) as RunOverrides;
  const backend = common.backend ?? DEFAULT_BACKEND;
  const chosen = BACKEND_DEFINITIONS.find((d) => d.name === backend)!;
  for (const f of backendFields()) {
    if (values[f.flag] === undefined || chosen.fields.some((x) => x.flag === f.flag)) continue;
    const takers = BACKEND_DEFINITIONS.filter((d) => d.fields.some((x) => x.flag === f.flag)).map((d) => `--backend ${d.name}`);
    throw new UsageError(`--${f.flag} applies to ${takers.join(' or ')}, not to the ${backend} backend`);
  }
  const backendOptions = valuesOf(chosen.fields, values);
  return { ...common, ...(Object.keys(backendOptions).length ? { backendOptions } : {}) };
}
