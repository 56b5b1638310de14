// The interactive app's controller (the I/O side) in a temporary data directory: presets (built-in, user,
// invalid), saving a preset (validated, never over a built-in), image validation, the runs list with an
// unreadable file, comparison, sweep groups, exports, deletion, preferences, and a run that cannot start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createController, type AppController } from '../../src/app/app-controller.js';
import { requestOverrides } from '../../src/app/run-starter.js';
import { overridesFromFlags } from '../../src/cli/run-flags.js';
import { loadPreset } from '../../src/config/load-preset.js';
import { resolveRunSpec } from '../../src/config/resolve-run-spec.js';
import { PresetSchema } from '../../src/config/preset-schema.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { saveRun } from '../../src/store/run-store.js';
import { DEFAULT_PREFS, type RunRequest } from '../../src/ui/app-port.js';
import { fakeRun } from '../helpers/fake-run.js';

let home: string;
let env: NodeJS.ProcessEnv;
let c: AppController;

const REQ: RunRequest = { preset: 'balanced', images: '', backend: 'onnx', model: 'tiny', endpoints: '', requests: 3, warmup: 0, maxNewTokens: 4 };

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'gemma-bench-app-'));
  env = { ...process.env, GEMMA_BENCH_HOME: home };
  c = createController({ env });
  await c.init();
});

after(() => rmSync(home, { recursive: true, force: true }));

async function collect(events: AsyncIterable<EngineEvent>): Promise<{ events: EngineEvent[]; error: Error | null }> {
  const out: EngineEvent[] = [];
  try {
    for await (const e of events) out.push(e);
    return { events: out, error: null };
  } catch (err) {
    return { events: out, error: err as Error };
  }
}

test('presets: the built-in four, then the user\'s own; an invalid user preset is listed with the field', async () => {
  mkdirSync(join(home, 'presets'), { recursive: true });
  writeFileSync(join(home, 'presets', 'typo.json'), JSON.stringify({ name: 'typo', panScan: { enabled: true, maxNumCrop: 3 } }));
  const presets = await c.listPresets();
  assert.deepEqual(presets.slice(0, 4).map((p) => [p.name, p.builtin]), [
    ['balanced', true],
    ['baseline', true],
    ['doc-centric', true],
    ['max-throughput', true],
  ]);
  const typo = presets.find((p) => p.name === 'typo')!;
  assert.equal(typo.builtin, false);
  assert.equal(typo.preset, null);
  assert.match(typo.error ?? '', /panScan/);
  rmSync(join(home, 'presets', 'typo.json'));
});

test('saving a preset: validated, written under the user presets dir, listed; never over a built-in or a user one', async () => {
  const r = await c.savePreset('quick-cpu', { ...REQ, preset: 'doc-centric' });
  assert.equal(r.ok, true);
  const file = join(home, 'presets', 'quick-cpu.json');
  assert.equal(r.ok && r.file, file);
  const saved = PresetSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  assert.equal(saved.name, 'quick-cpu');
  assert.equal(saved.load.requests, 3);
  assert.equal(saved.load.warmup, 0);
  assert.equal(saved.generation.maxNewTokens, 4);
  assert.equal(saved.panScan.maxNumCrops, 10, 'the base preset\'s pan-and-scan knobs are kept');
  const listed = (await c.listPresets()).find((p) => p.name === 'quick-cpu');
  assert.equal(listed?.builtin, false);
  assert.equal(listed?.preset?.load.requests, 3);

  const builtin = await c.savePreset('balanced', REQ);
  assert.equal(builtin.ok, false);
  assert.match(!builtin.ok ? builtin.message : '', /built-in preset/);
  const dup = await c.savePreset('quick-cpu', REQ);
  assert.match(!dup.ok ? dup.message : '', /exists/);
  const bad = await c.savePreset('no spaces', REQ);
  assert.match(!bad.ok ? bad.message : '', /letters, digits/);
  const badBase = await c.savePreset('from-nowhere', { ...REQ, preset: 'nonexistent' });
  assert.match(!badBase.ok ? badBase.message : '', /unknown preset "nonexistent"/);
});

