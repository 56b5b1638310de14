// The runs screen's key reducer, without Ink: moving, ordered selection, compare (a lone sweep opens as one),
// the export prompt, the delete confirmation, busy, what finished exports and deletes leave, and the hints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunGroup } from '../../src/engine/types.js';
import type { RunRow } from '../../src/ui/app-port.js';
import { runItems } from '../../src/ui/runs-model.js';
import { afterDelete, afterExport, initialRunsState, itemIndexOfRun, RUN_ROWS_MAX, runsHints, runsKey, withItems, type RunsEffect, type RunsKey, type RunsState } from '../../src/ui/runs-keys.js';

const headline = { completed: 1, failed: 0, throughputReqS: 1, e2eP50Ms: 100, e2eP95Ms: 200, ttftP50Ms: 50, outputTokensPerS: 10 };
const run = (id: string, group: RunGroup | null = null): RunRow => ({ ok: true, id, name: id, status: 'completed', startedAt: '2026-11-25T14:28:12.785Z', presetName: 'balanced', backend: 'onnx', modelLabel: 'x', group, headline });
const sweep = (index: number): RunGroup => ({ id: 'sweep-1', kind: 'sweep', point: { 'max-crops': index }, index, total: 2 });
const ROWS: RunRow[] = [run('a'), run('s1', sweep(1)), { ok: false, file: '/runs/bad.json', error: 'corrupt' }, run('s0', sweep(0)), run('b')];
const ITEMS = runItems(ROWS); // a, sweep, bad, b

const NO_KEY: RunsKey = { return: false, escape: false, upArrow: false, downArrow: false, pageUp: false, pageDown: false };
type K = keyof RunsKey | { text: string };

function keys(s: RunsState, seq: readonly K[], items = ITEMS): { state: RunsState; effects: RunsEffect[] } {
  const effects: RunsEffect[] = [];
  for (const k of seq) {
    const r = typeof k === 'object' ? runsKey(s, k.text, NO_KEY, items) : runsKey(s, '', { ...NO_KEY, [k]: true }, items);
    s = r.state;
    if (r.effect.kind !== 'none') effects.push(r.effect);
  }
  return { state: s, effects };
}
const t = (text: string) => ({ text });
const S = initialRunsState;

test('moving: ↑/↓ by one, page up/down by a window, clamped to the list', () => {
  assert.equal(keys(S, ['downArrow', 'downArrow', 'upArrow']).state.cursor, 1);
  assert.equal(keys(S, ['upArrow']).state.cursor, 0);
  assert.equal(keys(S, ['pageDown']).state.cursor, 3);
  assert.equal(keys({ ...S, cursor: 3 }, ['pageUp']).state.cursor, 0);
  const many = runItems(Array.from({ length: 40 }, (_, i) => run(`r${i}`)));
  assert.equal(keys(S, ['pageDown', 'pageDown'], many).state.cursor, 2 * RUN_ROWS_MAX);
});

test('selection is ordered; compare opens the selection, a lone sweep as one, never an unreadable file', () => {
  const sel = keys(S, ['downArrow', 'downArrow', 'downArrow', t(' '), 'upArrow', 'upArrow', 'upArrow', t(' ')]).state;
  assert.deepEqual(sel.selected, ['run:b', 'run:a']);
  assert.deepEqual(keys(sel, [t('c')]).effects, [{ kind: 'open', target: { kind: 'runs', ids: ['b', 'a'] } }]);
  assert.deepEqual(keys(sel, [t(' ')]).state.selected, ['run:b'], 'space again unselects');
  assert.deepEqual(keys(S, ['downArrow', 'return']).effects, [{ kind: 'open', target: { kind: 'group', groupId: 'sweep-1' } }]);
  assert.deepEqual(keys(S, ['downArrow', t(' '), 'upArrow', t(' '), t('c')]).effects, [{ kind: 'open', target: { kind: 'runs', ids: ['s0', 's1', 'a'] } }]);
  const bad = keys(S, ['downArrow', 'downArrow', t('c')]);
  assert.deepEqual(bad.effects, []);
  assert.match(bad.state.message!.text, /unreadable run files cannot be compared/);
  assert.deepEqual(keys(S, [t('c'), t('e'), t('d'), t(' ')], []), { state: S, effects: [] }, 'nothing to act on in an empty list');
});

