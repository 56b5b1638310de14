// `gemma-bench panscan` as a user runs it: the real binary on real files, including every kind of bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { crc32, deflateSync } from 'node:zlib';
import { FIXTURES_DIR } from '../../helpers/repo.js';
import { homeWith } from '../../helpers/cli-run.js';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A structurally valid 8-bit gray PNG that claims width x height but carries one row of data. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(width + 1))), chunk('IEND', Buffer.alloc(0))]);
}

const receipt = join(FIXTURES_DIR, 'panscan', 'images', 'receipt_600x2000.png');
const a4 = join(FIXTURES_DIR, 'panscan', 'images', 'a4_1240x1754.png');

test('defaults are HF pan-and-scan on (1.2/4/256); text output shows size, boxes, crops, tokens and time', async () => {
  const h = await homeWith([]);
  const r = h.cli(['panscan', receipt, '--prompt', 'What is the total?', '--threads', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /pan-and-scan on: min ratio 1\.2, max crops 4, min crop size 256 px \(HF defaults\)/);
  assert.match(r.stdout, /size 600x2000 {2}crops 3 {2}\(0,0 600x667\) \(0,667 600x667\) \(0,1334 600x666\)/);
  assert.match(r.stdout, /image tokens 1024 {2}prompt tokens 1073 {2}preprocess \d+\.\d ms/);
});

test('--json prints one array with the documented fields; input ids only with --prompt', async () => {
  const h = await homeWith([]);
  const r = h.cli(['panscan', receipt, a4, '--preset', 'balanced', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  assert.equal(out.length, 2);
  assert.deepEqual(Object.keys(out[0]).sort(), ['crops', 'height', 'image', 'imageTokens', 'numCrops', 'preprocessMs', 'width'].sort());
  assert.equal(out[0].numCrops, 3);
  assert.equal(out[1].numCrops, 0, 'A4 does not reach the balanced ratio 2.0');
  assert.equal(out[1].imageTokens, 256);
  const withPrompt = JSON.parse(h.cli(['panscan', receipt, '--json', '--prompt', 'What is the total?']).stdout) as Array<{ inputIds: number[]; promptTokens: number }>;
  assert.equal(withPrompt[0].promptTokens, 1073);
  assert.equal(withPrompt[0].inputIds.length, 1073);
  const hf = JSON.parse(readFileSync(join(FIXTURES_DIR, 'tokens', 'hf-input-ids.json'), 'utf8')) as { cases: { num_crops: number; input_ids: number[] }[] };
  assert.deepEqual(withPrompt[0].inputIds, hf.cases.find((c) => c.num_crops === 3)!.input_ids);
});

test('explicit knobs override the preset, and a disabled preset is switched on by a knob', async () => {
  const h = await homeWith([]);
  const over = JSON.parse(h.cli(['panscan', a4, '--preset', 'balanced', '--min-ratio', '1.2', '--min-crop-size', '256', '--json']).stdout) as Array<{ numCrops: number }>;
  assert.equal(over[0].numCrops, 2);
  const off = JSON.parse(h.cli(['panscan', receipt, '--preset', 'baseline', '--json']).stdout) as Array<{ numCrops: number }>;
  assert.equal(off[0].numCrops, 0);
  const on = JSON.parse(h.cli(['panscan', receipt, '--preset', 'baseline', '--max-crops', '2', '--json']).stdout) as Array<{ numCrops: number }>;
  assert.equal(on[0].numCrops, 2);
});

test('--out writes the whole image, each crop as the exact 896x896 the tensor encodes, and a crop grid', async () => {
  const h = await homeWith([]);
  const out = join(h.home, 'out');
  const r = h.cli(['panscan', receipt, '--out', out, '--threads', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['receipt_600x2000.0.png', 'receipt_600x2000.1.png', 'receipt_600x2000.2.png', 'receipt_600x2000.3.png', 'receipt_600x2000.grid.png']);
  for (let i = 0; i <= 3; i++) {
    const m = await sharp(join(out, `receipt_600x2000.${i}.png`)).metadata();
    assert.deepEqual([m.width, m.height, m.channels], [896, 896, 3]);
  }
  const grid = await sharp(join(out, 'receipt_600x2000.grid.png')).metadata();
  assert.deepEqual([grid.width, grid.height], [600, 2000]);
  // The whole-image entry matches HF's reference within 1 level (the committed fixture refs).
  const idx = JSON.parse(readFileSync(join(FIXTURES_DIR, 'panscan', 'index.json'), 'utf8')) as { cases: { image: string; params: string; outputs: string[] }[] };
  const c = idx.cases.find((x) => x.image.includes('receipt') && x.params === 'hf-default')!;
  const ours = await sharp(join(out, 'receipt_600x2000.1.png')).raw().toBuffer();
  const ref = await sharp(join(FIXTURES_DIR, 'panscan', c.outputs[1])).removeAlpha().raw().toBuffer();
  let maxDiff = 0;
  for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - ref[i]));
  assert.ok(maxDiff <= 1, `max diff ${maxDiff}`);
});

test('bad images each get a clear message naming the file; the good images are still processed; exit 1; missing paths are a usage error (2)', async () => {
  const h = await homeWith([]);
  const d = join(h.home, 'bad');
  mkdirSync(d);
  const good = receipt;
  const missing = join(d, 'missing.png');
  const dir = join(d, 'folder.png');
  mkdirSync(dir);
  const empty = join(d, 'empty.png');
  writeFileSync(empty, '');
  const truncated = join(d, 'truncated.png');
  const png = readFileSync(a4);
  writeFileSync(truncated, png.subarray(0, png.length >> 1));
  const text = join(d, 'notes.png');
  writeFileSync(text, 'this is a text file, not an image\n');
  const tiny = join(d, 'one.png');
  await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toFile(tiny);
  // A decompression bomb: a PNG declaring 20000x20000 pixels in a file of a few dozen bytes.
  const bomb = join(d, 'bomb.png');
  writeFileSync(bomb, pngHeaderOnly(20000, 20000));

  // Paths that are not files are a mistake in the command: exit 2 before any work, each named.
  const absent = h.cli(['panscan', missing, good, dir, '--json']);
  assert.equal(absent.code, 2, absent.stderr);
  assert.match(absent.stderr, /missing\.png: file not found/);
  assert.match(absent.stderr, /folder\.png: is a directory, not an image file/);
  assert.equal(absent.stdout, '');

  const r = h.cli(['panscan', good, empty, truncated, text, tiny, bomb, '--json']);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout) as Array<{ image: string; error?: string; numCrops?: number; width?: number }>;
  const by = (f: string) => out.find((o) => o.image === f)!;
  assert.equal(out.length, 6);
  assert.equal(by(good).numCrops, 3);
  assert.equal(by(tiny).width, 1, 'a 1x1 image is valid');
  for (const [f, re] of [
    [empty, /empty|zero|0 bytes/i],
    [truncated, /truncated/i],
    [text, /not an? (image|PNG)|despite its \.png name/i],
    [bomb, /pixels.*limit.*--pixel-limit/i],
  ] as const) {
    const e = by(f).error;
    assert.ok(e, `${f} should fail`);
    assert.ok(e.includes(f.split('/').pop()!), `message names the file: ${e}`);
    assert.match(e, re);
  }
  const plain = h.cli(['panscan', empty, good]);
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /empty\.png/);
  assert.match(plain.stderr, /1 of 2 image\(s\) failed/);
  assert.match(plain.stdout, /receipt_600x2000\.png/);
  // --pixel-limit raises the limit (the bomb is then decoded, just slowly) — here lowered to refuse the receipt.
  const low = h.cli(['panscan', good, '--pixel-limit', '1000', '--json']);
  assert.equal(low.code, 1);
  assert.match(low.stdout, /over the limit of 1,?000/);
});

test('usage errors exit 2 with a message saying what to do', async () => {
  const h = await homeWith([]);
  for (const [args, re] of [
    [['panscan'], /give at least one image/],
    [['panscan', receipt, '--max-crops', '0'], /--max-crops must be an integer >= 1/],
    [['panscan', receipt, '--min-ratio', 'abc'], /--min-ratio must be a number/],
    [['panscan', receipt, '--exif-orientation', 'sideways'], /--exif-orientation must be one of apply, ignore/],
    [['panscan', receipt, '--preset', 'nope'], /unknown preset "nope"/],
    [['panscan', receipt, '--bogus'], /Unknown option '--bogus'[\s\S]*--help/],
  ] as const) {
    const r = h.cli([...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const help = h.cli(['panscan', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--exif-orientation apply\|ignore/);
});
