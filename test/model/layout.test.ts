// Unit tests of the layout checker over hand-written name lists (no model files, no onnxruntime).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkModelLayout, expectedIo, inferNumLayers, locateGraphFiles, readModelDirConfig, type GraphIoInfo } from '../../src/model/layout.js';

function conforming(numLayers: number): GraphIoInfo[] {
  const dec = expectedIo('decoder_model_merged', numLayers);
  return [
    { graph: 'vision_encoder', file: 'v.onnx', inputNames: ['pixel_values'], outputNames: ['image_features'] },
    { graph: 'embed_tokens', file: 'e.onnx', inputNames: ['input_ids'], outputNames: ['inputs_embeds'] },
    { graph: 'decoder_model_merged', file: 'd.onnx', inputNames: [...dec.inputs, ...dec.optionalInputs], outputNames: dec.outputs },
  ];
}

test('expectedIo lists per-layer names in export order', () => {
  const io = expectedIo('decoder_model_merged', 2);
  assert.deepEqual(io.inputs, ['inputs_embeds', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
  assert.deepEqual(io.optionalInputs, ['num_logits_to_keep']);
  assert.deepEqual(io.outputs, ['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value']);
});

test('a conforming layout has no problems, with or without num_logits_to_keep, with the layer count inferred', () => {
  assert.deepEqual(checkModelLayout(conforming(34)), []);
  assert.deepEqual(checkModelLayout(conforming(34), { numLayers: 34 }), []);
  const g = conforming(3);
  const withoutKeep = g.map((x) => (x.graph === 'decoder_model_merged' ? { ...x, inputNames: x.inputNames.filter((n) => n !== 'num_logits_to_keep') } : x));
  assert.deepEqual(checkModelLayout(withoutKeep), []);
  assert.equal(inferNumLayers(g[2].inputNames), 3);
});

test('each problem names the graph, the file and the name', () => {
  const g = conforming(2);
  g[0] = { ...g[0], inputNames: ['pixels'] };
  g[2] = {
    ...g[2],
    inputNames: g[2].inputNames.filter((n) => n !== 'past_key_values.1.value').concat('use_cache_branch'),
    outputNames: g[2].outputNames.filter((n) => n !== 'present.0.key'),
  };
  const problems = checkModelLayout(g, { numLayers: 2 });
  assert.deepEqual(problems.sort(), [
    'decoder_model_merged (d.onnx): missing input "past_key_values.1.value"',
    'decoder_model_merged (d.onnx): missing output "present.0.key"',
    'decoder_model_merged (d.onnx): unexpected input "use_cache_branch"',
    'vision_encoder (v.onnx): missing input "pixel_values"',
    'vision_encoder (v.onnx): unexpected input "pixels"',
  ]);
});

test('wrong layer count, missing graphs, text-only and element types', () => {
  assert.ok(checkModelLayout(conforming(2), { numLayers: 3 }).includes('decoder_model_merged (d.onnx): missing input "past_key_values.2.key"'));
  assert.deepEqual(checkModelLayout(conforming(2).slice(1)), ['vision_encoder: graph missing (no vision_encoder.onnx loaded)']);
  assert.deepEqual(checkModelLayout(conforming(2).slice(1), { textOnly: true }), []);
  const typed = conforming(1).map((x) =>
    x.graph === 'embed_tokens' ? { ...x, inputMetadata: [{ name: 'input_ids', isTensor: true, type: 'int32' }], outputMetadata: [{ name: 'inputs_embeds', isTensor: true, type: 'float16' }] } : x,
  );
  assert.deepEqual(checkModelLayout(typed), ['embed_tokens (e.onnx): input "input_ids" has type int32, expected int64']);
});

test('locateGraphFiles finds top-level or onnx/ files with a dtype suffix; readModelDirConfig reads HF configs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gemma-bench-layout-'));
  try {
    await mkdir(join(dir, 'onnx'));
    for (const g of ['vision_encoder', 'embed_tokens', 'decoder_model_merged']) await writeFile(join(dir, 'onnx', `${g}_q4f16.onnx`), '');
    const hit = locateGraphFiles(dir, { suffix: '_q4f16' });
    assert.deepEqual(hit.problems, []);
    assert.equal(hit.files.decoder_model_merged, join(dir, 'onnx', 'decoder_model_merged_q4f16.onnx'));
    const miss = locateGraphFiles(dir);
    assert.equal(miss.problems.length, 3);
    assert.match(miss.problems[0], /vision_encoder: no vision_encoder\.onnx in /);

    assert.match(readModelDirConfig(dir).problems[0], /cannot read config\.json/);
    // The 4B Hub config lists only a few text fields; the rest are Gemma3TextConfig defaults.
    await writeFile(join(dir, 'config.json'), JSON.stringify({ model_type: 'gemma3', text_config: { hidden_size: 2560, num_hidden_layers: 34 } }));
    const { config, problems } = readModelDirConfig(dir);
    assert.deepEqual(problems, []);
    assert.deepEqual(config, {
      numLayers: 34,
      numKvHeads: 4,
      headDim: 256,
      hiddenSize: 2560,
      vocabSize: 262_208,
      imageTokenId: 262_144,
      mmTokensPerImage: 256,
      textOnly: false,
      randomWeights: false,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
