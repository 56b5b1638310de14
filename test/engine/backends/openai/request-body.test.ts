import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chatBodyObject, chatBodyTemplate, mmProcessorKwargs, urlNeedsNoEscape, type BodyOptions } from '../../../../src/engine/backends/openai/request-body.js';
import type { PreprocessSettings } from '../../../../src/panscan/preprocess.js';

const balanced: PreprocessSettings = { panScan: { minRatioToActivate: 2.0, maxNumCrops: 6, minCropSize: 448 }, exifOrientation: 'ignore', pixelLimit: 89_478_485 };
const off: PreprocessSettings = { panScan: null, exifOrientation: 'ignore', pixelLimit: 89_478_485 };
const URL = 'data:image/png;base64,iVBORw0KGgo=';
const req = { model: 'google/gemma-3-27b-it', prompt: 'What is the total?', maxNewTokens: 256, preprocess: balanced };

describe('chat completions request body', () => {
  it('is exactly the body vLLM expects for a pan-and-scan image request (image first, then text)', () => {
    const body = chatBodyObject(req, URL);
    assert.equal(
      JSON.stringify(body),
      JSON.stringify({
        model: 'google/gemma-3-27b-it',
        stream: true,
        stream_options: { include_usage: true },
        max_completion_tokens: 256,
        ignore_eos: true,
        temperature: 0,
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: URL } }, { type: 'text', text: 'What is the total?' }] }],
        mm_processor_kwargs: { do_pan_and_scan: true, pan_and_scan_min_crop_size: 448, pan_and_scan_max_num_crops: 6, pan_and_scan_min_ratio_to_activate: 2.0 },
      }),
    );
  });

  it('turns pan-and-scan off explicitly', () => {
    assert.deepEqual(mmProcessorKwargs(off), { do_pan_and_scan: false });
    assert.deepEqual(chatBodyObject({ ...req, preprocess: off }, URL).mm_processor_kwargs, { do_pan_and_scan: false });
  });

  it('drops ignore_eos, stream_options and mm_processor_kwargs and uses max_tokens on request (transformers serve)', () => {
    const opts: BodyOptions = { ignoreEos: false, maxTokensField: 'max_tokens', includeUsage: false, mmProcessorKwargs: false };
    const body = chatBodyObject(req, URL, opts);
    assert.deepEqual(Object.keys(body), ['model', 'stream', 'max_tokens', 'temperature', 'messages']);
    assert.equal(body.max_tokens, 256);
  });

  it('merges extraBody last', () => {
    const body = chatBodyObject(req, URL, { ignoreEos: true, maxTokensField: 'max_completion_tokens', includeUsage: true, mmProcessorKwargs: true, extraBody: { temperature: 0.7, top_k: 1, stream_options: { include_usage: true, continuous_usage_stats: true } } });
    assert.equal(body.temperature, 0.7);
    assert.equal(body.top_k, 1);
    assert.deepEqual(body.stream_options, { include_usage: true, continuous_usage_stats: true });
  });

  it('prefix + URL + suffix is the JSON of the body, for any URL that needs no escaping', () => {
    const t = chatBodyTemplate(req);
    assert.equal(t.prefix + URL + t.suffix, JSON.stringify(chatBodyObject(req, URL)));
    assert.equal(urlNeedsNoEscape(URL), true);
    assert.equal(urlNeedsNoEscape('http://x/"a"'), false);
    assert.throws(() => chatBodyTemplate(req, { ignoreEos: true, maxTokensField: 'max_tokens', includeUsage: true, mmProcessorKwargs: true, extraBody: { messages: [] } }), /must not replace/);
  });
});
