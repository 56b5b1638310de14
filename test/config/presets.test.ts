import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listPresetFiles, loadPreset, PresetError } from '../../src/config/load-preset.js';

const env = { GEMMA_BENCH_HOME: mkdtempSync(join(tmpdir(), 'gb-presets-')) };

test('the four built-in presets validate and carry the design values', () => {
  const names = listPresetFiles(env).filter((e) => e.builtin).map((e) => e.name);
  for (const n of ['baseline', 'balanced', 'doc-centric', 'max-throughput']) assert.ok(names.includes(n), n);
  const b = loadPreset('balanced', env);
  assert.deepEqual(b.panScan, { enabled: true, minRatioToActivate: 2.0, maxNumCrops: 6, minCropSize: 448 });
  assert.equal(b.topology.gpusPerReplica, 2);
  assert.equal(loadPreset('baseline', env).panScan.enabled, false);
  const d = loadPreset('doc-centric', env);
  assert.equal(d.panScan.maxNumCrops, 10);
  assert.equal(d.panScan.minRatioToActivate, 1.6);
  const m = loadPreset('max-throughput', env);
  assert.equal(m.topology.replicas, 'auto');
  assert.equal(m.panScan.minRatioToActivate, 2.5);
  assert.equal(m.panScan.maxNumCrops, 4);
  assert.equal(m.batching.policy, 'crop');
});

test('an unknown preset name lists the available ones', () => {
  assert.throws(() => loadPreset('nope', env), (e: unknown) => e instanceof PresetError && /balanced/.test((e as Error).message));
});

test('an invalid preset names the file and the field', () => {
  const f = join(env.GEMMA_BENCH_HOME, 'bad.json');
  writeFileSync(f, JSON.stringify({ name: 'bad', panScan: { enabled: true, maxNumCrops: -1 }, extra: 1 }));
  assert.throws(() => loadPreset(f, env), (e: unknown) => {
    const msg = (e as Error).message;
    return e instanceof PresetError && msg.includes(f) && /panScan\.maxNumCrops/.test(msg) && /extra/.test(msg);
  });
  writeFileSync(f, '{ not json');
  assert.throws(() => loadPreset(f, env), /not valid JSON/);
});
