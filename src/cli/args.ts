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
    const { values, positionals } = parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals: true, strict: true });
    return { values: values as ParsedValues, positionals };
  } catch (err) {
    const unknown = /^Unknown option '(-{1,2}[^']+)'/.exec((err as Error).message);
    if (unknown) {
      const near = closestOption(unknown[1].replace(/^-+/, ''), Object.keys(options));
      throw new UsageError(`Unknown option '${unknown[1]}'${near ? `; did you mean --${near}?` : ''}\nRun \`gemma-bench ${def.name} --help\` for the options.`);
    }
    const msg = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${msg}\nRun \`gemma-bench ${def.name} --help\` for the options.`);
  }
}

/**
 * `--requests -1` as `--requests=-1`: parseArgs reads a value that starts with "-" as another option ("argument is
 * ambiguous"), so a negative number never reached the range check that names the flag. Only for options that take
 * a value, and only when the next argument is a number.
 */
function joinNegativeValues(argv: readonly string[], options: Record<string, { type: 'string' | 'boolean'; short?: string }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : null;
    if (name !== null && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
    if (a === '--') {
      out.push(...argv.slice(i + 1));
      break;
    }
  }
  return out;
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps). */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The option closest to a mistyped one, if it is close enough to be what was meant (or one starts the other). */
export function closestOption(typed: string, names: readonly string[]): string | null {
  let best: { name: string; d: number } | null = null;
  for (const n of names) {
    const d = editDistance(typed, n);
    if (!best || d < best.d) best = { name: n, d };
  }
  if (best && best.d <= Math.max(1, Math.min(3, Math.floor(typed.length / 3)))) return best.name;
  const prefixed = names.filter((n) => n.startsWith(typed) || (typed.length >= 4 && typed.startsWith(n)));
  return prefixed.length === 1 ? prefixed[0] : null;
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
