import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPrompt, expandedImageText, IMAGE_SOFT_TOKEN_ID, PromptError, renderChatTemplate } from '../../src/panscan/prompt.js';
import { encode, promptInputIds } from '../../src/panscan/tokenizer.js';
import { FIXTURES_DIR, hasSharedPanscan, SHARED_PANSCAN_DIR } from '../helpers/repo.js';

interface IdCase { image: string; params: string; num_crops: number; input_ids: number[] }
const local = JSON.parse(readFileSync(join(FIXTURES_DIR, 'tokens', 'hf-input-ids.json'), 'utf8')) as { prompt_text: string; cases: IdCase[] };
const QUESTION = 'What is the total?';

test('the chat template renders exactly the fixture prompt text', () => {
  assert.equal(renderChatTemplate(QUESTION), local.prompt_text);
  assert.equal(renderChatTemplate(`  ${QUESTION}\n`), local.prompt_text, 'the template trims the text');
});

test('expanded image text has 256 soft tokens per entry and the HF wrapper words', () => {
  assert.equal(expandedImageText(0).split('<image_soft_token>').length - 1, 256);
  const t3 = expandedImageText(3);
  assert.equal(t3.split('<image_soft_token>').length - 1, 1024);
  assert.ok(t3.startsWith('Here is the original image \n\n<start_of_image>'));
  assert.ok(t3.includes('<end_of_image>\n\n and here are some crops to help you see better \n\n<start_of_image>'));
  assert.ok(t3.endsWith('<end_of_image>\n\n'), 'no trailing space after the last sequence');
});

test('input_ids equal HF Gemma3Processor for every crop count in the local fixtures', () => {
  for (const c of local.cases) {
    const ids = promptInputIds(QUESTION, c.num_crops);
    assert.deepEqual(ids, c.input_ids, `${c.image} ${c.params} k=${c.num_crops}`);
    assert.equal(ids.filter((i) => i === IMAGE_SOFT_TOKEN_ID).length, 256 * (1 + c.num_crops));
    assert.equal(ids[0], 2, 'one <bos>');
    assert.notEqual(ids[1], 2, 'not a second <bos>');
  }
});

test('token costs per image follow the spec: 259 with k=0 straight after user\\n, 276+261k with crops', () => {
  const textOnly = encode(`<bos><start_of_turn>user\n${QUESTION}<end_of_turn>\n<start_of_turn>model\n`).length;
  assert.equal(promptInputIds(QUESTION, 0).length - textOnly, 259);
  for (const k of [1, 2, 3, 4, 6]) assert.equal(promptInputIds(QUESTION, k).length - textOnly, 276 + 261 * k, `k=${k}`);
});

test('a prompt containing reserved image or turn tokens is refused', () => {
  assert.throws(() => buildPrompt('look <start_of_image> here', 0), PromptError);
  assert.throws(() => buildPrompt('<end_of_turn>', 0), /reserved token/);
});

test('input_ids equal HF over the whole shared fixture set', { skip: hasSharedPanscan() ? false : 'shared fixtures (../shared/fixtures/panscan) not present' }, () => {
  const idx = JSON.parse(readFileSync(join(SHARED_PANSCAN_DIR, 'index.json'), 'utf8')) as { prompt_text: string; cases: IdCase[] };
  assert.equal(renderChatTemplate(QUESTION), idx.prompt_text);
  for (const c of idx.cases) assert.deepEqual(promptInputIds(QUESTION, c.num_crops), c.input_ids, `${c.image} ${c.params}`);
  assert.ok(idx.cases.length >= 32);
});
