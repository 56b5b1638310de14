// Declarative command-line options on top of node:util parseArgs: one definition gives parsing, --help text and
// usage errors that say what was wrong and what to do (exit code 2).
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly description: string;
  /** Shown after the flag in --help, e.g. `N`, `DIR`. */
  readonly placeholder?: string;
}

export interface CommandDef {
  readonly name: string;
  readonly summary: string;
  /** e.g. `IMAGE... [options]`. */
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly details?: string;
  readonly examples?: readonly string[];
}

export type ParsedValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface Parsed {
  readonly values: ParsedValues;
  readonly positionals: string[];
}

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

/** Parses argv for a command; throws UsageError naming the offending flag and pointing at --help. */
export function parseCommand(def: CommandDef, argv: readonly string[]): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries({ ...def.options, help: HELP_OPTION })) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: values as ParsedValues, positionals };
  } catch (err) {
    const msg = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${msg}\nRun \`gemma-bench ${def.name} --help\` for the options.`);
  }
}

export function helpText(def: CommandDef): string {
  const rows = Object.entries({ ...def.options, help: HELP_OPTION }).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.placeholder ?? 'VALUE'}` : ''}`;
    return [flag, o.description + (o.multiple ? ' (repeatable)' : '')] as const;
  });
  const width = Math.min(34, Math.max(...rows.map(([f]) => f.length)) + 2);
  const lines = [`gemma-bench ${def.name}: ${def.summary}`, '', `Usage: gemma-bench ${def.name} ${def.usage}`, ''];
  if (def.details) lines.push(def.details, '');
  lines.push('Options:');
  for (const [flag, desc] of rows) {
    lines.push(flag.length + 2 > width ? `  ${flag}\n  ${' '.repeat(width)}${desc}` : `  ${flag.padEnd(width)}${desc}`);
  }
  if (def.examples?.length) lines.push('', 'Examples:', ...def.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

export function str(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function strs(values: ParsedValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
}

export function flag(values: ParsedValues, name: string): boolean {
  return values[name] === true;
}

/** A number flag: NaN, infinities and out-of-range values are usage errors that name the flag. */
export function num(values: ParsedValues, name: string, o: { integer?: boolean; min?: number; max?: number; exclusiveMin?: boolean } = {}): number | undefined {
  const raw = str(values, name);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  const kind = o.integer ? 'an integer' : 'a number';
  const bound = o.min === undefined ? '' : o.exclusiveMin ? ` > ${o.min}` : ` >= ${o.min}`;
  const fail = () => new UsageError(`--${name} must be ${kind}${bound}${o.max !== undefined ? ` and <= ${o.max}` : ''} (got "${raw}")`);
  if (raw.trim() === '' || !Number.isFinite(v)) throw fail();
  if (o.integer && !Number.isInteger(v)) throw fail();
  if (o.min !== undefined && (o.exclusiveMin ? v <= o.min : v < o.min)) throw fail();
  if (o.max !== undefined && v > o.max) throw fail();
  return v;
}

export function oneOf<T extends string>(values: ParsedValues, name: string, allowed: readonly T[]): T | undefined {
  const raw = str(values, name);
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
  return raw as T;
}
