// The transformers backend's definition: its flags reach the run command generically (through the registry), the
// preset's engine knobs are its defaults, and invalid combinations are configuration errors (exit code 2) that say
// what to do.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../../src/cli/args.js';
import { overridesFromFlags, RUN_OPTIONS } from '../../../../src/cli/run-flags.js';
import { ConfigError } from '../../../../src/config/errors.js';
import { loadPreset } from '../../../../src/config/load-preset.js';
import { resolveRunSpec } from '../../../../src/config/resolve-run-spec.js';
import type { ParsedValues } from '../../../../src/cli/args.js';
import { transformersDefinition, TRANSFORMERS_FIELDS } from '../../../../src/engine/backends/transformers/definition.js';
import { TransformersBackend, TransformersBackendError, validateOptions } from '../../../../src/engine/backends/transformers/index.js';
import { createBackend } from '../../../../src/engine/prepare.js';
import { collectLog, tempDir } from './helpers.js';

/** The backend `gemma-bench run --backend transformers ...flags` would create (nothing is started). */
async function fromFlags(flags: ParsedValues, env?: NodeJS.ProcessEnv, preset = 'balanced') {
  const spec = resolveRunSpec(loadPreset(preset), overridesFromFlags({ backend: 'transformers', ...flags }));
  return createBackend(spec, collectLog().log, env);
}

describe('transformers flags', () => {
  it('are offered by the run command as declared beside the backend', () => {
    for (const f of TRANSFORMERS_FIELDS) {
      assert.ok(RUN_OPTIONS[f.flag], f.flag);
      assert.equal(RUN_OPTIONS[f.flag].type, 'string');
    }
    for (const name of ['dtype', 'attention', 'kv-cache']) assert.ok(RUN_OPTIONS[name], `${name}: the preset's engine knobs`);
  });

  it('builds a random-weight backend with the preset knobs as defaults', async () => {
    const b = await fromFlags({ weights: 'random', 'model-size': '27b', 'kv-cache': 'static', attention: 'eager' });
    assert.ok(b instanceof TransformersBackend);
    const m = b.model();
    assert.equal(m.randomWeights, true);
    assert.equal(m.name, 'gemma-3-27b');
    assert.match(m.label, /random weights: speed only/);
    assert.equal(m.details.attention, 'eager');
    assert.equal(m.details.kvCache, 'static'); // the flag wins over the preset's dynamic
    assert.equal(m.details.dtype, 'bf16'); // the preset's
    assert.equal(m.details.preprocess, 'ts');
    assert.equal(m.details.parameters, 27.432e9);
  });

  it('--model-size alone implies random weights', async () => {
    assert.equal((await fromFlags({ 'model-size': '4b' })).model().randomWeights, true);
  });

  it('refuses incomplete or contradictory flags as configuration errors that say what to do', async () => {
    const config = (re: RegExp) => (e: Error) => e instanceof ConfigError && re.test(e.message);
    await assert.rejects(fromFlags({}), config(/needs --model .*--weights random --model-size/));
    await assert.rejects(fromFlags({ model: 'tiny' }), ConfigError);
    await assert.rejects(fromFlags({ weights: 'random' }), /--model-size 4b\|12b\|27b/);
    await assert.rejects(fromFlags({ weights: 'random', 'model-size': '27b', model: 'google/gemma-3-27b-it' }), /give --model-size instead of --model/);
    await assert.rejects(fromFlags({ weights: 'random', 'model-size': '27b', preprocess: 'hf' }), /--processor DIR.*Use --preprocess ts instead/s);
    await assert.rejects(fromFlags({ weights: 'random', 'model-size': '27b', attention: 'flash_attention_2', dtype: 'fp32' }), /bf16 or fp16 only/);
    await assert.rejects(fromFlags({ model: './no/such/dir' }), /no such directory/);
    await assert.rejects(fromFlags({ model: 'google/gemma-3-4b-it', 'model-size': '4b', weights: 'pretrained' }), /applies to --weights random only/);
  });

  it('checks each value against its field before anything is created, naming the flag', async () => {
    await assert.rejects(fromFlags({ weights: 'random', 'model-size': '30b' }), config(/--model-size must be one of 4b, 12b, 27b \(got "30b"\)/));
    await assert.rejects(fromFlags({ weights: 'random', 'model-size': '4b', 'max-cache-len': '64' }), config(/--max-cache-len must be an integer >= 256 \(got 64\)/));
    assert.throws(() => overridesFromFlags({ backend: 'transformers', 'max-cache-len': 'lots' }), (e: Error) => e instanceof UsageError && /--max-cache-len must be an integer >= 256 \(got "lots"\)/.test(e.message));
    function config(re: RegExp) {
      return (e: Error) => e instanceof ConfigError && re.test(e.message);
    }
  });

  it('--worker-timeout S reaches the backend (default 1800 s, 0 turns it off, negative refused)', async () => {
    assert.equal((await fromFlags({ 'model-size': '27b', 'worker-timeout': '45' })).model().details.workerTimeoutS, 45);
    assert.equal((await fromFlags({ 'model-size': '27b', 'worker-timeout': '0' })).model().details.workerTimeoutS, 0);
    assert.equal((await fromFlags({ 'model-size': '27b' })).model().details.workerTimeoutS, 1800);
    await assert.rejects(fromFlags({ 'model-size': '27b', 'worker-timeout': '-1' }), (e: Error) => e instanceof ConfigError && /--worker-timeout must be a number >= 0 \(got -1\)/.test(e.message));
  });

  it('a transformers flag given to another backend names the backend that takes it', () => {
    assert.throws(() => overridesFromFlags({ weights: 'random' }), /--weights applies to --backend transformers, not to the onnx backend/);
    assert.throws(() => overridesFromFlags({ backend: 'transformers', ep: 'cuda' }), /--ep applies to --backend onnx, not to the transformers backend/);
  });

  it('accepts hf preprocessing of random weights with a local processor directory', async () => {
    const dir = tempDir('proc');
    const cfg = validateOptions({ log: collectLog().log, weights: 'random', modelSize: '12b', preprocess: 'hf', processor: dir });
    assert.equal(cfg.processor, dir);
    assert.throws(() => validateOptions({ log: collectLog().log, weights: 'random', modelSize: '12b', preprocess: 'hf', processor: `${dir}/missing` }), TransformersBackendError);
  });

  it('takes a Hub id as is and describes it', async () => {
    const b = (await fromFlags({ model: 'google/gemma-3-27b-it', dtype: 'fp16', python: '/opt/venv/bin/python' })) as TransformersBackend;
    const m = b.model();
    assert.equal(m.name, 'google/gemma-3-27b-it');
    assert.equal(m.path, null);
    assert.equal(m.randomWeights, false);
    assert.match(m.label, /google\/gemma-3-27b-it \(transformers, fp16, sdpa, dynamic KV cache\)/);
    assert.equal(b.pythonPath, '/opt/venv/bin/python');
  });

  it('picks the interpreter from GEMMA_BENCH_PYTHON when --python is not given', async () => {
    const b = (await fromFlags({ weights: 'random', 'model-size': '4b' }, { GEMMA_BENCH_PYTHON: '/usr/local/bin/python3.12' })) as TransformersBackend;
    assert.equal(b.pythonPath, '/usr/local/bin/python3.12');
    const c = (await transformersDefinition.create({ modelSize: '4b' }, { log: collectLog().log, env: {}, engine: { dtype: 'bf16', attention: 'sdpa', kvCache: 'dynamic' }, batchSize: 1, seed: 0 })) as TransformersBackend;
    assert.equal(c.pythonPath, 'python3');
  });
});
