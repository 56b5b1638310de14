// The flags the run command merges in, and how invalid combinations are refused (usage errors, exit code 2).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../../src/cli/args.js';
import { createTransformersBackendFromFlags, transformersRunOptions, TransformersBackend, TransformersBackendError, validateOptions } from '../../../../src/engine/backends/transformers/index.js';
import { RUN_OPTIONS } from '../../../../src/cli/run-flags.js';
import { collectLog, tempDir } from './helpers.js';

describe('transformers flags', () => {
  it('adds its own flags without clashing with the run command', () => {
    const specs = transformersRunOptions();
    for (const name of ['weights', 'model-size', 'dtype', 'attention', 'kv-cache', 'max-cache-len', 'preprocess', 'python', 'processor']) {
      assert.ok(specs[name], name);
      assert.equal(specs[name].type, 'string');
      // Once the run command merges these flags in, they must be these very specs, not a different flag of that name.
      if (name in RUN_OPTIONS) assert.deepEqual(RUN_OPTIONS[name], specs[name], `--${name} means something else to the run command`);
    }
  });

  it('builds a random-weight backend with the preset knobs as defaults', async () => {
    const { log } = collectLog();
    const b = await createTransformersBackendFromFlags({ weights: 'random', 'model-size': '27b', 'kv-cache': 'static' }, log, {
      engine: { dtype: 'bf16', attention: 'eager', kvCache: 'dynamic' },
      batchSize: 4,
    });
    assert.ok(b instanceof TransformersBackend);
    const m = b.model();
    assert.equal(m.randomWeights, true);
    assert.equal(m.name, 'gemma-3-27b');
    assert.match(m.label, /random weights: speed only/);
    assert.equal(m.details.attention, 'eager'); // from the preset
    assert.equal(m.details.kvCache, 'static'); // the flag wins
    assert.equal(m.details.preprocess, 'ts');
    assert.equal(m.details.parameters, 27.432e9);
  });

  it('--model-size alone implies random weights', async () => {
    const b = await createTransformersBackendFromFlags({ 'model-size': '4b' }, collectLog().log);
    assert.equal(b.model().randomWeights, true);
  });

  it('refuses incomplete or contradictory flags as usage errors that say what to do', async () => {
    const log = collectLog().log;
    await assert.rejects(createTransformersBackendFromFlags({}, log), (e: Error) => e instanceof UsageError && /needs --model .*--weights random --model-size/.test(e.message));
    await assert.rejects(createTransformersBackendFromFlags({ model: 'tiny' }, log), UsageError);
    await assert.rejects(createTransformersBackendFromFlags({ weights: 'random' }, log), /--model-size 4b\|12b\|27b/);
    await assert.rejects(createTransformersBackendFromFlags({ weights: 'random', 'model-size': '27b', model: 'google/gemma-3-27b-it' }, log), /give --model-size instead of --model/);
    await assert.rejects(createTransformersBackendFromFlags({ weights: 'random', 'model-size': '27b', preprocess: 'hf' }, log), /--processor DIR.*Use --preprocess ts instead/s);
    await assert.rejects(createTransformersBackendFromFlags({ weights: 'random', 'model-size': '27b', attention: 'flash_attention_2', dtype: 'fp32' }, log), /bf16 or fp16 only/);
    await assert.rejects(createTransformersBackendFromFlags({ weights: 'random', 'model-size': '30b' }, log), /--model-size must be one of 4b, 12b, 27b/);
    await assert.rejects(createTransformersBackendFromFlags({ model: './no/such/dir' }, log), /no such directory/);
    await assert.rejects(createTransformersBackendFromFlags({ model: 'google/gemma-3-4b-it', 'model-size': '4b', weights: 'pretrained' }, log), /applies to --weights random only/);
    await assert.rejects(createTransformersBackendFromFlags({ weights: 'random', 'model-size': '4b', 'max-cache-len': '64' }, log), /--max-cache-len must be an integer >= 256/);
  });

  it('accepts hf preprocessing of random weights with a local processor directory', async () => {
    const dir = tempDir('proc');
    const cfg = validateOptions({ log: collectLog().log, weights: 'random', modelSize: '12b', preprocess: 'hf', processor: dir });
    assert.equal(cfg.processor, dir);
    assert.throws(() => validateOptions({ log: collectLog().log, weights: 'random', modelSize: '12b', preprocess: 'hf', processor: `${dir}/missing` }), TransformersBackendError);
  });

  it('takes a Hub id as is and describes it', async () => {
    const b = await createTransformersBackendFromFlags({ model: 'google/gemma-3-27b-it', dtype: 'fp16', python: '/opt/venv/bin/python' }, collectLog().log);
    const m = b.model();
    assert.equal(m.name, 'google/gemma-3-27b-it');
    assert.equal(m.path, null);
    assert.equal(m.randomWeights, false);
    assert.match(m.label, /google\/gemma-3-27b-it \(transformers, fp16, sdpa, dynamic KV cache\)/);
    assert.equal(b.pythonPath, '/opt/venv/bin/python');
  });

  it('picks the interpreter from GEMMA_BENCH_PYTHON when --python is not given', async () => {
    const b = await createTransformersBackendFromFlags({ weights: 'random', 'model-size': '4b' }, collectLog().log, { env: { GEMMA_BENCH_PYTHON: '/usr/local/bin/python3.12' } });
    assert.equal(b.pythonPath, '/usr/local/bin/python3.12');
    const c = await createTransformersBackendFromFlags({ weights: 'random', 'model-size': '4b' }, collectLog().log, { env: {} });
    assert.equal(c.pythonPath, 'python3');
  });
});