test('export: e opens the prompt, a format exports the readable targets (busy), esc or q cancels', () => {
  const prompt = keys(S, [t(' '), 'downArrow', 'downArrow', t(' '), t('e')]).state;
  assert.deepEqual(prompt.mode, { kind: 'export' });
  assert.deepEqual(keys(prompt, [t('x')]).state, prompt, 'other keys wait');
  assert.deepEqual(keys(prompt, ['escape']).state.mode, { kind: 'list' });
  assert.deepEqual(keys(prompt, [t('q')]).state.mode, { kind: 'list' });
  const busy = keys(prompt, [t('m')]);
  assert.deepEqual(busy.effects, [{ kind: 'export', ids: ['a'], format: 'md' }], 'the unreadable file is left out');
  assert.deepEqual(busy.state.mode, { kind: 'busy', what: 'exporting…' });
  assert.deepEqual(keys(prompt, [t('h')]).effects, [{ kind: 'export', ids: ['a'], format: 'html' }], 'h: the HTML report');
  assert.deepEqual(keys(busy.state, [t('q'), 'escape', t('j')]), { state: busy.state, effects: [] }, 'busy ignores keys');
  const onlyBad = keys(S, ['downArrow', 'downArrow', t('e'), t('j')]);
  assert.deepEqual([onlyBad.effects, onlyBad.state.mode, onlyBad.state.message], [[], { kind: 'list' }, { text: 'nothing readable to export', color: 'yellow' }]);
  assert.deepEqual(afterExport(busy.state, ['a'], 'md', { path: '/x.md' }), { ...busy.state, mode: { kind: 'list' }, message: { text: 'exported 1 run(s) as MD to /x.md', color: 'green' } });
  assert.deepEqual(afterExport(busy.state, ['a'], 'csv', { error: new Error('EACCES') }).message, { text: 'export failed: EACCES', color: 'red' });
});

test('delete: d asks first; n, esc or q keep; y deletes (busy); the selection is cleared only when it worked', () => {
  const ask = keys(S, [t(' '), 'downArrow', 'downArrow', t(' '), t('d')]).state;
  assert.deepEqual(ask.mode, { kind: 'confirm-delete', ids: ['a', 'bad'] });
  for (const k of [t('n'), t('N'), 'escape', t('q')] as K[]) assert.deepEqual(keys(ask, [k]).state.message, { text: 'nothing deleted', color: 'yellow' });
  assert.deepEqual(keys(ask, [t('x')]).state, ask);
  const del = keys(ask, [t('Y')]);
  assert.deepEqual(del.effects, [{ kind: 'delete', ids: ['a', 'bad'] }]);
  assert.deepEqual(del.state.mode, { kind: 'busy', what: 'deleting…' });
  const done = afterDelete(del.state, { files: ['/runs/a.json', '/runs/bad.json'] });
  assert.deepEqual([done.mode, done.selected, done.message], [{ kind: 'list' }, [], { text: 'deleted 2 run file(s)', color: 'green' }]);
  const failed = afterDelete(del.state, { error: new Error('EPERM') });
  assert.deepEqual([failed.selected, failed.message], [del.state.selected, { text: 'delete failed: EPERM', color: 'red' }]);
});

test('g reloads, ? helps, q and esc go back; a new list drops stale selections and keeps the cursor in it', () => {
  assert.deepEqual(keys(S, [t('g'), t('?'), t('q'), 'escape']).effects.map((e) => e.kind), ['reload', 'help', 'back', 'back']);
  const s = { ...S, cursor: 3, selected: ['run:b', 'group:sweep-1'] };
  assert.deepEqual(withItems(s, runItems([run('b')])), { ...s, cursor: 0, selected: ['run:b'] });
  assert.equal(withItems(s, []).cursor, 0);
  assert.deepEqual([itemIndexOfRun(ITEMS, 's0'), itemIndexOfRun(ITEMS, 'b'), itemIndexOfRun(ITEMS, 'nope')], [1, 3, -1]);
  assert.deepEqual(runsHints({ kind: 'export' }).map(([k]) => k), ['j', 'c', 'm', 'h', 'esc']);
  assert.deepEqual(runsHints({ kind: 'confirm-delete', ids: [] }), [['y', 'delete'], ['n/esc', 'keep']]);
  assert.deepEqual(runsHints({ kind: 'busy', what: '' }), runsHints({ kind: 'list' }));
});
