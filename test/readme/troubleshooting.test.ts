// The README's Troubleshooting table quotes the tool's real messages, so a changed message fails here.
//
// Rules: the table is the first Markdown table under "## Troubleshooting". In its first column ("what you see")
// every inline code span is a message, or a stable fragment of one, and must occur verbatim in the code (comments
// and docstrings left out) of a source file under src/ (.ts, .tsx) or python/ (.py). Each row must quote at least
// one. The rows the README promises must be there (CUDA out of memory, torch missing, the CUDA execution provider, a
// hung worker, parity, an unwritable data directory, CI, a run that is not steady), and where a message or command
// is a constant of the code (the not-steady note, the pip command, the CUDA provider's install command) the README
// must carry the constant's value exactly.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CUDA_EP_INSTALL } from '../../src/engine/backends/onnx/providers.js';
import { PIP_INSTALL } from '../../src/engine/backends/transformers/python.js';
import { NOT_STEADY_NOTE } from '../../src/report/stats/steady.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { readReadme } from './readme.js';

/** The lines of a `## title` section (up to the next `## `). */
function section(md: string, title: string): string {
  const start = md.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has no "## ${title}" section`);
  const end = md.indexOf('\n## ', start + 1);
  return md.slice(start + 1, end < 0 ? undefined : end);
}

/** Cells of a Markdown table row (split on unescaped pipes, outside code spans). */
function cells(row: string): string[] {
  const out: string[] = [];
  let cur = '';
  let code = false;
  const body = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '`') code = !code;
    if (c === '\\' && body[i + 1] === '|') {
      cur += '|';
      i++;
    } else if (c === '|' && !code) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

const codeSpans = (text: string): string[] => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/** The code without its whole-line comments and (Python) docstrings, so a message only a comment still quotes is not
 *  found: the quote must be in what the tool prints. */
function withoutComments(text: string, python: boolean): string {
  const code = python ? text.replace(/("""|''')[\s\S]*?\1/g, '') : text;
  return code
    .split('\n')
    .filter((l) => !(python ? /^\s*#/ : /^\s*(\/\/|\/\*|\*)/).test(l))
    .join('\n');
}

/** Every source file's code under src/ and python/. */
function sources(): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== '__pycache__' && e.name !== 'node_modules') walk(p);
      } else if (/\.(ts|tsx|py)$/.test(e.name)) out.push({ path: p.slice(REPO_ROOT.length + 1), text: withoutComments(readFileSync(p, 'utf8'), e.name.endsWith('.py')) });
    }
  };
  walk(join(REPO_ROOT, 'src'));
  walk(join(REPO_ROOT, 'python'));
  return out;
}

const files = sources();
const inSource = (fragment: string): string | null => files.find((f) => f.text.includes(fragment))?.path ?? null;

const md = readReadme();
const table = section(md, 'Troubleshooting')
  .split('\n')
  .filter((l) => l.startsWith('|'));
const rows = table.slice(2).map(cells); // header and separator first

test('the troubleshooting table has its three columns and a row per promised problem', () => {
  assert.deepEqual(cells(table[0]).map((c) => c.toLowerCase()), ['what you see', 'why', 'fix']);
  for (const r of rows) assert.equal(r.length, 3, r.join(' | '));
  const topics: [string, RegExp][] = [
    ['CUDA out of memory in a batch', /CUDA out of memory:/],
    ['torch missing', /needs the Python packages torch/],
    ['the CUDA execution provider missing', /CUDA execution provider/],
    ['a worker that hangs', /--worker-timeout/],
    ['prompt tokens that do not match pan-and-scan (parity)', /prompt token count/],
    ['an unwritable data directory', /GEMMA_BENCH_HOME/],
    ['CI set in the environment', /under CI/],
    ['a run that is not steady', /not steady/],
  ];
  for (const [what, re] of topics) assert.ok(rows.some((r) => re.test(r.join(' '))), `no row for ${what}`);
});

test("every message the table quotes is the tool's own text, found in src/ or python/", () => {
  const missing: string[] = [];
  let quoted = 0;
  for (const r of rows) {
    const spans = codeSpans(r[0]);
    assert.ok(spans.length > 0, `a row quotes no message: ${r[0]}`);
    for (const s of spans) {
      quoted++;
      if (!inSource(s)) missing.push(s);
    }
  }
  assert.ok(quoted >= 12, `only ${quoted} messages quoted`);
  assert.deepEqual(missing, [], 'quoted in the README but not in the source (a message changed?)');
});

test('the finder itself: a message that is not in the source is not found', () => {
  assert.equal(inSource('CUDA out of memory:'), 'python/gemma_bench/batch.py');
  assert.equal(inSource(`${NOT_STEADY_NOTE} (edited)`), null);
});

test("constants: the not-steady note, the pip command and the CUDA provider's install command appear as the code has them", () => {
  const steady = rows.find((r) => /not steady/.test(r[0]));
  assert.ok(steady);
  assert.ok(codeSpans(steady[0]).includes(NOT_STEADY_NOTE), `the row should quote \`${NOT_STEADY_NOTE}\``);
  assert.match(steady[1], /`NOT_STEADY_NOTE` in `src\/report\/stats\/steady\.ts`/);
  const torch = rows.find((r) => /needs the Python packages torch/.test(r[0]));
  assert.ok(torch && codeSpans(torch[2]).includes(PIP_INSTALL), `the torch row's fix should be \`${PIP_INSTALL}\``);
  const ep = rows.find((r) => /CUDA execution provider/.test(r[0]));
  assert.ok(ep && codeSpans(ep[2]).includes(CUDA_EP_INSTALL), `the provider row's fix should be \`${CUDA_EP_INSTALL}\``);
  // "On GPUs" installs the Python side with the command the tool itself prints.
  assert.ok(section(md, 'On GPUs').includes('```sh\n' + PIP_INSTALL + '\n```'), `"On GPUs" should show \`${PIP_INSTALL}\` as its install block`);
});
