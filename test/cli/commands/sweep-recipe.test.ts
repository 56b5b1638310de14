// Sweep recipes: the built-in panscan-grid (the original launcher's grid plus its pan-and-scan-off baseline) run on
// the real binary with the tiny model; recipes validated like presets (file and field named); flags override a
// recipe's settings; a sweep saved with --save-recipe runs again by name. And --pan-and-scan on|off itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sweepPlan } from '../../../src/cli/commands/sweep.js';
import { overridesFromFlags } from '../../../src/cli/run-flags.js';
import { loadPreset } from '../../../src/config/load-preset.js';
import { resolveRunSpec } from '../../../src/config/resolve-run-spec.js';
import { homeWith } from '../../helpers/cli-run.js';
import { csvFields } from '../../helpers/csv.js';

const LAUNCHER_COLUMNS = ['latency_p50_ms', 'latency_p95_ms', 'throughput_req_s', 'tokens_per_s_mean'];

test('panscan-grid: 4 grid points and the pan-and-scan-off baseline, with the launcher\'s CSV columns', async () => {
  const h = await homeWith([]);
  const csv = join(h.home, 'grid.csv');
  const r = h.cli(['sweep', '--recipe', 'panscan-grid', '--model', 'tiny', '--requests', '2', '--max-new-tokens', '2', '--warmup', '0', '--synthetic', '4', '--no-telemetry', '--csv', csv]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /5 of 5 point\(s\) saved/);
  const [head, ...rows] = readFileSync(csv, 'utf8').trim().split('\n');
  const cols = csvFields(head);
  for (const c of LAUNCHER_COLUMNS) assert.ok(cols.includes(c), c);
  assert.equal(rows.length, 5);
  const at = (row: string, c: string) => csvFields(row)[cols.indexOf(c)];
  assert.deepEqual(rows.map((x) => [at(x, 'min_ratio'), at(x, 'max_crops'), at(x, 'pan_and_scan')]).slice(0, 4), [
    ['2', '4', 'true'],
    ['2', '6', 'true'],
    ['2.5', '4', 'true'],
    ['2.5', '6', 'true'],
  ]);
  assert.equal(at(rows[4], 'pan_and_scan'), 'false', 'the baseline point');
  assert.ok(rows.every((x) => at(x, 'requests_completed') === '2'), 'the command line overrides the recipe\'s 40 requests');
});

test('flags override a recipe\'s settings; a command-line axis replaces the recipe\'s', () => {
  const plan = sweepPlan({ recipe: 'panscan-grid', grid: ['max-crops=3'] });
  assert.deepEqual(plan.axes.map((a) => [a.key, a.values]), [['min-ratio', ['2', '2.5']], ['min-crop-size', ['448']], ['max-crops', ['3']]]);
  assert.equal(plan.points.length, 3, '2 x 1 x 1 grid points and the baseline');
  assert.deepEqual(plan.points[2], { 'pan-and-scan': 'off' });
  const preset = loadPreset('balanced');
  const fromRecipe = resolveRunSpec(preset, overridesFromFlags({ ...plan.settings, ...plan.points[0] }));
  assert.equal(fromRecipe.stop.kind === 'requests' && fromRecipe.stop.count, 40);
  assert.equal(fromRecipe.batchSize, 2);
  assert.equal(fromRecipe.maxNewTokens, 256);
  const overridden = resolveRunSpec(preset, overridesFromFlags({ ...plan.settings, requests: '5', ...plan.points[0] }));
  assert.equal(overridden.stop.kind === 'requests' && overridden.stop.count, 5);
  const baseline = resolveRunSpec(preset, overridesFromFlags({ ...plan.settings, ...plan.points[2] }));
  assert.equal(baseline.panScan, null);
  assert.match(baseline.panScanSource, /--pan-and-scan off/);
});

test('an invalid recipe names the file and the field; an unknown one lists those that exist', async () => {
  const h = await homeWith([]);
  mkdirSync(join(h.home, 'recipes'), { recursive: true });
  writeFileSync(join(h.home, 'recipes', 'typo.json'), JSON.stringify({ name: 'typo', settings: { requets: 4 }, grid: { 'max-crop': [4] }, extra: 1 }));
  const bad = h.cli(['sweep', '--recipe', 'typo']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid recipe .*typo\.json:\n\s+- \(preset\): Unrecognized key: "extra"/);
  writeFileSync(join(h.home, 'recipes', 'typo.json'), JSON.stringify({ name: 'typo', settings: { requets: 4 }, grid: { 'max-crop': [4] } }));
  const fields = h.cli(['sweep', '--recipe', 'typo']);
  assert.equal(fields.code, 2);
  assert.match(fields.stderr, /settings\.requets: not a run flag/);
  assert.match(fields.stderr, /grid\.max-crop: not a grid key/);
  const unknown = h.cli(['sweep', '--recipe', 'nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown recipe "nope"\. Available: panscan-grid, typo/);
  const help = h.cli(['sweep', '--help']);
  assert.match(help.stdout, /panscan-grid: The original launcher's pan-and-scan grid/);
});

test('--save-recipe keeps a sweep to run again by name', async () => {
  const h = await homeWith([]);
  const r = h.cli(['sweep', '--grid', 'max-crops=2', '--requests', '1', '--max-new-tokens', '1', '--warmup', '0', '--synthetic', '2', '--no-telemetry', '--save-recipe', 'mine']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /recipe saved to .*recipes\/mine\.json/);
  const saved = JSON.parse(readFileSync(join(h.home, 'recipes', 'mine.json'), 'utf8'));
  assert.deepEqual(saved.grid, { 'max-crops': [2] });
  assert.deepEqual(saved.settings, { requests: 1, 'max-new-tokens': 1, warmup: 0, synthetic: 2, 'no-telemetry': true });
  const again = h.cli(['sweep', '--recipe', 'mine']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /1 of 1 point\(s\) saved/);
  const twice = h.cli(['sweep', '--grid', 'max-crops=2', '--save-recipe', 'mine']);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /a user recipe of that name exists/);
});

test('--pan-and-scan on|off switches it whatever the preset says; off with a knob is refused', () => {
  const on = resolveRunSpec(loadPreset('baseline'), overridesFromFlags({ 'pan-and-scan': 'on' }));
  assert.deepEqual(on.panScan, { minRatioToActivate: 1.2, maxNumCrops: 4, minCropSize: 256 });
  const off = resolveRunSpec(loadPreset('balanced'), overridesFromFlags({ 'pan-and-scan': 'off' }));
  assert.equal(off.panScan, null);
  assert.throws(() => resolveRunSpec(loadPreset('balanced'), overridesFromFlags({ 'pan-and-scan': 'off', 'max-crops': '4' })), /--pan-and-scan off contradicts --max-crops: drop one/);
});
