// The runs screen: saved runs with headline numbers (units in the headers), unreadable files listed without
// hiding the others, a sweep folded into one item that opens as one comparison, ordered selection (the first
// is the baseline), export with a format prompt, delete only after a confirmation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import type { RunGroup } from '../../src/engine/types.js';
import { RunsScreen, type OpenTarget } from '../../src/ui/components/RunsScreen.js';
import type { ExportFormat, RunRow } from '../../src/ui/app-port.js';
import { idOfFile, idsOf, runItems, targetItems, toggleSelection } from '../../src/ui/runs-model.js';
import { KEYS, press, stripAnsi, tick, waitFor } from './helpers.js';

const headline = (p50: number) => ({ completed: 30, failed: 2, throughputReqS: 1.25, e2eP50Ms: p50, e2eP95Ms: p50 * 2, ttftP50Ms: 100, outputTokensPerS: 40 });
const run = (id: string, name: string, group: RunGroup | null = null, p50 = 1846): RunRow => ({
  ok: true,
  id,
  name,
  status: 'completed',
  startedAt: '2026-11-25T14:28:12.785Z',
  presetName: 'balanced',
  backend: 'onnx',
  modelLabel: 'gemma3-tiny, random weights: speed only',
  group,
  headline: headline(p50),
});
const sweep = (index: number): RunGroup => ({ id: 'sweep-20261125-150000-ab12', kind: 'sweep', point: { 'max-crops': 4 + index * 2 }, index, total: 2 });

const ROWS: RunRow[] = [
  run('20261125-160000-newest-0001', 'newest', null, 500),
  run('20261125-150001-sweep-1-0003', 'balanced-6', sweep(1)),
  { ok: false, file: '/data/runs/20261125-140000-broken-dead.json', error: 'not valid JSON (truncated or corrupt)' },
  run('20261125-150000-sweep-0-0002', 'balanced-4', sweep(0)),
  run('20261125-130000-oldest-0004', 'oldest', null, 2500),
];

test('items: a sweep folds into one item (runs in grid order) where its newest run is; bad files stay', () => {
  const items = runItems(ROWS);
  assert.deepEqual(
    items.map((i) => i.kind),
    ['run', 'group', 'bad', 'run'],
  );
  const g = items[1];
  assert.equal(g.kind, 'group');
  assert.deepEqual(g.kind === 'group' ? g.members.map((m) => m.id) : [], ['20261125-150000-sweep-0-0002', '20261125-150001-sweep-1-0003']);
  assert.deepEqual(idsOf([items[1], items[0]]), ['20261125-150000-sweep-0-0002', '20261125-150001-sweep-1-0003', '20261125-160000-newest-0001']);
  assert.equal(idOfFile('/data/runs/20261125-140000-broken-dead.json'), '20261125-140000-broken-dead');
  assert.deepEqual(toggleSelection(toggleSelection(['a'], 'b'), 'a'), ['b']);
  assert.deepEqual(targetItems(items, [], 3).map((i) => i.key), ['run:20261125-130000-oldest-0004']);
});

function screen(over: Partial<Parameters<typeof RunsScreen>[0]> = {}) {
  const log = { opened: [] as OpenTarget[], exported: [] as [readonly string[], ExportFormat][], deleted: [] as (readonly string[])[], back: 0, reload: 0 };
  const r = render(
    <RunsScreen
      rows={ROWS}
      runsDir="/data/runs"
      onOpen={(t) => log.opened.push(t)}
      onExport={async (ids, f) => {
        log.exported.push([ids, f]);
        return `/data/exports/x.${f}`;
      }}
      onDelete={async (ids) => {
        log.deleted.push(ids);
        return ids.map((i) => `/data/runs/${i}.json`);
      }}
      onReload={() => log.reload++}
      onBack={() => log.back++}
      onHelp={() => {}}
      {...over}
    />,
  );
  return { r, log, frame: () => stripAnsi(r.lastFrame()) };
}

