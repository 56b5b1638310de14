// Tests for src/panscan/decode.ts: byte-exact parity with Pillow 9.4's convert("RGB") on committed fixtures
// (made offline by test/fixtures/decode/make.py), images generated here with sharp, and every bad-input error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { decodeImage, decodeImageFile, ImageDecodeError, readImageFile, type DecodedImage } from '../../src/panscan/decode.js';
import { DEFAULT_PIXEL_LIMIT } from '../../src/panscan/types.js';
import { asNobodyOptions, isRoot, nobodyCannotRun } from '../helpers/nobody.js';

// Compiled to dist/test/panscan/, so the sources are three levels up.
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const FIXTURES = join(REPO_ROOT, 'test/fixtures/decode');
const SHARED_IMAGES = '/work/shared/fixtures/panscan';

interface FixtureCase {
  file: string;
  orientation: 'ignore' | 'apply';
  pillowMode: string;
  width: number;
  height: number;
  rgb: string;
  note?: string;
}
interface Expected {
  pillow: string;
  cases: FixtureCase[];
  generatedSha256: Record<string, string>;
}
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Expected;

const scratch = await mkdtemp(join(tmpdir(), 'gemma-bench-decode-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

// ---- helpers -------------------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}
/** A PNG written by hand: any declared size (bombs) and 16-bit samples, which sharp's encoder makes awkward. */
function handPng(width: number, height: number, bitDepth: 8 | 16, colourType: number, idat: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(bitDepth, 8);
  ihdr.writeUInt8(colourType, 9);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
/** Big-endian 16-bit samples into PNG scanlines with filter type 0. */
function png16Idat(width: number, height: number, channels: number, sample: (x: number, y: number, c: number) => number): Buffer {
  const stride = 1 + width * channels * 2;
  const raw = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) raw.writeUInt16BE(sample(x, y, c), y * stride + 1 + (x * channels + c) * 2);
    }
  }
  return deflateSync(raw);
}
/** A baseline uncompressed CMYK TIFF (Photometric=separated), which sharp does not write from raw input. */
function cmykTiff(width: number, height: number, pixels: Buffer, bitsPerSample: 8 | 16 = 8): Buffer {
  const entries: Array<[tag: number, type: number, count: number, value: number]> = [];
  const ifdOffset = 8;
  const nEntries = 11;
  const bitsOffset = ifdOffset + 2 + nEntries * 12 + 4;
  const dataOffset = bitsOffset + 8;
  entries.push([256, 3, 1, width], [257, 3, 1, height], [258, 3, 4, bitsOffset], [259, 3, 1, 1], [262, 3, 1, 5]);
  entries.push([273, 4, 1, dataOffset], [277, 3, 1, 4], [278, 3, 1, height], [279, 4, 1, pixels.length], [284, 3, 1, 1]);
  entries.push([332, 3, 1, 1]);
  const head = Buffer.alloc(dataOffset);
  head.write('II*\0', 0, 'latin1');
  head.writeUInt32LE(ifdOffset, 4);
  head.writeUInt16LE(nEntries, ifdOffset);
  entries.forEach(([tag, type, count, value], i) => {
    const at = ifdOffset + 2 + i * 12;
    head.writeUInt16LE(tag, at);
    head.writeUInt16LE(type, at + 2);
    head.writeUInt32LE(count, at + 4);
    if (type === 3 && count === 1) head.writeUInt16LE(value, at + 8);
    else head.writeUInt32LE(value, at + 8);
  });
  for (let i = 0; i < 4; i++) head.writeUInt16LE(bitsPerSample, bitsOffset + i * 2);
  return Buffer.concat([head, pixels]);
}
function noise(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  let s = seed >>> 0;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    b[i] = s >>> 24;
  }
  return b;
}
function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}
function diffCount(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) n++;
  return n;
}
function assertRgb(got: DecodedImage, want: Uint8Array, label: string): void {
  assert.equal(got.data.length, got.width * got.height * 3, `${label}: data length`);
  const n = diffCount(got.data, want);
  assert.equal(n, 0, `${label}: ${n} of ${want.length} bytes differ`);
}
/** Expects an ImageDecodeError with this reason; returns it for message checks. */
async function rejectsWith(p: Promise<unknown>, reason: string): Promise<ImageDecodeError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ImageDecodeError, `expected ImageDecodeError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    return err;
  }
  assert.fail(`expected an ImageDecodeError (${reason}), but decoding succeeded`);
}
async function scratchFile(name: string, bytes: Buffer | string): Promise<string> {
  const p = join(scratch, name);
  await writeFile(p, bytes);
  return p;
}

// ---- parity with Pillow on committed fixtures -----------------------------------------------------------------

test(`fixtures match Pillow ${expected.pillow} convert("RGB") byte for byte`, async (t) => {
  assert.ok(expected.cases.length >= 40);
  for (const c of expected.cases) {
    await t.test(`${c.file} (${c.pillowMode}, orientation ${c.orientation})`, async () => {
      const got = await decodeImageFile(join(FIXTURES, c.file), { exifOrientation: c.orientation });
      assert.equal(got.width, c.width);
      assert.equal(got.height, c.height);
      assertRgb(got, Buffer.from(c.rgb, 'base64'), c.file);
    });
  }
});

test('the ICC fixture would fail if the profile were applied (sharp colour-manages by default)', async () => {
  const c = expected.cases.find((x) => x.file === 'p3.png');
  assert.ok(c);
  const managed = await sharp(join(FIXTURES, 'p3.png')).removeAlpha().raw().toBuffer();
  assert.ok(diffCount(managed, Buffer.from(c.rgb, 'base64')) > 100, 'default sharp output should differ from Pillow');
  const meta = await sharp(join(FIXTURES, 'p3.png')).metadata();
  assert.equal(meta.hasProfile, true);
});

test('sourceMode and format describe the stored image', async () => {
  const modes: Record<string, [string, string]> = {
    'cmyk-adobe.jpg': ['jpeg', 'cmyk'], 'cmyk.tif': ['tiff', 'cmyk'], 'rgb16.png': ['png', 'rgb16'],
    'rgba16.png': ['png', 'rgba16'], 'gray16.png': ['png', 'gray16'], 'gray16a.png': ['png', 'gray16+alpha'],
    'rgba.png': ['png', 'rgba'], 'gray.png': ['png', 'gray'], 'gray-alpha.png': ['png', 'gray+alpha'],
    'palette-trns.png': ['png', 'palette'], 'palette-trns.gif': ['gif', 'palette'], 'anim.webp': ['webp', 'rgba'],
    'rgb420.jpg': ['jpeg', 'rgb'], 'gray.jpg': ['jpeg', 'gray'], 'rgb.tif': ['tiff', 'rgb'],
  };
  for (const [file, [format, mode]] of Object.entries(modes)) {
    const got = await decodeImageFile(join(FIXTURES, file));
    assert.deepEqual([got.format, got.sourceMode], [format, mode], file);
  }
});

test("CMYK: every (C, K) pair through Pillow's formula (digest from make.py)", async () => {
  const px = Buffer.alloc(256 * 256 * 4);
  for (let y = 0; y < 256; y++) {
    for (let x = 0; x < 256; x++) {
      const o = (y * 256 + x) * 4;
      px[o] = x;
      px[o + 1] = 255 - x;
      px[o + 2] = (7 * x + y) % 256;
      px[o + 3] = y;
    }
  }
  const got = await decodeImage(cmykTiff(256, 256, px), {}, 'cmyk-all.tif');
  assert.equal(got.sourceMode, 'cmyk');
  assert.equal(sha256(got.data), expected.generatedSha256['cmyk-all']);
});

test('16-bit CMYK TIFF: the high byte of each channel, then the CMYK formula', async () => {
  const px8 = noise(W * H * 4, 12);
  const px16 = Buffer.alloc(px8.length * 2);
  // Low bytes of noise must not leak into the result.
  for (let i = 0; i < px8.length; i++) px16.writeUInt16LE(px8[i] * 256 + ((i * 37) & 0xff), i * 2);
  const got8 = await decodeImage(cmykTiff(W, H, px8), {}, 'cmyk8.tif');
  const got16 = await decodeImage(cmykTiff(W, H, px16, 16), {}, 'cmyk16.tif');
  assert.equal(got16.sourceMode, 'cmyk');
  assertRgb(got16, got8.data, 'cmyk16');
});

test('16-bit RGB: every value takes the high byte, as Pillow (digest from make.py)', async () => {
  const v = (x: number, y: number) => y * 256 + x;
  const idat = png16Idat(256, 256, 3, (x, y, c) => [v(x, y), 65535 - v(x, y), (7 * v(x, y)) & 0xffff][c]);
  const got = await decodeImage(handPng(256, 256, 16, 2, idat), {}, 'rgb16-all.png');
  assert.equal(got.sourceMode, 'rgb16');
  assert.equal(sha256(got.data), expected.generatedSha256['rgb16-all']);
});

test('16-bit gray: high byte, not Pillow\'s clip to white', async () => {
  const idat = png16Idat(256, 256, 1, (x, y) => y * 256 + x);
  const got = await decodeImage(handPng(256, 256, 16, 0, idat), {}, 'gray16-all.png');
  assert.equal(got.sourceMode, 'gray16');
  for (let i = 0; i < 65536; i++) {
    const want = i >> 8;
    if (got.data[3 * i] !== want || got.data[3 * i + 1] !== want || got.data[3 * i + 2] !== want) {
      assert.fail(`value ${i}: got ${got.data.subarray(3 * i, 3 * i + 3).join(',')}, want ${want}`);
    }
  }
});

// ---- modes, generated here with sharp ------------------------------------------------------------------------

const W = 23;
const H = 17;

test('8-bit RGB PNG, WebP (lossless) and TIFF decode to the exact pixels', async () => {
  const rgb = noise(W * H * 3, 1);
  const raw = { raw: { width: W, height: H, channels: 3 as const } };
  for (const [format, bytes] of [
    ['png', await sharp(rgb, raw).png().toBuffer()],
    ['webp', await sharp(rgb, raw).webp({ lossless: true }).toBuffer()],
    ['tiff', await sharp(rgb, raw).tiff({ compression: 'deflate' }).toBuffer()],
    ['png', await sharp(rgb, raw).png({ progressive: true }).toBuffer()], // Adam7-interlaced
  ] as const) {
    const got = await decodeImage(bytes, {}, `x.${format}`);
    assert.deepEqual([got.format, got.sourceMode, got.width, got.height], [format, 'rgb', W, H]);
    assertRgb(got, rgb, format);
  }
});

test('AVIF decodes (format "avif"); HEIC, which the bundled libvips cannot decode, is named as unsupported', async () => {
  const flat = Buffer.alloc(W * H * 3, 100);
  const avif = await sharp(flat, { raw: { width: W, height: H, channels: 3 } }).avif().toBuffer();
  const got = await decodeImage(avif, {}, 'x.avif');
  assert.deepEqual([got.format, got.sourceMode, got.width, got.height], ['avif', 'rgb', W, H]);
  const heic = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1'), Buffer.alloc(64)]);
  const err = await rejectsWith(decodeImage(heic, {}, 'IMG_0001.HEIC'), 'unsupported');
  assert.match(err.message, /^IMG_0001\.HEIC: unsupported image format \(HEIC \(HEVC-coded HEIF\)\): convert it to/);
});

test('RGBA: alpha is dropped, transparent pixels keep their stored RGB (no compositing on white)', async () => {
  const rgba = noise(W * H * 4, 2);
  for (let i = 0; i < W * H; i += 3) rgba[i * 4 + 3] = 0;
  rgba.set([10, 20, 30, 0], 0);
  const png = await sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png().toBuffer();
  const got = await decodeImage(png);
  assert.equal(got.sourceMode, 'rgba');
  assert.deepEqual([...got.data.subarray(0, 3)], [10, 20, 30]);
  const want = Buffer.alloc(W * H * 3);
  for (let i = 0; i < W * H; i++) rgba.copy(want, i * 3, i * 4, i * 4 + 3);
  assertRgb(got, want, 'rgba');
});

test('gray and gray+alpha are replicated into R=G=B', async () => {
  const gray = noise(W * H, 3);
  const ga = noise(W * H * 2, 4);
  const grayPng = await sharp(gray, { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  const gaPng = await sharp(ga, { raw: { width: W, height: H, channels: 2 } }).toColourspace('b-w').png().toBuffer();
  const g = await decodeImage(grayPng);
  const a = await decodeImage(gaPng);
  assert.equal(g.sourceMode, 'gray');
  assert.equal(a.sourceMode, 'gray+alpha');
  for (let i = 0; i < W * H; i++) {
    assert.deepEqual([...g.data.subarray(i * 3, i * 3 + 3)], [gray[i], gray[i], gray[i]]);
    assert.deepEqual([...a.data.subarray(i * 3, i * 3 + 3)], [ga[i * 2], ga[i * 2], ga[i * 2]]);
  }
});

test('palette PNG is looked up', async () => {
  const colours = [[200, 10, 10], [10, 200, 10], [10, 10, 200], [250, 250, 0]];
  const rgb = Buffer.alloc(W * H * 3);
  for (let i = 0; i < W * H; i++) rgb.set(colours[(i * 7) % 4], i * 3);
  const png = await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png({ palette: true, colours: 4, dither: 0 }).toBuffer();
  assert.equal((await sharp(png).metadata()).isPalette, true);
  const got = await decodeImage(png);
  assert.equal(got.sourceMode, 'palette');
  assertRgb(got, rgb, 'palette');
});

test('GIF with 2 frames and animated WebP: first frame only', async () => {
  const colours = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 0, 255]];
  const frames = Buffer.alloc(W * H * 2 * 3);
  for (let i = 0; i < W * H * 2; i++) frames.set(colours[(i < W * H ? i : i * 3 + 1) % 4], i * 3);
  const raw = { raw: { width: W, height: H * 2, channels: 3 as const, pageHeight: H } };
  const gif = await sharp(frames, raw).gif({ colours: 4, dither: 0 }).toBuffer();
  const webp = await sharp(frames, raw).webp({ lossless: true }).toBuffer();
  for (const [format, bytes] of [['gif', gif], ['webp', webp]] as const) {
    assert.equal((await sharp(bytes).metadata()).pages, 2, `${format} has 2 frames`);
    const got = await decodeImage(bytes);
    assert.deepEqual([got.format, got.width, got.height], [format, W, H]);
    assertRgb(got, frames.subarray(0, W * H * 3), format);
  }
});

test('CMYK JPEG written by sharp decodes through the CMYK path', async () => {
  const rgb = noise(W * H * 3, 5);
  const jpeg = await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).toColourspace('cmyk').jpeg().toBuffer();
  const got = await decodeImage(jpeg);
  assert.deepEqual([got.format, got.sourceMode, got.width, got.height], ['jpeg', 'cmyk', W, H]);
});

test('EXIF orientation 6: ignored by default, applied (90 degrees clockwise) with exifOrientation "apply"', async () => {
  const rgb = noise(W * H * 3, 6);
  const jpeg = await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
  assert.equal((await sharp(jpeg).metadata()).orientation, 6);
  const stored = await decodeImage(jpeg);
  const byDefault = await decodeImage(jpeg, { exifOrientation: 'ignore' });
  const applied = await decodeImage(jpeg, { exifOrientation: 'apply' });
  assert.deepEqual([stored.width, stored.height], [W, H]);
  assert.deepEqual(byDefault.data, stored.data);
  assert.deepEqual([applied.width, applied.height], [H, W]);
  // Rotating the stored pixels clockwise: output (x, y) comes from stored (y, H - 1 - x).
  const want = Buffer.alloc(W * H * 3);
  for (let y = 0; y < W; y++) {
    for (let x = 0; x < H; x++) {
      const from = ((H - 1 - x) * W + y) * 3;
      stored.data.subarray(from, from + 3).forEach((v, c) => (want[(y * H + x) * 3 + c] = v));
    }
  }
  assertRgb(applied, want, 'orientation 6');
});

test('1x1 images are valid', async () => {
  const png = await sharp(Buffer.from([7, 8, 9]), { raw: { width: 1, height: 1, channels: 3 } }).png().toBuffer();
  const got = await decodeImageFile(await scratchFile('dot.png', png));
  assert.deepEqual([got.width, got.height, [...got.data]], [1, 1, [7, 8, 9]]);
});

test('shared: the pixels live on a SharedArrayBuffer and equal the unshared decode', async () => {
  for (const file of ['rgb420.jpg', 'cmyk.tif', 'palette-trns.gif', 'rgb16.png']) {
    const plain = await decodeImageFile(join(FIXTURES, file));
    const shared = await decodeImageFile(join(FIXTURES, file), { shared: true });
    assert.ok(shared.data.buffer instanceof SharedArrayBuffer, file);
    assert.equal(shared.data.byteLength, shared.width * shared.height * 3);
    assert.deepEqual(Buffer.from(shared.data), Buffer.from(plain.data), file);
  }
});

// ---- pixel limit -------------------------------------------------------------------------------------------------

test('a decompression bomb header (20000x20000 PNG of a few bytes) is refused before decoding', async () => {
  const bomb = handPng(20000, 20000, 8, 2, deflateSync(Buffer.alloc(64)));
  assert.ok(bomb.length < 200);
  const path = await scratchFile('bomb.png', bomb);
  const err = await rejectsWith(decodeImageFile(path), 'too-many-pixels');
  assert.equal(err.file, path);
  assert.match(err.message, /bomb\.png: 20000x20000 = 400,000,000 pixels is over the limit of 89,478,485/);
  assert.match(err.message, /--pixel-limit N/);
  assert.equal(DEFAULT_PIXEL_LIMIT, 89_478_485);
});

test('pixelLimit: at the limit decodes, one pixel over is refused; invalid limits are a RangeError', async () => {
  const png = await sharp(noise(W * H * 3, 7), { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
  assert.equal((await decodeImage(png, { pixelLimit: W * H })).width, W);
  await rejectsWith(decodeImage(png, { pixelLimit: W * H - 1 }, 'small.png'), 'too-many-pixels');
  assert.equal((await decodeImage(png, { pixelLimit: Infinity })).width, W);
  for (const bad of [0, -1, 1.5, NaN]) await assert.rejects(decodeImage(png, { pixelLimit: bad }), RangeError);
  await assert.rejects(decodeImage(png, { exifOrientation: 'auto' as never }), TypeError);
});

// ---- bad input ---------------------------------------------------------------------------------------------------

test('missing file', async () => {
  const path = join(scratch, 'nope.png');
  const err = await rejectsWith(decodeImageFile(path), 'missing');
  assert.equal(err.message, `${path}: file not found: check the path and the current directory`);
  await rejectsWith(readImageFile(join(scratch, 'nope-dir', 'x.png')), 'missing');
});

test('a directory', async () => {
  const dir = join(scratch, 'photos.png');
  await mkdir(dir, { recursive: true });
  const err = await rejectsWith(decodeImageFile(dir), 'directory');
  assert.match(err.message, /photos\.png: is a directory, not an image file: pass an image file/);
});

test('zero-byte file and empty buffer', async () => {
  const path = await scratchFile('empty.jpg', Buffer.alloc(0));
  const err = await rejectsWith(decodeImageFile(path), 'empty');
  assert.equal(err.message, `${path}: empty file (0 bytes): re-export or re-download it`);
  await rejectsWith(decodeImage(Buffer.alloc(0), {}, 'x.png'), 'empty');
});

test('unreadable file (permission denied)', async (t) => {
  const path = await scratchFile('secret.png', 'x');
  await chmod(path, 0o000);
  if (!isRoot()) {
    const err = await rejectsWith(readImageFile(path), 'unreadable');
    assert.match(err.message, /permission denied/);
    return;
  }
  // Root reads any file: read it as user nobody, in a child, through the same function.
  const cannot = nobodyCannotRun();
  if (cannot) return t.skip(cannot);
  await chmod(join(path, '..'), 0o755);
  const decodeModule = join(REPO_ROOT, 'dist', 'src', 'panscan', 'decode.js');
  const code = `import(${JSON.stringify(decodeModule)}).then((m) => m.readImageFile(${JSON.stringify(path)})).then(() => console.log('read'), (e) => console.log(e.name, e.reason, e.message))`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', ...asNobodyOptions() });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ImageDecodeError unreadable .*secret\.png.*permission denied/);
});

test('truncated PNG (first half of a valid one)', async () => {
  const png = await sharp(noise(200 * 150 * 3, 8), { raw: { width: 200, height: 150, channels: 3 } }).png().toBuffer();
  const path = await scratchFile('receipt.png', png.subarray(0, png.length >> 1));
  const err = await rejectsWith(decodeImageFile(path), 'truncated');
  assert.equal(err.message, `${path}: truncated PNG (the file ends early): re-export or re-download it`);
  await rejectsWith(decodeImage(png.subarray(0, 30), {}, 'head.png'), 'truncated');
});

test('truncated JPEG, GIF and WebP', async () => {
  const rgb = noise(200 * 150 * 3, 9);
  const raw = { raw: { width: 200, height: 150, channels: 3 as const } };
  const cases: Array<[string, Buffer, RegExp]> = [
    ['jpeg', await sharp(rgb, raw).jpeg().toBuffer(), /truncated JPEG/],
    ['gif', await sharp(rgb, raw).gif().toBuffer(), /truncated GIF/],
    ['webp', await sharp(rgb, raw).webp().toBuffer(), /truncated WebP/],
  ];
  for (const [name, bytes, message] of cases) {
    const err = await rejectsWith(decodeImage(bytes.subarray(0, bytes.length >> 1), {}, `cut.${name}`), 'truncated');
    assert.match(err.message, message);
  }
});

test('JPEG: a missing EOI marker is truncated (as Pillow says); damaged entropy data decodes through, as in Pillow', async () => {
  const jpeg = await sharp(noise(200 * 150 * 3, 13), { raw: { width: 200, height: 150, channels: 3 } }).jpeg().toBuffer();
  await rejectsWith(decodeImage(jpeg.subarray(0, jpeg.length - 2), {}, 'no-eoi.jpg'), 'truncated');
  const damaged = Buffer.from(jpeg);
  damaged.fill(0x55, jpeg.length >> 1, (jpeg.length >> 1) + 100); // libjpeg warns "corrupt JPEG data" and carries on
  assert.equal((await decodeImage(damaged, {}, 'damaged.jpg')).width, 200);
});

test('corrupt PNG (bad CRC in the middle) is "corrupt", not "truncated"', async () => {
  const png = Buffer.from(await sharp(noise(200 * 150 * 3, 10), { raw: { width: 200, height: 150, channels: 3 } }).png().toBuffer());
  png[png.length >> 1] ^= 0xff;
  const err = await rejectsWith(decodeImage(png, {}, 'flip.png'), 'corrupt');
  assert.match(err.message, /^flip\.png: corrupt PNG \(the decoder said: .+\): re-export or re-download it$/);
});

test('a text file named .png is not an image', async () => {
  const path = await scratchFile('notes.png', 'total: 42 EUR\nthanks\n');
  const err = await rejectsWith(decodeImageFile(path), 'not-an-image');
  assert.equal(
    err.message,
    `${path}: not an image: it is plain text, starting "total: 42 EUR", despite its .png name: pass a PNG, JPEG, WebP, TIFF, GIF or AVIF image`,
  );
  const html = await rejectsWith(decodeImage(Buffer.from('<!DOCTYPE html><html><body>404</body></html>'), {}, 'dl.jpg'), 'not-an-image');
  assert.match(html.message, /HTML page/);
  const bin = await rejectsWith(decodeImage(noise(300, 11), {}, 'blob.bin'), 'not-an-image');
  assert.match(bin.message, /unknown binary data, starting with bytes [0-9a-f ]+/);
});

test('unsupported formats are named: BMP, PPM, SVG, PSD', async () => {
  const bmp = Buffer.alloc(58);
  bmp.write('BM', 0, 'latin1');
  bmp.writeUInt32LE(58, 2);
  bmp.writeUInt32LE(54, 10);
  bmp.writeUInt32LE(40, 14);
  const cases: Array<[string, Buffer, RegExp]> = [
    ['scan.bmp', bmp, /unsupported image format \(BMP\): convert it to PNG, JPEG/],
    ['x.ppm', Buffer.concat([Buffer.from('P6\n1 1\n255\n'), Buffer.from([1, 2, 3])]), /\(PPM\/PGM\/PBM\)/],
    ['logo.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'), /\(SVG, a vector format\)/],
    ['art.psd', Buffer.from('8BPS\0\x01\0\0\0\0\0\0', 'latin1'), /\(PSD\)/],
  ];
  for (const [name, bytes, message] of cases) {
    const err = await rejectsWith(decodeImage(bytes, {}, name), 'unsupported');
    assert.ok(err.message.startsWith(`${name}: `), err.message);
    assert.match(err.message, message);
  }
});

test('errors from a buffer without a file name still read well', async () => {
  const err = await rejectsWith(decodeImage(Buffer.from('hello')), 'not-an-image');
  assert.match(err.message, /^\(image data\): not an image/);
  assert.equal(err.file, undefined);
});

// ---- the shared pan-and-scan fixture images ------------------------------------------------------------------

test('shared fixture images decode to the size and mode index.json records', async (t) => {
  const indexPath = join(SHARED_IMAGES, 'index.json');
  if (!existsSync(indexPath)) {
    t.skip(`${indexPath} not found: shared fixture images not available on this machine`);
    return;
  }
  const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { cases: Array<{ image: string; size: [number, number]; mode: string }> };
  const pilToOurs: Record<string, string> = { RGB: 'rgb', RGBA: 'rgba', L: 'gray', LA: 'gray+alpha', P: 'palette', CMYK: 'cmyk' };
  const seen = new Set<string>();
  for (const c of index.cases) {
    if (seen.has(c.image)) continue;
    seen.add(c.image);
    const got = await decodeImageFile(join(SHARED_IMAGES, c.image));
    assert.deepEqual([got.width, got.height], c.size, c.image);
    assert.equal(got.sourceMode, pilToOurs[c.mode] ?? c.mode, c.image);
    assert.equal(got.data.length, c.size[0] * c.size[1] * 3);
  }
  assert.ok(seen.size >= 5);
});
