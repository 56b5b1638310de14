// The compare screen's colours: a change beyond noise green when better, red when worse (ink-table cells told
// their row); colour forced on, as on a terminal.
import '../helpers/force-color.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { compareRuns } from '../../src/report/compare.js';
import { CompareScreen } from '../../src/ui/components/CompareScreen.js';
import { cellText } from '../../src/ui/compare-view.js';
import { fakeRun } from '../helpers/fake-run.js';
import { stripAnsi, tick } from './helpers.js';

const fast = fakeRun({ id: '20261125-142233-fast-0001', name: 'fast', seed: 3, latencyScale: 0.8, requests: 200 });
const base = fakeRun({ id: '20261125-142233-base-0002', name: 'base', seed: 3, requests: 200 });
const slow = fakeRun({ id: '20261125-142233-slow-0003', name: 'slow', seed: 3, latencyScale: 1.5, requests: 200 });

test('changes beyond noise are coloured: green when better, red when worse', async () => {
  const m = compareRuns([base, fast, slow]);
  const r = render(<CompareScreen model={m} title="3 run(s)" width={120} height={40} onExport={async () => '/x'} onBack={() => {}} onHelp={() => {}} />);
  await tick();
  const raw = r.lastFrame() ?? '';
  const e2eLine = raw.split('\n').find((l) => stripAnsi(l).includes('E2E p50 (ms)'))!;
  const e2e = m.rows.find((x) => x.key === 'e2e_p50')!;
  assert.deepEqual(e2e.cells.map((c) => c.significant), [null, true, true]);
  // chalk's green and red: 32 and 31.
  assert.ok(e2eLine.includes(`\u001b[32m`) && e2eLine.includes(cellText(e2e, 1)), JSON.stringify(e2eLine));
  assert.ok(e2eLine.includes(`\u001b[31m`), JSON.stringify(e2eLine));
  assert.ok(/\u001b\[32m[^\u001b]*-20\.0%/.test(e2eLine), 'the faster run green');
  assert.ok(/\u001b\[31m[^\u001b]*\+50\.0%/.test(e2eLine), 'the slower run red');
  r.unmount();
});