test('images are validated as typed: synthetic, a folder, a glob that matches nothing, non-images only', async () => {
  const dir = join(home, 'imgs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'a.png'), 'x');
  writeFileSync(join(dir, 'b.jpg'), 'x');
  writeFileSync(join(dir, 'notes.txt'), 'x');
  assert.deepEqual(await c.validateImages(''), { ok: true, images: 0, skipped: 0, message: 'built-in synthetic document set' });
  const ok = await c.validateImages(dir);
  assert.equal(ok.ok, true);
  assert.equal(ok.message, '2 images (1 other file skipped)');
  const none = await c.validateImages(join(home, 'nope', '*.png'));
  assert.equal(none.ok, false);
  assert.match(none.message, /no images matched/);
  const txt = await c.validateImages(join(dir, '*.txt'));
  assert.equal(txt.ok, false);
  assert.match(txt.message, /no images among/);
});

test('runs: listed newest first with an unreadable file; compared, a sweep compared, exported, deleted', async () => {
  const dir = join(home, 'runs');
  const a = fakeRun({ id: '20261125-100000-base-0001', name: 'base', startedAt: '2026-11-25T10:00:00.000Z', seed: 3 });
  const b = fakeRun({ id: '20261125-110000-fast-0002', name: 'fast', startedAt: '2026-11-25T11:00:00.000Z', seed: 3, latencyScale: 0.5 });
  const group = (index: number) => ({ id: 'sweep-20261125-120000-ab12', kind: 'sweep' as const, point: { 'max-crops': 4 + 2 * index }, index, total: 2 });
  const s0 = fakeRun({ id: '20261125-120000-sweep-4-0003', name: 'sweep-4', startedAt: '2026-11-25T12:00:00.000Z', seed: 3, group: group(0) });
  const s1 = fakeRun({ id: '20261125-120100-sweep-6-0004', name: 'sweep-6', startedAt: '2026-11-25T12:01:00.000Z', seed: 3, group: group(1), latencyScale: 1.2 });
  for (const r of [a, b, s0, s1]) await saveRun(r, dir);
  writeFileSync(join(dir, '20261125-130000-broken-dead.json'), '{"schemaVersion": 1, "id": "20261125-13');

  const rows = await c.listRuns();
  assert.equal(c.runsDir, dir);
  assert.deepEqual(rows.map((r) => (r.ok ? r.id : `bad:${r.file}`)), [
    `bad:${join(dir, '20261125-130000-broken-dead.json')}`,
    s1.id,
    s0.id,
    b.id,
    a.id,
  ]);
  const bad = rows[0];
  assert.match(!bad.ok ? bad.error : '', /not valid JSON/);
  const ok = rows.find((r) => r.ok && r.id === b.id);
  assert.equal(ok?.ok && ok.headline.e2eP50Ms, b.summary.metrics.e2eMs.p50);

  const model = await c.compareRuns([a.id, b.id]);
  assert.equal(model.baselineId, a.id);
  const e2e = model.rows.find((r) => r.key === 'e2e_p50')!;
  assert.equal(e2e.cells[1].best, true);
  assert.ok(e2e.cells[1].deltaPct! < 0);

  const sweep = await c.compareGroup('sweep-20261125-120000-ab12');
  assert.deepEqual(sweep.columns.map((col) => col.id), [s0.id, s1.id]);
  await assert.rejects(c.compareGroup('sweep-none'), /no readable runs in group sweep-none/);

  for (const f of ['json', 'csv', 'md', 'html'] as const) {
    const path = await c.exportRuns([a.id, b.id], f);
    assert.ok(path.startsWith(join(home, 'exports')), path);
    assert.ok(path.endsWith(`.${f}`));
    const text = readFileSync(path, 'utf8');
    if (f === 'json') assert.equal((JSON.parse(text) as unknown[]).length, 2);
    if (f === 'csv') assert.equal(text.trim().split('\n').length, 3);
    if (f === 'md') assert.match(text, /# gemma-bench run: base[\s\S]*# gemma-bench run: fast/);
    if (f === 'html') assert.match(text, /^<!DOCTYPE html>[\s\S]*"kind":"compare"/);
  }
  // The compare screen's `e`: the comparison table itself, as `compare --format` writes it.
  for (const f of ['md', 'csv', 'json'] as const) {
    const path = await c.exportComparison(model, f);
    assert.ok(path.startsWith(join(home, 'exports')) && path.endsWith(`-compare-2-runs.${f}`), path);
    const text = readFileSync(path, 'utf8');
    if (f === 'md') assert.match(text, /^\| Metric \| 1 .* \(baseline\) \| 2 .* \|\n\| --- \| ---: \| ---: \|$/m);
    if (f === 'csv') assert.equal(text.trim().split('\n')[0], `metric,label,unit,${a.id},${b.id}`);
    if (f === 'json') assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(model)));
  }
  assert.equal(await c.exportComparison(sweep, 'md'), join(home, 'exports', 'sweep-20261125-120000-ab12-compare.md'));
  // A sweep's runs export as the sweep's report, named after it.
  const sweepPage = await c.exportRuns([s0.id, s1.id], 'html');
  assert.equal(sweepPage, join(home, 'exports', 'sweep-20261125-120000-ab12.html'));
  assert.match(readFileSync(sweepPage, 'utf8'), /"kind":"sweep"/);
  const one = await c.exportRuns([b.id], 'json');
  assert.equal(one, join(home, 'exports', `${b.id}.json`));
  assert.equal(JSON.parse(readFileSync(one, 'utf8')).id, b.id);

  const removed = await c.deleteRuns(['20261125-130000-broken-dead', a.id]);
  assert.deepEqual(removed, [join(dir, '20261125-130000-broken-dead.json'), join(dir, `${a.id}.json`)]);
  assert.equal((await c.listRuns()).length, 3);
});

