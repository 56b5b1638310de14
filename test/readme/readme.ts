// Reading README.md the way its tests need it: the fenced code blocks with the heading they sit under, the shell
// commands in them (continuation lines joined), a command's trailing comment, and the argument vectors a line gives
// gemma-bench once bash has expanded it. Shared by the README tests (examples, commands, troubleshooting).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/repo.js';

export const README = join(REPO_ROOT, 'README.md');
export const readReadme = (): string => readFileSync(README, 'utf8');

export interface Block {
  /** The info string after the opening fence ("sh", "" ...). */
  readonly lang: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The headings above the block, outermost first (without the #s). */
  readonly headings: readonly string[];
  readonly lines: readonly string[];
}

/** Every fenced (```) block of the Markdown, with the headings it sits under. */
export function fencedBlocks(md: string): Block[] {
  const out: Block[] = [];
  const headings: { level: number; title: string }[] = [];
  const lines = md.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const h = /^(#{1,6}) (.+)$/.exec(lines[i]);
    if (h) {
      while (headings.length && headings[headings.length - 1].level >= h[1].length) headings.pop();
      headings.push({ level: h[1].length, title: h[2].trim() });
      continue;
    }
    const open = /^```(.*)$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    out.push({ lang: open[1].trim(), line: start + 1, headings: headings.map((x) => x.title), lines: body });
  }
  return out;
}

export interface Command {
  /** The command as bash gets it: continuation lines joined with a space. */
  readonly text: string;
  /** 1-based README line where it starts. */
  readonly line: number;
  readonly headings: readonly string[];
  /** The trailing comment, without the "#" and surrounding blanks; "" when none. */
  readonly comment: string;
}

/** The shell commands of the sh/bash blocks: blank and comment-only lines dropped, `\` continuations joined. */
export function shellCommands(md: string): Command[] {
  const out: Command[] = [];
  for (const b of fencedBlocks(md)) {
    if (!['sh', 'bash', 'shell', 'console'].includes(b.lang)) continue;
    for (let i = 0; i < b.lines.length; i++) {
      const first = i;
      let text = b.lines[i];
      while (text.endsWith('\\') && i + 1 < b.lines.length) text = text.slice(0, -1).trimEnd() + ' ' + b.lines[++i].trim();
      text = text.trim();
      if (text === '' || text.startsWith('#')) continue;
      out.push({ text, line: b.line + 1 + first, headings: b.headings, comment: trailingComment(text) });
    }
  }
  return out;
}

/** Where an unquoted " #" starts a comment (bash's rule: `#` at the start of a word), or -1. */
export function commentStart(text: string): number {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]))) return i;
  }
  return -1;
}

export function trailingComment(text: string): string {
  const i = commentStart(text);
  return i < 0 ? '' : text.slice(i + 1).trim();
}

/** Whether the command runs gemma-bench (`gemma-bench ...`, `npx gemma-bench ...`), anywhere in the line. */
export const mentionsGemmaBench = (text: string): boolean => /(^|[\s;&|($])(npx )?gemma-bench(\s|$)/.test(text);

/**
 * The argument vectors each gemma-bench invocation of `text` gets, as bash expands them (quotes, `$(...)`,
 * globs stay literal when they match nothing). gemma-bench and npx are shell functions that only print their
 * arguments, so nothing runs but the line's own shell code (such as a `for` loop inside `$(...)`); redirections
 * write into `cwd`. Other programs on the line (vllm, sleep...) are stubbed out by a function of the same name only
 * when listed in `stub`.
 */
export function gemmaBenchArgv(text: string, cwd: string, stub: readonly string[] = []): string[][] {
  const prelude = [
    "gemma-bench() { printf '%s\\0' \"$@\" $'\\x01'; }", // one printf: one write, even from a background job
    'npx() { if [ "$1" = gemma-bench ]; then shift; gemma-bench "$@"; fi; }',
    ...stub.map((s) => `${s}() { :; }`),
  ].join('\n');
  const r = spawnSync('bash', ['-c', `${prelude}\n${text}\nwait`], { cwd, encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`bash could not expand README line "${text}": ${r.stderr}`);
  const calls: string[][] = [];
  let cur: string[] = [];
  for (const w of r.stdout.split('\0').slice(0, -1)) {
    if (w === '\u0001') {
      calls.push(cur);
      cur = [];
    } else cur.push(w);
  }
  return calls;
}