test('the list: headline numbers under headers with units, the sweep row, the unreadable file, key hints', async () => {
  const { r, frame } = screen();
  await tick();
  const f = frame();
  assert.match(f, /saved runs in \/data\/runs/);
  // The id's suffix and the request counts tell apart runs of the same name.
  assert.match(f, /NAME\s+ID\s+STARTED\s+PRESET\s+BACKEND\s+OK\/FAIL\s+STATUS\s+req\/s\s+e2e p50 ms\s+e2e p95 ms/);
  assert.match(f, /▸ \[ \] newest\s+0001\s+\d\d-\d\d \d\d:\d\d\s+balanced\s+onnx\s+30\/2\s+completed\s+1\.25\s+500\s+1000/);
  assert.match(f, /sweep ×2\s+ab12 .* 60\/4 2\/2 done/);
  assert.match(f, /✖ unreadable: 20261125-140000-broken-dead\.json: not valid JSON/);
  assert.match(f, /oldest .* 2500\s+5000/);
  assert.match(f, /↑\/↓ move · space select · c compare · e export · d delete · g reload · \? help · q back/);
  for (const l of f.split('\n')) assert.ok(l.length <= 100, `${l.length}: ${l}`);
  r.unmount();
});

test('compare: the selection in the order chosen (first = baseline)', async () => {
  const { r, log, frame } = screen();
  await tick();
  await press(r.stdin, KEYS.down, KEYS.down, KEYS.down, ' ', KEYS.up, KEYS.up, KEYS.up, ' ');
  assert.match(frame(), /\[1\] oldest/);
  assert.match(frame(), /\[2\] newest/);
  assert.match(frame(), /2 selected \(the first is the baseline\)/);
  await press(r.stdin, 'c');
  assert.deepEqual(log.opened, [{ kind: 'runs', ids: ['20261125-130000-oldest-0004', '20261125-160000-newest-0001'] }]);
  r.unmount();
});

test('a sweep opens as one comparison; an unreadable file cannot be compared', async () => {
  const { r, log, frame } = screen();
  await tick();
  await press(r.stdin, KEYS.down, KEYS.enter);
  await waitFor(() => assert.deepEqual(log.opened, [{ kind: 'group', groupId: 'sweep-20261125-150000-ab12' }]));
  await press(r.stdin, KEYS.down, 'c');
  await waitFor(() => assert.match(frame(), /unreadable run files cannot be compared/));
  assert.equal(log.opened.length, 1);
  r.unmount();
});

test('delete asks first: n keeps, y deletes and reloads; unreadable files can be deleted', async () => {
  const { r, log, frame } = screen();
  await tick();
  await press(r.stdin, KEYS.down, KEYS.down, 'd');
  assert.match(frame(), /Delete 1 run file\(s\): 20261125-140000-broken-dead\? y\/n/);
  assert.match(frame(), /y delete · n\/esc keep/);
  await press(r.stdin, 'n');
  assert.deepEqual(log.deleted, []);
  assert.match(frame(), /nothing deleted/);
  await press(r.stdin, 'd', 'y');
  await waitFor(() => assert.match(frame(), /deleted 1 run file\(s\)/));
  assert.deepEqual(log.deleted, [['20261125-140000-broken-dead']]);
  assert.equal(log.reload, 1);
  r.unmount();
});

test('export: a format prompt, the controller writes, the path is shown', async () => {
  const { r, log, frame } = screen();
  await tick();
  await press(r.stdin, ' ', KEYS.down, ' ', 'e');
  assert.match(frame(), /Export 3 run\(s\) as: j JSON · c CSV · m Markdown/);
  await press(r.stdin, 'm');
  await waitFor(() => assert.match(frame(), /exported 3 run\(s\) as MD to \/data\/exports\/x\.md/));
  assert.deepEqual(log.exported, [[['20261125-160000-newest-0001', '20261125-150000-sweep-0-0002', '20261125-150001-sweep-1-0003'], 'md']]);
  await press(r.stdin, 'q');
  assert.equal(log.back, 1);
  r.unmount();
});

test('empty, loading and unreadable-store states', async () => {
  const empty = screen({ rows: [] });
  await tick();
  assert.match(empty.frame(), /No saved runs yet/);
  empty.r.unmount();
  const loading = screen({ rows: null });
  await tick();
  assert.match(loading.frame(), /loading…/);
  loading.r.unmount();
  const bad = screen({ rows: [], error: 'cannot read the run store /data/runs: permission denied (EACCES)' });
  await tick();
  assert.match(bad.frame(), /permission denied/);
  bad.r.unmount();
});

test('the cursor starts on the highlighted run', async () => {
  const { r, frame } = screen({ highlightId: '20261125-130000-oldest-0004' });
  await tick();
  await tick();
  assert.match(frame(), /▸ \[ \] oldest/);
  r.unmount();
});