test('preferences persist in the data directory and survive a corrupt file', () => {
  c.savePrefs({ ...DEFAULT_PREFS, preset: 'baseline', requests: 6, images: './docs' });
  const again = createController({ env });
  assert.deepEqual(again.loadPrefs(), { ...DEFAULT_PREFS, preset: 'baseline', requests: 6, images: './docs' });
  const file = join(home, 'preferences.json');
  assert.ok(existsSync(file));
  writeFileSync(file, '{"last": {"preset": 42, "requests": "six", "images": "./x"}}');
  assert.deepEqual(createController({ env }).loadPrefs(), { ...DEFAULT_PREFS, images: './x' });
  writeFileSync(file, '{not json');
  assert.deepEqual(createController({ env }).loadPrefs(), DEFAULT_PREFS);
});

test('backends and models are described honestly', async () => {
  const b = await c.backends();
  // runsOn: the home screen shows the presets' topology as the backend will run it (the CPU for onnx).
  assert.deepEqual(b[0], { name: 'onnx', available: true, note: 'embedded onnxruntime in worker threads, CPU or CUDA EP', runsOn: 'cpu' });
  assert.equal(b.find((x) => x.name === 'transformers')?.runsOn, 'gpu');
  assert.equal(b.find((x) => x.name === 'openai')?.runsOn, 'endpoints');
  assert.equal(c.describeModel('tiny'), 'gemma3-tiny, random weights: speed only');
  assert.match(c.describeModel('/no/such/model'), /not found here/);
});

test('a home-screen request resolves to the very specification the same `gemma-bench run` flags give', () => {
  const preset = loadPreset('balanced');
  assert.deepEqual(
    resolveRunSpec(preset, requestOverrides(REQ)),
    resolveRunSpec(preset, overridesFromFlags({ backend: 'onnx', model: 'tiny', requests: '3', warmup: '0', 'max-new-tokens': '4' })),
  );
  const unset = { ...REQ, images: ' ./docs ', requests: null, warmup: null, maxNewTokens: null };
  assert.deepEqual(requestOverrides(unset), { backend: 'onnx', backendOptions: { model: 'tiny' }, images: './docs' });
  assert.deepEqual(resolveRunSpec(preset, requestOverrides(unset)), resolveRunSpec(preset, overridesFromFlags({ images: './docs' })));
  const openai = { ...REQ, backend: 'openai', model: '', endpoints: 'http://10.0.0.1:8000, http://10.0.0.2:8000' };
  assert.deepEqual(
    resolveRunSpec(preset, requestOverrides(openai)),
    resolveRunSpec(preset, overridesFromFlags({ backend: 'openai', endpoint: ['http://10.0.0.1:8000', 'http://10.0.0.2:8000'], requests: '3', warmup: '0', 'max-new-tokens': '4' })),
  );
});

test('a run whose images match nothing fails in preparation with the reason (worker thread)', async () => {
  const h = c.startRun({ ...REQ, images: join(home, 'nothing', '*.png') });
  const { events, error } = await collect(h.events);
  assert.ok(events.some((e) => e.type === 'log' && /preparing the workload/.test(e.message)));
  assert.ok(!events.some((e) => e.type === 'run-started'));
  assert.match(error?.message ?? '', /no images matched/);
  assert.equal(c.active.size, 0);
});

test('a run stopped before it started ends without running or saving anything', async () => {
  const h = c.startRun(REQ);
  assert.equal(c.active.size, 1);
  h.cancel();
  const { events, error } = await collect(h.events);
  assert.equal(error, null);
  assert.deepEqual(events.filter((e) => e.type === 'run-started'), []);
  assert.equal(c.active.size, 0);
});

test('an unknown preset fails the run with the preset error', async () => {
  const { error } = await collect(c.startRun({ ...REQ, preset: 'nonexistent' }).events);
  assert.match(error?.message ?? '', /unknown preset "nonexistent"/);
});
